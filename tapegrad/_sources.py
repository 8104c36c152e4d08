"""Source lines and cut marks for the debugging aids (`Tape(record_source=True)`, anomaly
mode, `tapegrad.autograd.explain`): installed in `_state.debug` and called only while an aid
asks for them, so recording pays nothing otherwise."""
import os
import sys

from ._state import debug, state
from ._tensor import _leaf
from .tape import link_view

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_line():
    """"file:line" of the innermost caller outside tapegrad (None if there is none)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    return None if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


def note_source(e, result=None):
    """`debug.on_record` while source lines are asked for: remember where `e` was recorded."""
    e.source = user_line()


def mark_cut(t, kind, op=None):
    """`debug.on_cut`: remember why tensor t has no history (`kind`: "no_grad",
    "inference_mode", "detach", "data", "cast"), by which op, and where. Returns t."""
    t._cut = (kind, op, user_line())
    return t


def unrecorded(prim, args, params, out):
    """`debug.on_unrecorded`: the op's result made under no_grad from inputs that require grad
    (wrapped as the op does), each output marked with the mode that cut it."""
    kind = "inference_mode" if state.inference else "no_grad"
    if prim.n_out != 1:
        return tuple(mark_cut(_leaf(o), kind, prim.name) for o in out)
    t = _leaf(out)
    if prim.view:
        link_view(t, prim, args, params)
    return mark_cut(t, kind, prim.name)


debug.marks = (note_source, mark_cut, unrecorded)

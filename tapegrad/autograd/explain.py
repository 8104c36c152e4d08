"""`explain(t, wrt=None)`: why a gradient is None, or why a tensor does not require grad.

It walks the recorded history of `t` and says, in one short paragraph, what cut the path:
no_grad / inference_mode, detach() / .data, a non-float (integer) result, an op with no
derivative for that input, a leaf that never required grad, `.grad` read on a non-leaf, or a
tensor replaced by an in-place op after its use. Lines of source are known only when they were
recorded (`Tape(record_source=True)` or anomaly mode).
"""
from itertools import islice

import numpy as np

from .._state import debug
from .._tensor import Tensor
from ..primitives import Primitive
from ._history import as_recorded, reachable

TURN_ON = ("Source lines are recorded only when asked: run the code again inside "
           "`with tapegrad.Tape(record_source=True):` or `tapegrad.autograd.detect_anomaly()` "
           "and call explain again")
CUTS = {
    "no_grad": "it was made by '{op}' under no_grad(), which records nothing",
    "inference_mode": "it was made by '{op}' under inference_mode(), which records nothing",
    "detach": "it was made by detach(), which shares the memory but drops the history",
    "data": "it was read through .data, which shares the memory but drops the history",
    "cast": "it is the non-float result of '{op}' (an integer cast, an index or a comparison), "
            "and only floating point tensors carry gradients",
}


def explain(t, wrt=None):
    """Say in one paragraph why a gradient is or is not set (tapegrad's own aid).

    With `wrt`, whether `t.backward()` will set `wrt.grad`; without it, whether `t`
    requires grad and whether `t.grad` will be set. When not, it names what cut the path.
    """
    for name, x in (("t", t), ("wrt", wrt)):
        if x is not None and not isinstance(x, Tensor):
            raise TypeError(f"explain: {name} must be a Tensor, got {type(x).__name__}")
    return _explain_alone(t) if wrt is None or wrt is t else _explain_path(t, wrt)


def _where(line):
    return f" (at {line})" if line else ""


def _cut_reason(x):
    """Why tensor x has no history, as far as the recorded marks know; None if unmarked."""
    mark = x.__dict__.get("_cut")
    if mark is None:
        return None
    kind, op, line = mark
    return CUTS[kind].format(op=op) + _where(line)


def _no_history(x, name):
    """The paragraph for a tensor x (called `name`) that has no history and needs one."""
    reason = _cut_reason(x)
    if reason is not None:
        return f"{name} does not require grad: {reason}."
    if x._data.dtype.kind not in "fcV":
        return (f"{name} does not require grad: its dtype is {x.dtype}, and only floating "
                "point tensors carry gradients (it comes from an integer cast, an index or a "
                "comparison).")
    text = (f"{name} does not require grad and has no history: nothing it was computed from "
            f"required grad when it was made. It is a leaf that never required grad (set "
            f"requires_grad=True when making it, or call {name}.requires_grad_()), or it was "
            "computed from values cut from their history (made under no_grad() or "
            "inference_mode(), by detach() or by .data).")
    if debug.sources:
        return text + (f" Call explain on what {name} was computed from: a value made while "
                       "source lines were on says what cut it.")
    return f"{text} {TURN_ON} to know which."


def _explain_alone(t):
    """Why t.grad is (or is not) set by a backward through t, or why t does not require grad."""
    if not t.requires_grad:
        return _no_history(t, "t")
    if t._nograd_view:
        return _nograd_view(t, "t")
    e = t._entry
    if e is None:
        return ("t is a leaf that requires grad: t.grad will be set by a backward() through "
                "any graph that uses it.")
    made = f"made by {e.name().rpartition('::')[2]}{_where(e.source)}"
    if t.retains_grad:
        return f"t is a non-leaf ({made}) that retains its grad: t.grad will be set by backward()."
    return (f"t requires grad but is not a leaf ({made}): backward() fills .grad only on "
            "leaves, so t.grad stays None. Call t.retain_grad() before backward(), or get the "
            "gradient with tapegrad.autograd.grad(loss, t).")


def _nograd_view(x, name):
    how = _cut_reason(x)
    return (f"{name} is a view made under no_grad() of a tensor that requires grad"
            f"{' (' + how + ')' if how else ''}: as in PyTorch it says requires_grad=True, but "
            "it has no history, so no gradient reaches it or flows through it. Make the view "
            "with grad mode on.")


def _explain_path(t, wrt):
    """Why the gradient of t reaches (or does not reach) wrt."""
    if not t.requires_grad:
        return (_no_history(t, "t") + " So t.backward() cannot run, and wrt gets no gradient.")
    if not wrt.requires_grad:
        return _no_history(wrt, "wrt") + " So wrt.grad stays None."
    if t._nograd_view or wrt._nograd_view:
        return _nograd_view(t if t._nograd_view else wrt, "t" if t._nograd_view else "wrt")
    root = t._entry
    if root is None:      # t is a leaf itself
        return "t is a leaf other than wrt: it was not computed from wrt, so wrt gets no gradient."
    entries = reachable([t])
    reach, diff, blocked, replaced = _search(entries, wrt, _is_target(wrt))
    if diff.get(id(root)):
        return _fine(wrt)
    if replaced is not None:
        e = replaced
        return (f"t was computed from wrt's earlier value, but wrt was then changed by an "
                f"in-place op ({wrt.grad_fn.name().rpartition('::')[2]}): wrt now stands for "
                f"its new history, not the value '{e.prim.name}'{_where(e.source)} used, and "
                "wrt.grad stays None. For the gradient of the value t used, compute t from "
                "u = wrt.clone() taken before the in-place op, or make that op out of place.")
    if reach.get(id(root)) and blocked is not None:
        return blocked
    return _unreached(entries, wrt)


def _is_target(wrt):
    """A test of whether an operand is wrt (for a non-leaf, its output of its entry)."""
    if wrt._entry is None:
        return lambda x: x is wrt
    key = (wrt._entry, wrt._index)
    return lambda x: isinstance(x, Tensor) and (x._entry, x._index) == key


def _search(entries, wrt, target):
    """Oldest first, which entries lead to wrt at all (`reach`) and through derivatives
    (`diff`); the first edge that blocks a path; the entry that used wrt's replaced value."""
    reach, diff = {}, {}
    blocked = replaced = None
    for e in entries:
        if e.inputs is None:
            continue
        if type(e.prim).vjp is Primitive.vjp:
            rules = list(islice(e.prim.rules, len(e.inputs)))    # (cat's is endless)
        else:       # its own vjp (a custom Function): only running it tells
            rules = [True] * len(e.inputs)
        for i, raw in enumerate(e.inputs):
            for y in raw if isinstance(raw, (list, tuple)) else (raw,):
                if not isinstance(y, Tensor):
                    continue
                x = as_recorded(y, e.seq)
                if y is wrt and x is not y and not target(x):
                    replaced = replaced or e
                leads = target(x) or reach.get(id(x._entry), False)
                if not leads:
                    continue
                reach[id(e)] = True
                rule = rules[i] if i < len(rules) else None
                ok = x._requires_grad and x._requires_grad_since < e.seq
                if rule is not None and ok and (target(x) or diff.get(id(x._entry))):
                    diff[id(e)] = True
                elif blocked is None:
                    blocked = _blocked_text(e, i, x, rule, ok)
    return reach, diff, blocked, replaced


def _blocked_text(e, i, x, rule, ok):
    node = f"'{e.prim.name}' ({e.name().rpartition('::')[2]}){_where(e.source)}"
    if rule is None:
        return (f"The path from t to wrt goes through {node}, which has no derivative for its "
                f"input {i} (an index, a mask or a non-differentiable argument), so no "
                "gradient flows back through it to wrt.")
    if x._requires_grad_since >= e.seq:
        return (f"wrt started requiring grad after {node} read it: ops recorded before "
                "requires_grad_() send it no gradient. Call requires_grad_() before computing t.")
    return (f"The path from t to wrt is cut at {node}: its input {i} did not require grad "
            "when it was recorded.")


def _fine(wrt):
    if wrt._entry is not None and not wrt.retains_grad:
        return ("t depends on wrt through recorded ops, but wrt is not a leaf: backward() "
                "fills .grad only on leaves, so wrt.grad stays None. Call wrt.retain_grad() "
                "before backward(), or use tapegrad.autograd.grad(t, wrt).")
    return ("The path is fine: wrt.grad will be set by t.backward() (t depends on wrt through "
            "recorded ops with derivatives).")


def _tensor_inputs(e):
    """The tensors among e's inputs (a joined sequence's members too), as e holds them."""
    for raw in e.inputs or ():
        for y in raw if isinstance(raw, (list, tuple)) else (raw,):
            if isinstance(y, Tensor):
                yield y


def _unreached(entries, wrt):
    """t's graph never reads wrt: say what in it looks like wrt cut from its history."""
    released = [e for e in entries if e.inputs is None]
    for e in entries:
        for y in _tensor_inputs(e):
            if y._entry is not None or not np.may_share_memory(y._data, wrt._data):
                continue
            if y._nograd_view:
                return (f"t was computed, in '{e.prim.name}'{_where(e.source)}, from a view of "
                        "wrt made under no_grad(): it has no history, so no gradient flows "
                        "through it to wrt. Make the view with grad mode on.")
            if not y._requires_grad:
                how = _cut_reason(y) or \
                    f"it was made by detach() or .data ({TURN_ON} to know which)"
                return (f"t was computed from a tensor that shares wrt's memory but not its "
                        f"history, read by '{e.prim.name}'{_where(e.source)}: {how}. So wrt "
                        "gets no gradient.")
    for e in entries:
        for y in _tensor_inputs(e):
            reason = _cut_reason(y)
            if reason is not None and y.__dict__["_cut"][0] != "cast":
                return (f"t's graph reads, in '{e.prim.name}'{_where(e.source)}, a tensor cut "
                        f"from its history: {reason}. If wrt was its source, that is where the "
                        "path ends.")
    if released:
        return (f"Part of t's graph was freed by an earlier backward ({len(released)} entries, "
                f"e.g. {released[-1].name().rpartition('::')[2]}), so the path to wrt cannot "
                "be followed; pass retain_graph=True to the first backward.")
    text = ("t was not computed from wrt: no recorded op on t's path reads it. Check that t "
            "uses this very tensor (not a copy made with tensor(), clone() under no_grad, "
            "or .numpy())")
    return text + ("." if debug.sources else f". {TURN_ON} to see where each value was made.")

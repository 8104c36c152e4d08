"""Anomaly mode (torch.autograd.detect_anomaly / set_detect_anomaly), naming the first bad entry.

While it is on, every entry remembers the user's source line that recorded it; forward
remembers the first entry, in forward order, whose output became NaN or inf while its inputs
were finite; backward checks each VJP rule's results and raises at the first that are NaN or
inf, naming the rule (as PyTorch does), the line that recorded its entry, and that first bad
forward entry, which PyTorch cannot name. It is global, as PyTorch's, and slows every op.
"""
import functools
import warnings
import weakref

import numpy as np

from .._state import debug, profiling
from .._tensor import Tensor
from .._sources import user_line
from ._history import operands


class _Mode:
    """Whether anomaly mode is on, whether it checks for NaN, and the first bad forward entry."""

    enabled = False
    check_nan = True
    first_bad = None        # (weak reference to the entry, its description)


_mode = _Mode()


def is_anomaly_enabled():
    """Whether anomaly mode is on (torch.is_anomaly_enabled)."""
    return _mode.enabled


def is_anomaly_check_nan_enabled():
    """Whether anomaly mode checks backward results for NaN (torch.is_anomaly_check_nan_enabled)."""
    return _mode.enabled and _mode.check_nan


def _set(enabled, check_nan):
    was = _mode.enabled
    _mode.enabled, _mode.check_nan = bool(enabled), bool(check_nan)
    debug.check = _check_forward if enabled else None
    debug.vjp = _checked_vjp if enabled and check_nan else None
    if enabled != was:
        _mode.first_bad = None
        debug.request_sources(1 if enabled else -1)     # (also points the hooks at the check)
    else:
        debug.refresh()


class detect_anomaly:
    """Context manager and decorator that turns anomaly mode on, as torch.autograd.detect_anomaly.

    With `check_nan=False` it records source lines but checks no values.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self._prev = []

    def __enter__(self):
        self._prev.append((_mode.enabled, _mode.check_nan))
        _set(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _set(*self._prev.pop())
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapped


class set_detect_anomaly:
    """Turn anomaly mode on or off now, as torch.autograd.set_detect_anomaly.

    `mode` turns it on or off; `check_nan` says whether backward checks for NaN and inf.
    Used as a context manager, the previous mode comes back on exit.
    """

    def __init__(self, mode, check_nan=True):
        self._prev = (_mode.enabled, _mode.check_nan)
        _set(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False


def first_nonfinite():
    """The description of the first entry whose output became NaN/inf from finite inputs while
    anomaly mode was on (and is still alive), or None."""
    bad = _mode.first_bad
    return bad[1] if bad is not None and bad[0]() is not None else None


def _finite(a):
    if a.dtype.kind not in "fcV":       # (V: bfloat16) integers and booleans are finite
        return True
    try:
        return bool(np.isfinite(a).all())
    except TypeError:
        return True


def _check_forward(e, result):
    """`debug.on_record` in anomaly mode: note the source line; remember the first entry whose
    output went non-finite from finite inputs (unless the one remembered is still alive)."""
    e.source = user_line()
    if not _mode.check_nan or first_nonfinite() is not None:
        return
    if all(_finite(o) for o in e.out):
        return
    found = operands(e)
    arrays = [x._data if isinstance(x, Tensor) else x for _, x in found]
    if all(_finite(a) for a in arrays):
        _mode.first_bad = (weakref.ref(e), _describe(e, found, arrays))


def _describe(e, found, arrays):
    ranges = "; ".join(f"input {i} {tuple(a.shape)} {a.dtype} in [{_range(a)}]"
                       for (i, _), a in zip(found, arrays))
    where = e.source or "an unknown line"
    return f"'{e.prim.name}' ({e.name().rpartition('::')[2]}) at {where}, from {ranges}"


def _range(a):
    if a.size == 0 or a.dtype.kind not in "fiuV":
        return "-"
    return f"{a.min():.6g}, {a.max():.6g}"


def _checked_vjp(prim, e, gs, raw):
    """`debug.vjp` in anomaly mode: run the rules (timed if a profiler runs) and raise at the
    first cotangent that is NaN or inf."""
    run = profiling.vjp
    try:
        grads = prim.vjp(e, gs, raw) if run is None else run(prim, e, gs, raw)
    except Exception:
        # as PyTorch, say which forward call made the entry whose rule failed
        warnings.warn(f"Error detected in {e.name().rpartition('::')[2]}. Its entry was "
                      f"recorded by '{e.prim.name}' at {e.source or 'an unknown line'}.",
                      stacklevel=2)
        raise
    for i, g in enumerate(grads):
        if g is None:
            continue
        a = g._data if isinstance(g, Tensor) else np.asarray(g)
        if not _finite(a):
            raise RuntimeError(_message(e, i, "nan" if np.isnan(a).any() else "inf"))
    return grads


def _message(e, i, what):
    node = e.name().rpartition("::")[2]
    text = f"Function '{node}' returned {what} values in its {i}th output."
    if e.source:
        text += f" Its entry was recorded by '{e.prim.name}' at {e.source}."
    else:
        text += (f" The line that recorded its entry ('{e.prim.name}') is unknown: the graph "
                 "was built before anomaly mode was turned on.")
    bad = first_nonfinite()
    if bad is not None:
        text += (" The first forward entry whose output became nan or inf from finite "
                 f"inputs: {bad}.")
    else:
        text += " No forward entry recorded in anomaly mode made nan or inf from finite inputs."
    return text

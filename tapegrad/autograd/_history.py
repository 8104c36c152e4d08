"""Walking a tensor's recorded history: what the drawing, `explain` and the memory report read.

An entry holds its input tensors themselves; if one of them later took a new history (an
in-place op, a regenerated view), its state when the entry recorded it is in `Entry.prev`, as
the engine's replay reads it.
"""
import numpy as np

from .._tensor import Tensor

ndarray = np.ndarray


def as_recorded(x, seq):
    """Tensor x as it was when an entry recorded at clock tick `seq` used it."""
    e = x._entry
    while e is not None and e.seq >= seq and e.prev is not None and x._index in e.prev:
        x = e.prev[x._index]
        e = x._entry
    return x


def operands(e):
    """The tensors and arrays among entry e's inputs, with their input positions (a joined
    sequence, as cat's, gives each of its members the sequence's position)."""
    found = []
    for i, x in enumerate(e.inputs or ()):
        for y in x if isinstance(x, (list, tuple)) else (x,):
            if isinstance(y, Tensor):
                found.append((i, as_recorded(y, e.seq)))
            elif isinstance(y, ndarray):
                found.append((i, y))
    return found


def reachable(roots):
    """The entries the tensors `roots` were computed through, oldest first."""
    seen = {}
    stack = [t._entry for t in roots if isinstance(t, Tensor) and t._entry is not None]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen[id(e)] = e
        for _, x in operands(e):
            if isinstance(x, Tensor) and x._entry is not None and id(x._entry) not in seen:
                stack.append(x._entry)
    return sorted(seen.values(), key=lambda e: e.seq)


def owner(a):
    """The array whose memory `a` lies in (following views to their base)."""
    while isinstance(a.base, ndarray):
        a = a.base
    return a


def saved_arrays(e):
    """The arrays entry e keeps for its rules (those `prim.read_by(e)` names; -1: outputs);
    none once a backward released them."""
    if e.inputs is None:
        return []
    # a custom Function keeps what its forward passed to ctx.save_for_backward
    ctx = getattr(e.prim, "ctx", None)
    arrays = [t._data for t in getattr(ctx, "_saved", None) or () if isinstance(t, Tensor)]
    for i in sorted(e.prim.read_by(e)):
        if i < 0:
            arrays += [o for o in e.out or () if o is not None]
            continue
        x = e.inputs[i]
        for y in x if isinstance(x, (list, tuple)) else (x,):
            if isinstance(y, Tensor):
                arrays.append(y._data)
            elif isinstance(y, ndarray):
                arrays.append(y)
    return arrays


def saved_buffers(e):
    """{id: owning array} of the memory e keeps alive for backward, each buffer once."""
    return {id(b): b for b in map(owner, saved_arrays(e))}


def human(n):
    """A byte count for people: 0 B, 512 B, 2.5 KiB, 3.0 MiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024

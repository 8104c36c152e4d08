"""What a graph keeps alive for backward: `memory_report(t)` and `Tape.memory()`.

Each entry keeps the inputs and outputs its rules will read (`Primitive.read_by`); a saved
view keeps its whole base alive, so memory is counted by owning buffer, each buffer once in
the total however many entries save it.
"""
from collections import namedtuple

from .._tensor import Tensor
from ..tape import Tape, namer
from ._history import human, owner, reachable, saved_buffers

Row = namedtuple("Row", "name op shape dtype bytes leaf_bytes source")
Row.__doc__ = """One entry of a memory report: its name in the Wengert list (t0, t1...), its
node name (MulBackward0), its output's shape and dtype, the bytes it saves for backward,
how many of those are leaves' own memory (alive anyway), and its source line if recorded."""


class MemoryReport:
    """Bytes saved for backward, per entry (`entries`, oldest first) and in `total` (each
    buffer once); `leaf_bytes` of the total are leaves' own memory, kept alive anyway."""

    def __init__(self, entries, params=None):
        name_of = namer(entries, params)
        leaves = _leaf_buffers(entries)
        self.entries = []
        buffers = {}
        self.released = 0
        for e in entries:
            saved = saved_buffers(e)
            buffers.update(saved)
            self.released += e.inputs is None
            out = e.out[0] if e.out and e.out[0] is not None else None
            self.entries.append(Row(
                name_of(e), e.name().rpartition("::")[2],
                None if out is None else tuple(out.shape), None if out is None else out.dtype,
                sum(b.nbytes for b in saved.values()),
                sum(b.nbytes for k, b in saved.items() if k in leaves), e.source))
        self.total = sum(b.nbytes for b in buffers.values())
        self.leaf_bytes = sum(b.nbytes for k, b in buffers.items() if k in leaves)
        self.buffers = len(buffers)

    def top(self, n=5):
        """The `n` entries that save the most, largest first."""
        return sorted(self.entries, key=lambda r: -r.bytes)[:n]

    def __str__(self):
        lines = [f"{human(self.total)} saved for backward by {len(self.entries)} entries "
                 f"({self.buffers} buffers, each counted once; {human(self.leaf_bytes)} of it "
                 "is leaves' own memory, alive anyway)"]
        for r in self.top():
            if r.bytes:
                where = f"  @ {r.source}" if r.source else ""
                lines.append(f"  {r.name:>6} {r.op:<24} {str(r.shape):<16} "
                             f"{human(r.bytes):>10}{where}")
        if self.released:
            lines.append(f"{self.released} entries were already released by a backward "
                         "(they save nothing now)")
        freed = human(self.total - self.leaf_bytes)
        lines.append(f"Under no_grad() (or inference_mode()) none of it would be saved: "
                     f"{freed} fewer. A backward() without retain_graph releases it as it goes; "
                     "retain_graph=True keeps it until the outputs die.")
        return "\n".join(lines)

    __repr__ = __str__


def _leaf_buffers(entries):
    """ids of the buffers of the leaves that require grad (parameters) the entries read: their
    memory is alive anyway, unlike a constant made only to be read by one op."""
    leaves = set()
    for e in entries:
        for x in e.inputs or ():
            for y in x if isinstance(x, (list, tuple)) else (x,):
                if isinstance(y, Tensor) and y._entry is None and y._requires_grad:
                    leaves.add(id(owner(y._data)))
    return leaves


def memory_report(t, params=None):
    """The memory a graph keeps for backward, as a `MemoryReport` (tapegrad's own aid).

    `t` is a tensor (its graph), a sequence of tensors, or a Tape (everything on it);
    `params` (name -> tensor, e.g. `dict(model.named_parameters())`) names the leaves as
    in the drawing.
    """
    if isinstance(t, Tape):
        return MemoryReport(t.entries(), params)
    if isinstance(t, Tensor):
        return MemoryReport(reachable([t]), params)
    if isinstance(t, (list, tuple)) and all(isinstance(x, Tensor) for x in t):
        return MemoryReport(reachable(t), params)
    raise TypeError(f"memory_report: expected a Tensor, a sequence of Tensors or a Tape, got "
                    f"{type(t).__name__}")

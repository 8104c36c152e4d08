"""The gradient tape: scoped tapes, entries, recording, version counters and views.

A forward op on tensors that require grad appends one `Entry` to every active tape (`record`).
The entry holds the op's inputs strongly and is held by its outputs (their `grad_fn`); tapes
hold entries weakly, so an entry whose outputs all died is freed by reference counting, and
with it, in cascade, everything it kept alive. `engine.py` replays a tape in reverse.
"""
import weakref
from bisect import bisect_right

import numpy as np

from ._state import FRESH, VersionCounter, debug, own_counter, state, writes, tick
from ._tensor import Tensor, _leaf, _new
from .dtypes import is_floating

ndarray = np.ndarray
_weakref = weakref.ref


class Tape:
    """A Wengert list: entries in the order they were recorded.

    `with Tape() as tape:` records the ops run inside the block onto `tape` (and onto every
    enclosing tape); `tape.gradient(target, sources)` differentiates through them.

    Args:
        persistent: if True, `gradient` may be called more than once (the entries keep what
            they saved); by default a second call fails, as a second backward does.
        record_source: if True, each entry recorded while this tape is active remembers the
            user's `file:line` that ran it (`entry.source`), for `print(tape)`, drawings,
            `tapegrad.autograd.explain` and anomaly messages; it costs a frame walk per op.
    """

    def __init__(self, persistent=False, record_source=False):
        self.record_source = bool(record_source)
        self._refs = []          # weak references to entries, oldest first
        self._seqs = []          # their clock ticks, to find where a replay starts
        self._limit = 1024       # look for dead references when the list grows past this
        self.persistent = persistent
        self._used = False

    def _sweep(self):
        """Drop dead references when a sample shows many of them; else look again later.

        Sampling keeps the cost low, and what triggers compaction is how many entries died,
        not the largest graph this tape has seen.
        """
        refs = self._refs
        n = len(refs)
        step = max(1, n // 32)
        dead = sum(refs[k]() is None for k in range(0, n, step))
        if dead * step * 4 >= n:
            self._compact()
        self._limit = len(self._refs) + max(1024, len(self._refs) // 8)

    def _compact(self):
        live = [(r, s) for r, s in zip(self._refs, self._seqs) if r() is not None]
        self._refs = [r for r, _ in live]
        self._seqs = [s for _, s in live]

    def _stop(self, seq):
        """Index just past the last entry recorded no later than `seq`."""
        return bisect_right(self._seqs, seq)

    def entries(self, upto=None):
        """Live entries, oldest first; with `upto`, only those recorded no later than it.

        Having looked at every reference anyway, it drops the dead ones when they are most
        of the list, so that repeated calls (a Hessian's many grads) stay cheap.
        """
        refs = self._refs if upto is None else self._refs[:self._stop(upto)]
        live = [e for e in (r() for r in refs) if e is not None]
        if len(refs) > 64 and 2 * len(live) < len(refs):
            self._compact()
        return live

    def __len__(self):
        self._compact()
        return len(self._refs)

    def __iter__(self):
        return iter(self.entries())

    def __enter__(self):
        if self in state.tapes:
            raise RuntimeError("Tape: this tape is already recording")
        self._below = state.tapes or thread_tapes()
        state.tapes = self._below + (self,)
        if self.record_source:
            debug.request_sources(1)
        return self

    def __exit__(self, *exc):
        # One assignment with no call before it: a Ctrl-C cannot land between the check and
        # the restore and leave this tape recording for good.
        state.tapes = self._below
        if self.record_source:
            debug.request_sources(-1)
        return False

    def __repr__(self):
        return self.describe()

    def describe(self, params=None):
        """The Wengert list as text, one line per entry (what `print(tape)` shows).

        Entries are numbered t0, t1... in order; leaves are named by `params` (name ->
        tensor, e.g. `dict(model.named_parameters())`), else x0, x1...; tensors made before
        the tape started are c0, c1...; constants show as `const(shape) dtype`; an entry
        recorded with source lines on ends with `@ file:line`.
        """
        entries = self.entries()
        name_of = namer(entries, params)
        lines = [e.describe(name_of) + (f"  @ {e.source}" if e.source else "")
                 for e in entries]
        return "\n".join(lines) if lines else "<empty tape>"


def namer(entries, params=None):
    """The naming that `print(tape)` and drawings share: a function of an entry or a tensor.

    Entries are t0, t1... by position in `entries` (a multi-output one's outputs t3.0, t3.1);
    leaves that require grad are named by `params` or x0, x1...; other tensors made outside
    `entries` are c0, c1...; a tensor that neither requires grad nor has a history is a
    constant, `const(shape) dtype`.
    """
    pos = {id(e): k for k, e in enumerate(entries)}
    given = {id(t): name for name, t in (params or {}).items()}
    names = {}

    def name_of(obj):
        if isinstance(obj, Entry):
            return f"t{pos[id(obj)]}"
        e = obj._entry
        if e is not None and id(e) in pos:
            return f"t{pos[id(e)]}" + (f".{obj._index}" if e.n_out > 1 else "")
        if id(obj) in given:
            return given[id(obj)]
        if e is None and not obj._requires_grad:
            return const_name(obj._data)
        kind = "x" if e is None else "c"
        if id(obj) not in names:
            names[id(obj)] = f"{kind}{sum(v[0] == kind for v in names.values())}"
        return names[id(obj)]
    return name_of


def const_name(a):
    """How a value that is not differentiated (a plain array or tensor) is shown."""
    return f"const{tuple(a.shape)} {a.dtype}"


def thread_tapes():
    """The tape stack of the current thread, starting it (with the thread's own tape) if this
    thread has not recorded yet."""
    if not state.tapes:
        state.tapes = (Tape(),)
    return state.tapes


def global_tape():
    """The tape of the current thread (the base of its tape stack)."""
    return (state.tapes or thread_tapes())[0]


class Entry:
    """One recorded primitive application: what backward needs to run the op's VJP.

    Also serves as the output tensors' `grad_fn` (`name()` gives PyTorch's `MulBackward0`).
    """

    # rare attributes default to the class attributes below (see Tensor)
    __slots__ = ("prim", "inputs", "params", "out", "n_out", "seq", "owner", "__dict__",
                 "__weakref__")
    hooks = None        # output index -> hooks on that output's gradient ({} for retain_grad)
    retained = None     # output index -> weak reference to a tensor that retains its grad
    out_counters = None     # version counter(s) of the outputs, for rules that read `out`
    # When an output of this entry replaced the history of an existing tensor (an in-place
    # op, a view regenerated after its base changed, a Function's dirty input), `prev` maps
    # that output's index to a snapshot of the tensor's earlier state: consumers recorded
    # before the change route their gradient there.
    prev = None
    source = None       # "file:line" of the user's code that recorded it, when asked for

    def name(self):
        prim = self.prim
        if prim.grad_fn_for is not None and self.inputs is not None:
            return prim.grad_fn_for(self)
        return prim.grad_fn_name     # (also once released: what it named is gone)

    def __repr__(self):
        return f"<{self.name().rpartition('::')[2]} object at {id(self):#x}>"   # CopySlices

    @property
    def next_functions(self):
        """(node, output index) per input, as PyTorch's: the entry that made it, the leaf's
        `AccumulateGrad` node if it requires grad, else None."""
        return tuple((t._entry, t._index) if isinstance(t, Tensor) and t._entry is not None
                     else (accumulator(t), 0) if isinstance(t, Tensor) and t._requires_grad
                     else (None, 0) for t in (self.inputs or ()))

    def describe(self, name_of=None):
        """One line of the Wengert list: `t7 = mul(t3, t5)  # (64, 10) float32`."""
        name_of = name_of or (lambda t: f"t{t._entry.seq}" if t._entry else f"x{id(t) % 1000}")
        lhs = ", ".join(f"{name_of(self)}" + (f".{i}" if self.n_out > 1 else "")
                        for i in range(self.n_out))
        args = [name_of(x) if isinstance(x, Tensor) else
                const_name(x) if isinstance(x, ndarray) else repr(x)
                for x in (self.inputs or ())]
        args += [f"{k}={v!r}" for k, v in (self.params or {}).items()]
        info = "; ".join(f"{tuple(o.shape)} {o.dtype}" for o in self.out) \
            if self.out and self.out[0] is not None else "released"
        return f"{lhs} = {self.prim.name}({', '.join(args)})  # {info}"


class AccumulateGrad:
    """The node `next_functions` shows for a leaf that requires grad (PyTorch's node that
    writes `.grad`); `variable` is the leaf."""

    __slots__ = ("variable", "__weakref__")
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


def accumulator(leaf):
    """The leaf's AccumulateGrad node: the same object while anyone holds it (the leaf keeps
    only a weak reference, so no cycle)."""
    ref = leaf.__dict__.get("_accumulator")
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._accumulator = _weakref(node)
    return node


def bump_version(t):
    """Mark t's data as modified in place now: entries recorded before this that read it fail."""
    counter = own_counter(t)
    counter.version += 1
    counter.written = writes.last = tick()


def _owner(a):
    b = a.base
    return a if b is None else b


def link_view(t, prim, args, params):
    """Make t, the output of view op `prim` on args[0], a view of that tensor's base.

    A view shares its base's version counter and remembers how to take itself from the base
    (`_view`, a chain of view ops). A recorded write to the base or to any of its views bumps
    the family's generation; a view of an older generation takes its history again from the
    base when it is next used (`_tensor.fresh`), as PyTorch regenerates a view's grad_fn.
    """
    x = args[0]
    a, xa = t._data, x._data
    if _owner(a) is not _owner(xa) and not np.may_share_memory(a, xa):
        return      # reshape had to copy: a new tensor, not a view
    counter = t._counter = own_counter(x)
    counter.views = True
    if counter.generation:
        t._generation = counter.generation
    step = (prim.op, args[1:], params)
    root = x._base
    if root is None:
        root, chain = x, (step,)
    else:
        chain = x._view + (step,)
    t._base = root
    t._view = chain
    if x._nograd_view or not state.grad_enabled:
        # as in torch: it says it requires grad when its base does, has no history, and
        # gets no gradient (backward through it runs, and stops there)
        t._nograd_view = True
        t._requires_grad = x._requires_grad


def record(prim, args, params, out):
    """Append an entry for `prim(*args)` to the active tapes and wrap its outputs.

    Outputs that are not floating point (integer casts, indices) never require grad.
    """
    n = prim.n_out
    if n == 1:
        if type(out) is not ndarray:
            out = np.asarray(out)
        if out.dtype.kind not in "fc" and not is_floating(out.dtype):    # (bfloat16: 'V')
            t = _leaf(out)
            if prim.view:
                link_view(t, prim, args, params)
            if debug.on_cut is not None:
                debug.on_cut(t, "cast", prim.name)
            return t
    e = _new(Entry)
    e.prim = prim
    e.inputs = args
    e.params = params
    seq = e.seq = tick()
    e.n_out = n
    tapes = state.tapes or thread_tapes()
    e.owner = tapes[0]
    if n == 1:
        result = t = _new(Tensor)
        t._data = out
        t._base = None
        e.out = (out,)
        t._requires_grad = True
        t._entry = e
        t._counter = VersionCounter() if prim.uses_out else FRESH
        if prim.view:
            link_view(t, prim, args, params)      # (a view shares its base's counter)
        if prim.uses_out:     # the entry must see later writes to the output its rules read
            e.out_counters = t._counter
    else:
        e.out = tuple(o if type(o) is ndarray else np.asarray(o) for o in out)
        result = []
        for i, o in enumerate(e.out):
            t = _leaf(o)
            if o.dtype.kind in "fc" or is_floating(o.dtype):
                t._requires_grad = True
                t._entry = e
                t._index = i
            result.append(t)
        result = tuple(result)
        if prim.uses_out:
            read = range(n) if prim.uses_out is True else prim.uses_out
            e.out_counters = tuple(own_counter(result[i]) for i in read)
    for tape in tapes:
        refs = tape._refs
        refs.append(_weakref(e))
        tape._seqs.append(seq)
        if len(refs) > tape._limit:
            tape._sweep()
    if debug.on_record is not None:
        debug.on_record(e, result)
    return result

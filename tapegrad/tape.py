"""The gradient tape: thread-local recording state, primitives, entries and scoped tapes.

A forward op on tensors that require grad appends one `Entry` to every active tape. The entry
holds the op's inputs strongly and is held by its outputs (their `grad_fn`); tapes hold entries
weakly, so an entry whose outputs all died is freed by reference counting, and with it, in
cascade, everything it kept alive. `engine.py` replays the tape in reverse.
"""
import itertools
import threading
import weakref
from bisect import bisect_right

import numpy as np

ndarray = np.ndarray


class _ThreadState(threading.local):
    """Per-thread grad mode and the stack of tapes that record (the thread's global tape first)."""

    def __init__(self):
        self.grad_enabled = True
        self.inference = False
        self.tapes = (Tape(),)


class Tape:
    """A Wengert list: entries in the order they were recorded.

    `with Tape() as tape:` records the ops run inside the block onto `tape` (and onto every
    enclosing tape); `tape.gradient(target, sources)` differentiates through them.
    """

    def __init__(self, persistent=False):
        self._refs = []          # weak references to entries, oldest first
        self._seqs = []          # their sequence numbers, to find where a replay starts
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
        st = _state
        if self in st.tapes:
            raise RuntimeError("Tape: this tape is already recording")
        self._below = st.tapes
        st.tapes = st.tapes + (self,)
        return self

    def __exit__(self, *exc):
        # One assignment with no call before it: a Ctrl-C cannot land between the check and
        # the restore and leave this tape recording for good.
        _state.tapes = self._below
        return False

    def gradient(self, target, sources, output_gradients=None):
        """d(target)/d(sources) through the entries on this tape (like TF's GradientTape.gradient).

        Called while an enclosing tape records, the computation is itself recorded, so the
        enclosing tape can differentiate the result again (higher-order derivatives).
        """
        from .engine import grad_through
        if self._used and not self.persistent:
            raise RuntimeError("Tape.gradient: a non-persistent tape can only be used once; "
                               "create it with Tape(persistent=True) to call gradient() again")
        self._used = True
        single = not isinstance(sources, (list, tuple))
        srcs = [sources] if single else list(sources)
        recording = any(t is not self for t in _state.tapes[1:])
        grads = grad_through(self, [target], srcs, output_gradients,
                             retain=self.persistent or recording, create_graph=recording)
        return grads[0] if single else grads

    def __repr__(self):
        """The Wengert list: entries numbered t0, t1... in order; leaves x0, x1...; tensors
        made before the tape started c0, c1..."""
        entries = self.entries()
        pos = {id(e): k for k, e in enumerate(entries)}
        names = {}

        def name_of(obj):
            if isinstance(obj, Entry):
                return f"t{pos[id(obj)]}"
            e = obj._entry
            if e is not None and id(e) in pos:
                return f"t{pos[id(e)]}" + (f".{obj._index}" if e.n_out > 1 else "")
            kind = "x" if e is None else "c"
            if id(obj) not in names:
                names[id(obj)] = f"{kind}{sum(v[0] == kind for v in names.values())}"
            return names[id(obj)]
        lines = [e.describe(name_of) for e in entries]
        return "\n".join(lines) if lines else "<empty tape>"


def global_tape():
    """The tape of the current thread (the base of its tape stack)."""
    return _state.tapes[0]


_state = _ThreadState()
# leaves with gradient hooks: while there are any, a backward finishes each leaf as soon as
# its gradient is final (so hooks see it early, as in PyTorch); otherwise all at the end
hooked_leaves = weakref.WeakSet()
# Global clock: orders entries across tapes and threads. `next` on itertools.count is atomic
# under the GIL, so two threads never get the same or a decreasing number.
_next_seq = itertools.count(1).__next__
_last_write = [0]   # clock at the latest in-place write: entries recorded after it need no check


class Entry:
    """One recorded primitive application: what backward needs to run the op's VJP.

    Also serves as the output tensors' `grad_fn` (`name()` gives PyTorch's `MulBackward0`).
    """

    # rare attributes default to the class attributes below (see Tensor)
    __slots__ = ("prim", "inputs", "params", "out", "n_out", "seq", "owner", "__dict__",
                 "__weakref__")
    hooks = None        # output index -> hooks on that output's gradient ({} for retain_grad)
    retained = None     # output index -> weak reference to a tensor that retains its grad
    out_vc = None       # version counter(s) of the outputs, for rules that read `out`
    # When an output of this entry replaced the history of an existing tensor (an in-place
    # op, a view regenerated after its base changed, a Function's dirty input), `prev` maps
    # that output's index to a snapshot of the tensor's earlier state: consumers recorded
    # before the change route their gradient there.
    prev = None

    def name(self):
        return self.prim.grad_fn_name

    def __repr__(self):
        return f"<{self.prim.grad_fn_name} object at {id(self):#x}>"

    @property
    def next_functions(self):
        return tuple((t._entry, t._index) if isinstance(t, Tensor) else (None, 0)
                     for t in (self.inputs or ()))

    def describe(self, name_of=None):
        """One line of the Wengert list: `t7 = mul(t3, t5)  # (64, 10) float32`."""
        name_of = name_of or (lambda t: f"t{t._entry.seq}" if t._entry else f"x{id(t) % 1000}")
        lhs = ", ".join(f"{name_of(self)}" + (f".{i}" if self.n_out > 1 else "")
                        for i in range(self.n_out))
        args = [name_of(x) if isinstance(x, Tensor) else
                f"array{list(x.shape)}" if isinstance(x, ndarray) else repr(x)
                for x in (self.inputs or ())]
        args += [f"{k}={v!r}" for k, v in (self.params or {}).items()]
        info = "; ".join(f"{tuple(o.shape)} {o.dtype}" for o in self.out) \
            if self.out and self.out[0] is not None else "released"
        return f"{lhs} = {self.prim.name}({', '.join(args)})  # {info}"


REGISTRY = {}   # name -> Primitive: every op tapegrad knows how to differentiate


class Primitive:
    """An op tapegrad differentiates: a NumPy forward and one VJP rule per differentiable input.

    Rules are called as `rule(g, out, *inputs, **params)` with tapegrad tensors, so they are
    themselves recorded when `create_graph=True`. `uses_out` ops' rules read `out` (True, or
    for multi-output ops the indices of the outputs they read: only those are checked for
    in-place changes). `reads_inputs=False` declares rules that never read their inputs' values
    (the default for `linear` ops): in-place changes to the inputs are then harmless, and an
    in-place form of the op need not keep the old value. `defvjp(..., reads=...)` says more
    precisely which inputs each rule reads (PyTorch saves `other` only for `self`'s gradient).
    """

    reads = None     # per input: indices of the inputs its rule reads, -1 for the outputs

    def __init__(self, name, forward, n_out=1, linear=False, uses_out=False, view=False,
                 raw=False, reads_inputs=None):
        self.name = name
        self.raw = raw
        self.forward = forward
        self.rules = ()
        self.n_out = n_out
        self.reads_inputs = not linear if reads_inputs is None else reads_inputs
        self.uses_out = uses_out
        # whether every recording keeps values for backward (then a second backward must fail)
        self.saves = self.reads_inputs or bool(uses_out)
        self.view = view
        self.grad_fn_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        REGISTRY[name] = self

    def __repr__(self):
        return f"<tapegrad primitive {self.name}>"

    def read_by(self, entry):
        """What the rules that will run for `entry` read: input indices, and -1 for outputs."""
        reads = self.reads
        if reads is None:
            got = set(range(len(entry.inputs))) if self.reads_inputs else set()
            if self.uses_out:
                got.add(-1)
            return got
        got = set()
        seq = entry.seq
        for x, r in zip(entry.inputs, reads):
            if isinstance(x, Tensor) and x._rg and x._rg_since < seq:   # required grad then
                got.update(r)
        return got

    def release(self, entry):
        """Drop what `entry` saved for backward (after a replay without retain_graph).

        An entry whose rules read no value (add, sum, reshape...) saved nothing: it keeps its
        routes to its inputs, so a second backward through it works, as in PyTorch.
        """
        inputs = entry.inputs
        if inputs is None:
            return
        if self.saves or self.reads is not None and self.read_by(entry):
            entry.inputs = entry.out = None
            return
        entry.out = _NO_OUT if self.n_out == 1 else (None,) * self.n_out   # unread now
        for x in inputs:
            if isinstance(x, Tensor) and x._data.nbytes > 65536 and x._entry is not None:
                # large inputs become shape-only stand-ins: memory is not kept for routes
                entry.inputs = tuple(_stand_in(x) if isinstance(x, Tensor) and x._entry
                                     is not None else x for x in inputs)
                return

    def vjp(self, entry, gs):
        """Input cotangents (None where not needed) given the outputs' cotangents `gs`."""
        inputs = entry.inputs
        out = entry.out
        if self.n_out == 1:
            g = gs[0]
            out = _restore(entry, 0) if self.uses_out else None
        else:
            g = tuple(gs)
            out = tuple(_restore(entry, i) for i in range(self.n_out)) if self.uses_out else None
        params = entry.params
        result = []
        for x, rule in zip(inputs, self.rules):
            if rule is not None and isinstance(x, Tensor) and x._rg:
                result.append(rule(g, out, *inputs, **params))
            else:
                result.append(None)
        return result


def primitive(name=None, n_out=1, linear=False, uses_out=False, view=False, raw=False,
              reads_inputs=None):
    """Decorator: turn a NumPy forward into a differentiable op; attach rules with `defvjp`.

    The op is a plain function (so it binds as a Tensor method at no cost); its `Primitive`
    is `op.prim`. Called with no tensor argument, it returns the bare NumPy result.
    `raw=True` declares that the rules also work when handed bare ndarrays (see engine).
    """
    def wrap(forward):
        prim = Primitive(name or forward.__name__, forward, n_out, linear, uses_out, view, raw,
                         reads_inputs)
        return _make_op(prim)
    return wrap


def _make_op(prim):
    forward = prim.forward

    def op(*args, **params):
        # The hot path of every op: unwrap, run NumPy, record only when an input requires grad.
        rec = wrap = False
        n = len(args)
        try:
            # (a view whose base was written since its history was made takes it again
            # first: `fresh`; one attribute test for every other tensor)
            if n == 2:
                x, y = args
                if isinstance(x, Tensor):
                    if x._base is not None:
                        fresh(x)
                    rec, wrap = x._rg, True
                    x = x._data
                if isinstance(y, Tensor):
                    if y._base is not None:
                        fresh(y)
                    rec, wrap = rec or y._rg, True
                    y = y._data
                out = forward(x, y, **params) if params else forward(x, y)
            elif n == 1:
                x = args[0]
                if isinstance(x, Tensor):
                    if x._base is not None:
                        fresh(x)
                    rec, wrap = x._rg, True
                    x = x._data
                out = forward(x, **params) if params else forward(x)
            else:
                arrays = []
                for a in args:
                    if isinstance(a, Tensor):
                        if a._base is not None:
                            fresh(a)
                        rec, wrap = rec or a._rg, True
                        a = a._data
                    arrays.append(a)
                out = forward(*arrays, **params)
        except (ValueError, TypeError) as err:
            raise _op_error(prim, args, err) from None
        if not wrap:
            return out       # bare arrays in, bare array out: rules run this way in backward
        if rec and _state.grad_enabled:
            return _record(prim, args, params, out)
        if prim.n_out != 1:
            return tuple(_leaf(o) for o in out)
        t = _leaf(out)
        if prim.view:
            _link_view(t, prim, args, params)
        return t

    op.prim = prim
    prim.op = op
    op.__name__ = op.__qualname__ = prim.name
    op.__doc__ = forward.__doc__
    op.__wrapped__ = forward
    return op


def _op_error(prim, args, err):
    """NumPy's complaint about mismatched shapes or dtypes, as PyTorch's RuntimeError naming
    the op and its operands (a TypeError about a non-numeric operand stays a TypeError)."""
    if isinstance(err, TypeError) and not all(isinstance(a, (Tensor, ndarray, int, float))
                                              for a in args):
        return err
    shapes = ", ".join(f"{tuple(a.shape)} {a.dtype}" if hasattr(a, "shape") else repr(a)
                       for a in args)
    return RuntimeError(f"{prim.name}: {err} (operands: {shapes})")


def defvjp(op, *rules, reads=None):
    """Register the VJP rules of `op`, one per positional input (None: not differentiable).

    `reads`, if given, names for each rule the inputs it reads (their indices; -1 for the
    outputs), so that only those must stay unmodified until backward.
    """
    op.prim.rules = rules
    if reads is not None:
        op.prim.reads = tuple(tuple(r) for r in reads)
        op.prim.saves = all(op.prim.reads)
    return op


def _leaf(out):
    """Wrap an array as a tensor with no history."""
    if type(out) is not ndarray:
        out = np.asarray(out)
    t = _new(Tensor)
    t._data = out
    t._rg = False
    t._entry = None
    t._vc = [0, 0, 0]
    t._base = None
    return t


_NO_MEMORY = np.zeros(16, np.uint8)    # room for one element of any dtype
_NO_OUT = (None,)


def _stand_in(x):
    """A shape-and-dtype-only copy of tensor x's place in the graph, holding no memory
    (used for large inputs only: small ones cost less to keep than to replace)."""
    a = x._data
    t = _leaf(np.ndarray(a.shape, a.dtype, buffer=_NO_MEMORY, strides=(0,) * a.ndim))
    t._rg, t._entry, t._index = x._rg, x._entry, x._index
    return t


_new = object.__new__
_weakref = weakref.ref


def _owner(a):
    b = a.base
    return a if b is None else b


def _link_view(t, prim, args, params):
    """Make t, the output of view op `prim` on args[0], a view of that tensor's base.

    A view shares its base's version counter and remembers how to take itself from the base
    (`_view`, a chain of view ops). A recorded write to the base or to any of its views bumps
    the family's generation (`_vc[2]`); a view of an older generation takes its history again
    from the base when it is next used (`fresh`), as PyTorch regenerates a view's grad_fn.
    """
    x = args[0]
    a, xa = t._data, x._data
    if _owner(a) is not _owner(xa) and not np.may_share_memory(a, xa):
        return      # reshape had to copy: a new tensor, not a view
    vc = t._vc = x._vc
    if vc[2]:
        t._gen = vc[2]
    step = (prim.op, args[1:], params)
    root = x._base
    if root is None:
        root, chain = x, (step,)
    else:
        chain = x._view + (step,)
    t._base = root
    t._view = chain
    if x._nograd_view or not _state.grad_enabled:
        # as in torch: it says it requires grad when its base does, has no history, and
        # gets no gradient (backward through it runs, and stops there)
        t._nograd_view = True
        t._rg = x._rg


def region(a, chain):
    """What a view made by `chain` (view ops from its base) sees of `a` (array or tensor)."""
    for op, rest, params in chain:
        a = op(a, *rest, **params)
    return a


def snapshot(t, copy=False):
    """A tensor holding t's current history (and, with copy, its current values)."""
    s = _new(Tensor)
    s._data = t._data.copy() if copy else t._data
    s._vc = [0, 0, 0] if copy else t._vc
    s._base = None
    s._rg, s._entry, s._index = t._rg, t._entry, t._index
    return s


def take_history(t, src):
    """t (written in place, or a view regenerated) takes the history of src, a fresh output.

    Consumers recorded before keep routing to t's earlier state (`Entry.prev`). A retained
    gradient moves to the new history; hooks stay with the old one, as in PyTorch.
    """
    e = src._entry
    if e is None:                 # nothing upstream requires grad
        t._rg, t._entry, t._index = False, None, 0
        return
    if e.prev is None:
        e.prev = {}
    e.prev[src._index] = snapshot(t)
    old = t._entry
    if old is not None and old.retained is not None and t._index in old.retained:
        ref = old.retained.pop(t._index)
        e.retained = {src._index: ref}
        if e.hooks is None:
            e.hooks = {}
    t._rg, t._entry, t._index = src._rg, e, src._index


def fresh(t):
    """Give view t its history again if its family was written since it was made (only
    while grad mode is on: that is when the history is recorded). Returns t."""
    base = t._base
    if base is None:
        return t
    if t._nograd_view:
        t._rg = base._rg      # as in torch: it follows its base's requires_grad, not its history
        return t
    gen = t._vc[2]
    if t._gen == gen or not _state.grad_enabled:
        return t
    take_history(t, region(base, t._view))
    t._gen = gen
    return t


def now():
    """A fresh tick of the global clock."""
    return _next_seq()


def bump_version(t):
    """Mark t's data as modified in place now: entries recorded before this that read it fail."""
    vc = t._vc
    vc[0] += 1
    vc[1] = _last_write[0] = _next_seq()


def _record(prim, args, params, out):
    """Append an entry for `prim(*args)` to the active tapes and wrap its outputs.

    Outputs that are not floating point (integer casts, indices) never require grad.
    """
    n = prim.n_out
    if n == 1:
        if type(out) is not ndarray:
            out = np.asarray(out)
        if out.dtype.kind not in "fc":
            t = _leaf(out)
            if prim.view:
                _link_view(t, prim, args, params)
            return t
    e = _new(Entry)
    e.prim = prim
    e.inputs = args
    e.params = params
    seq = e.seq = _next_seq()
    e.n_out = n
    tapes = _state.tapes
    e.owner = tapes[0]
    if n == 1:
        result = t = _new(Tensor)
        t._data = out
        t._vc = [0, 0, 0]
        t._base = None
        e.out = (out,)
        t._rg = True
        t._entry = e
        if prim.view:
            _link_view(t, prim, args, params)
        if prim.uses_out:
            e.out_vc = t._vc
    else:
        e.out = tuple(o if type(o) is ndarray else np.asarray(o) for o in out)
        result = []
        for i, o in enumerate(e.out):
            t = _leaf(o)
            if o.dtype.kind in "fc":
                t._rg = True
                t._entry = e
                t._index = i
            result.append(t)
        result = tuple(result)
        if prim.uses_out:
            read = range(n) if prim.uses_out is True else prim.uses_out
            e.out_vc = [result[i]._vc for i in read]
    for tape in tapes:
        refs = tape._refs
        refs.append(_weakref(e))
        tape._seqs.append(seq)
        if len(refs) > tape._limit:
            tape._sweep()
    return result


def _restore(entry, i):
    """A tensor for output i of `entry`, wired to it, so rules that read `out` stay differentiable."""
    t = _leaf(entry.out[i])
    t._rg = True
    t._entry = entry
    t._index = i
    return t


from .tensor import Tensor  # noqa: E402  (Tensor's methods call primitives defined after it)

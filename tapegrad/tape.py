"""The gradient tape: thread-local recording state, primitives, entries and scoped tapes.

A forward op on tensors that require grad appends one `Entry` to every active tape. The entry
holds the op's inputs strongly and is held by its outputs (their `grad_fn`); tapes hold entries
weakly, so an entry whose outputs all died is freed by reference counting, and with it, in
cascade, everything it kept alive. `engine.py` replays the tape in reverse.
"""
import threading
from types import MethodType
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
        self._limit = 1024       # compact dead references when the list grows past this
        self.persistent = persistent
        self._used = False

    def _append(self, entry):
        refs = self._refs
        refs.append(weakref.ref(entry))
        if len(refs) > self._limit:
            self._compact()

    def _compact(self):
        self._refs = [r for r in self._refs if r() is not None]
        self._limit = max(1024, 2 * len(self._refs))

    def entries(self, upto=None):
        """Live entries, oldest first; with `upto`, only those recorded no later than it."""
        refs = self._refs
        if upto is not None:
            refs = refs[:bisect_right(refs, upto, key=_seq_of_ref)]
        return [e for e in (r() for r in refs) if e is not None]

    def __len__(self):
        self._compact()
        return len(self._refs)

    def __iter__(self):
        return iter(self.entries())

    def __enter__(self):
        st = _state
        if self in st.tapes:
            raise RuntimeError("Tape: this tape is already recording")
        st.tapes = st.tapes + (self,)
        return self

    def __exit__(self, *exc):
        st = _state
        st.tapes = tuple(t for t in st.tapes if t is not self)
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
        lines = [e.describe() for e in self.entries()]
        return "\n".join(lines) if lines else "<empty tape>"


def _seq_of_ref(ref):
    e = ref()
    return -1 if e is None else e.seq


def global_tape():
    """The tape of the current thread (the base of its tape stack)."""
    return _state.tapes[0]


_state = _ThreadState()
_seq = [0]   # global entry counter: orders entries across tapes and threads


class Entry:
    """One recorded primitive application: what backward needs to run the op's VJP.

    Also serves as the output tensors' `grad_fn` (`name()` gives PyTorch's `MulBackward0`).
    """

    __slots__ = ("prim", "inputs", "params", "out", "n_out", "versions", "seq", "hooks",
                 "retained", "__weakref__")

    def name(self):
        return self.prim.grad_fn_name

    def __repr__(self):
        return f"<{self.prim.grad_fn_name} object at {id(self):#x}>"

    @property
    def next_functions(self):
        return tuple((getattr(t, "grad_fn", None), 0) for t in (self.inputs or ()))

    def describe(self):
        """One line of the Wengert list: `t7 = mul(t3, t5)  # (64, 10) float32`."""
        def label(x):
            return f"t{_label(x)}" if hasattr(x, "_data") else repr(x)
        outs = self.out or ()
        lhs = ", ".join(f"t{self.seq}" + (f".{i}" if self.n_out > 1 else "") for i in range(self.n_out))
        args = ", ".join(label(x) for x in (self.inputs or ()))
        params = "".join(f", {k}={v!r}" for k, v in (self.params or {}).items())
        info = "; ".join(f"{tuple(o.shape)} {o.dtype}" for o in outs) if outs else "released"
        return f"{lhs} = {self.prim.name}({args}{params})  # {info}"


def _label(t):
    """Tapes name a tensor after the entry that made it, or `leafN` for leaves."""
    e = t._entry
    if e is not None:
        return str(e.seq) + (f".{t._index}" if e.n_out > 1 else "")
    return f"_leaf{id(t) % 10000}"


REGISTRY = {}   # name -> Primitive: every op tapegrad knows how to differentiate


class Primitive:
    """An op tapegrad differentiates: a NumPy forward and one VJP rule per differentiable input.

    Rules are called as `rule(g, out, *inputs, **params)` with tapegrad tensors, so they are
    themselves recorded when `create_graph=True`. `linear` ops' rules never read their inputs'
    values (so in-place changes to the inputs are harmless); `uses_out` ops' rules read `out`.
    """

    def __init__(self, name, forward, n_out=1, linear=False, uses_out=False, view=False):
        self.name = name
        self.forward = forward
        self.rules = ()
        self.n_out = n_out
        self.linear = linear
        self.uses_out = uses_out
        self.view = view
        self.grad_fn_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        self.__doc__ = forward.__doc__
        self.__name__ = name
        REGISTRY[name] = self

    def __repr__(self):
        return f"<tapegrad primitive {self.name}>"

    def __get__(self, obj, objtype=None):
        """As a Tensor attribute, a primitive is a method: `x.exp()` is `exp(x)`."""
        return self if obj is None else MethodType(self, obj)

    def __call__(self, *args, **params):
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        out = self.forward(*arrays, **params)
        st = _state
        if st.grad_enabled and self.rules:
            for a in args:
                if isinstance(a, Tensor) and a._rg:
                    return _record(self, args, params, out, st)
        if self.n_out == 1:
            return _leaf(out, args[0] if self.view else None)
        return tuple(_leaf(o) for o in out)

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


def primitive(name=None, n_out=1, linear=False, uses_out=False, view=False):
    """Decorator: turn a NumPy forward into a `Primitive`; attach rules with `defvjp`."""
    def wrap(forward):
        return Primitive(name or forward.__name__, forward, n_out, linear, uses_out, view)
    return wrap


def defvjp(prim, *rules):
    """Register `prim`'s VJP rules, one per positional input (None: not differentiable)."""
    prim.rules = rules
    return prim


def _leaf(out, base=None):
    if type(out) is not ndarray:
        out = np.asarray(out)
    t = Tensor.__new__(Tensor)
    t._data = out
    t._rg = False
    t._entry = None
    t._index = 0
    t._grad = None
    t._hooks = None
    t._vc = base._vc if base is not None else [0]
    t._base = base
    return t


def _record(prim, args, params, out, st):
    """Append an entry for `prim(*args)` to the active tapes and wrap its outputs."""
    e = Entry()
    e.prim = prim
    e.inputs = args
    e.params = params
    e.hooks = None
    e.retained = None
    _seq[0] += 1
    e.seq = _seq[0]
    if prim.linear:
        e.versions = None
    else:
        e.versions = [(a._vc, a._vc[0]) for a in args if isinstance(a, Tensor)]
    base = args[0] if prim.view else None
    if prim.n_out == 1:
        if type(out) is not ndarray:
            out = np.asarray(out)
        if out.dtype.kind != "f":
            raise RuntimeError(f"{prim.name}: a differentiable op produced {out.dtype}; "
                               "only floating point tensors can require grad")
        outs = (out,)
        t = _leaf(out, base)
        t._rg = True
        t._entry = e
        result = t
    else:
        outs = tuple(o if type(o) is ndarray else np.asarray(o) for o in out)
        result = []
        for i, o in enumerate(outs):
            t = _leaf(o, base)
            t._rg = True
            t._entry = e
            t._index = i
            result.append(t)
        result = tuple(result)
    e.n_out = prim.n_out
    e.out = outs
    if prim.uses_out:
        vc = result._vc if prim.n_out == 1 else result[0]._vc
        e.versions = (e.versions or []) + [(vc, vc[0])]
    tapes = st.tapes
    tapes[0]._append(e)
    for tape in tapes[1:]:
        tape._append(e)
    return result


def _restore(entry, i):
    """A tensor for output i of `entry`, wired to it, so rules that read `out` stay differentiable."""
    t = _leaf(entry.out[i])
    t._rg = True
    t._entry = entry
    t._index = i
    return t


from .tensor import Tensor  # noqa: E402  (Tensor's methods call primitives defined after it)

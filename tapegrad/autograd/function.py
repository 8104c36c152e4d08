"""torch.autograd.Function: user-defined ops with a hand-written backward, recorded as one entry.

`Fn.apply(*args)` runs `Fn.forward(ctx, *args)` with grad mode off, then records its
differentiable outputs as ONE tape entry whose VJP calls `Fn.backward(ctx, *grads)`. The engine
runs that backward with grad mode equal to `create_graph`, so a backward written in tapegrad ops
is itself differentiable.
"""
import functools
import inspect
import weakref

import numpy as np

from ..dtypes import is_floating
from .._state import own_counter, state
from .._tensor import Tensor, _leaf, _restore, fresh, snapshot
from ..primitives import Primitive
from ..tape import record
from ..engine import RELEASED
from ..inplace import _rebase, _write_check


class FunctionCtx:
    """The `ctx` handed to a custom Function's forward and backward.

    It also holds any attribute the user sets. `needs_input_grad` is the tuple of flags, one per
    forward input, telling backward which gradients are wanted (as in PyTorch).
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self.non_differentiable = ()
        self.dirty = ()
        self._saved = ()
        self._versions = ()
        self._out_index = {}     # position in _saved -> index among the entry's outputs
        self._entry = None       # weak reference to the entry, once recorded

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for backward; in-place changes to them are detected later."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} "
                                f"is of type {type(t).__name__}")
        self._saved = tensors
        self._versions = tuple(None if t is None else t._counter.version for t in tensors)

    @property
    def saved_tensors(self):
        """The saved tensors; saved outputs come back wired to this Function's entry."""
        e = self._entry() if self._entry is not None else None
        if e is not None and e.inputs is None:
            raise RuntimeError(RELEASED.format(op=e.prim.grad_fn_name))
        for k, (t, version) in enumerate(zip(self._saved, self._versions)):
            if t is not None and t._counter.version != version:
                name = e.prim.name if e is not None else "a custom Function"
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: saved tensor {k} of {name} (shape {list(t.shape)}, "
                    f"{t.dtype}) is at version {t._counter.version}; expected version {version} instead. "
                    "Hint: clone() the tensor before modifying it, or modify a copy.")
        if e is None or not self._out_index:
            return tuple(self._saved)
        return tuple(_restore(e, self._out_index[k]) if k in self._out_index else t
                     for k, t in enumerate(self._saved))

    def mark_non_differentiable(self, *tensors):
        """Mark outputs that get no gradient (e.g. indices).

        `tensors` are outputs of forward; backward still receives zeros for them.
        """
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors):
        """Mark inputs that forward modified in place and returns, as torch's ctx.mark_dirty.

        For each of `tensors`, the returned tensor is the input object itself, with this Function
        as its new history.
        """
        self.dirty = tensors

    def set_materialize_grads(self, value):
        """Choose whether missing output gradients reach backward as zeros.

        With `value` False, backward receives None (not zeros) for outputs that got no gradient.
        """
        self.materialize_grads = bool(value)


class FunctionBackward(Primitive):
    """The entry primitive of one `Function.apply` call: its rule is the user's backward.

    Not in REGISTRY (which holds built-in ops). Its backward reads only what was saved,
    which `saved_tensors` checks when unpacked, so it declares no reads of its own.
    """

    def __init__(self, cls, ctx, layout, n_out):
        super().__init__(cls.__name__, n_out=n_out, reads_inputs=False)
        self.grad_fn_name = cls.__name__ + "Backward"
        self.cls = cls
        self.ctx = ctx
        self.layout = layout     # per forward output: diff index | (shape, dtype) | None
        self.received = [False] * n_out     # which outputs got a gradient in this replay

    def release(self, entry):
        saved = self.ctx._saved
        super().release(entry)
        if saved:
            entry.inputs = None     # its backward read them: a second one must fail
        self.ctx._saved = ()

    def vjp(self, entry, gs, raw=False):
        """Call the user's backward with one gradient per forward output; check what it returns."""
        if raw:      # the user's backward takes tensors: the base class wraps and unwraps
            return super().vjp(entry, gs, raw)
        ctx = self.ctx
        mat = ctx.materialize_grads
        received = self.received
        self.received = [False] * self.n_out
        grads = []
        for spec in self.layout:
            if type(spec) is int:
                # the engine fills an output that got no gradient with zeros; without
                # materialize_grads only those become None (a real zero gradient stays)
                g = gs[spec] if mat or self.n_out == 1 or received[spec] else None
            elif spec is not None and mat:
                g = _leaf(np.zeros(*spec))
            else:
                g = None
            grads.append(g)
        result = self.cls.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        inputs = entry.inputs
        n = len(inputs)
        if len(result) > n and all(r is None for r in result[n:]):
            result = result[:n]
        if len(result) != n:
            raise RuntimeError(f"function {self.grad_fn_name} returned an incorrect number of "
                               f"gradients (expected {n}, got {len(result)})")
        out = []
        for k, (x, g) in enumerate(zip(inputs, result)):
            if g is None:
                out.append(None)
                continue
            if not isinstance(x, Tensor):
                raise RuntimeError(f"function {self.grad_fn_name} returned a gradient different "
                                   f"than None at position {k + 1}, but the corresponding "
                                   "forward input was not a Variable")
            shape = x._data.shape
            if isinstance(g, Tensor) and g._data.shape != shape and not _reducible(g, shape):
                raise RuntimeError(f"Function {self.grad_fn_name} returned an invalid gradient "
                                   f"at index {k} - got {list(g.shape)} but expected shape "
                                   f"compatible with {list(shape)}")
            out.append(g if x._requires_grad else None)
        return out


def _reducible(g, shape):
    """Whether g's shape broadcasts from `shape`, so the engine can sum it back."""
    try:
        return np.broadcast_shapes(shape, g._data.shape) == g._data.shape
    except ValueError:
        return False


class Function:
    """Base class of custom differentiable ops (torch.autograd.Function).

    Subclasses define `@staticmethod forward(ctx, *args)` and `@staticmethod backward(ctx,
    *grad_outputs)` returning one gradient per forward input; call them with `Fn.apply(...)`.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from the inputs, as torch.autograd.Function.forward.

        Subclasses override it: a staticmethod taking `ctx` then the inputs (`args`, `kwargs`), or
        only the inputs when the subclass defines `setup_context`.
        """
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return one gradient per forward input, given one per output; subclasses override it.

        A staticmethod taking `ctx` then `grad_outputs`, as torch.autograd.Function.backward; None
        stands for a zero gradient.
        """
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Save for backward here instead of in forward (optional).

        `ctx` is the context, `inputs` the tuple of forward's inputs and `output` what forward
        returned, as torch.autograd.Function.setup_context.
        """
        raise NotImplementedError("setup_context is not overridden.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward without recording, then record its outputs as one entry.

        `args` and `kwargs` are forward's inputs (keyword ones are bound to positions, so backward
        returns one gradient per input), as torch.autograd.Function.apply.
        """
        split = cls.setup_context is not Function.setup_context
        if kwargs:
            # keyword arguments become positional, so backward returns one gradient per input
            sig = inspect.signature(cls.forward)
            bound = sig.bind(*args, **kwargs) if split else sig.bind(None, *args, **kwargs)
            bound.apply_defaults()
            args = bound.args if split else bound.args[1:]
            kwargs = bound.kwargs
        st = state
        needs = tuple(isinstance(a, Tensor) and fresh(a)._requires_grad for a in args)
        ctx = FunctionCtx(needs)
        mode = st.grad_enabled
        st.grad_enabled = False
        try:
            if split:
                result = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, result)
            else:
                result = cls.forward(ctx, *args, **kwargs)
        finally:
            st.grad_enabled = mode
        if not (mode and any(needs)):
            return result
        return _wrap(cls, ctx, args, result)


def _wrap(cls, ctx, args, result):
    """Record `result`'s differentiable outputs as one entry; others pass through untouched."""
    single = not isinstance(result, tuple)
    outs = (result,) if single else result
    _check_dirty(cls, ctx, args, outs)
    nondiff = ctx.non_differentiable
    layout, diff = [], []
    for o in outs:
        if not isinstance(o, Tensor):
            layout.append(None)
        elif not is_floating(o._data.dtype) or any(o is t for t in nondiff):
            layout.append((o._data.shape, o._data.dtype))
        else:
            layout.append(len(diff))
            diff.append(o)
    if not diff:
        return result
    node = FunctionBackward(cls, ctx, tuple(layout), len(diff))
    arrays = diff[0]._data if len(diff) == 1 else tuple(o._data for o in diff)
    wrapped = record(node, _before_dirty(args, ctx.dirty), {}, arrays)
    wrapped = (wrapped,) if len(diff) == 1 else wrapped
    for o, w in zip(diff, wrapped):
        w._counter = own_counter(o)    # in-place changes to an output count against what was saved
    entry = wrapped[0]._entry
    ctx._entry = weakref.ref(entry)
    if not ctx.materialize_grads and len(diff) > 1:
        _watch_outputs(node, entry)
    # saved outputs come back wired to this entry (for double backward); an input returned
    # as-is stays an input, with its own history (unless marked dirty: then it is an output)
    ctx._out_index = {k: j for k, t in enumerate(ctx._saved) for j, o in enumerate(diff)
                      if t is o and not any(t is a for a in args)}
    final = []
    for o, spec in zip(outs, layout):
        if type(spec) is int:
            final.append(_rebase_dirty(o, wrapped[spec]) if _is_in(o, ctx.dirty)
                         else wrapped[spec])
        else:
            final.append(o.detach() if isinstance(o, Tensor) and o._requires_grad else o)
    return final[0] if single else tuple(final)


def _is_in(t, tensors):
    return any(t is x for x in tensors)


def _check_dirty(cls, ctx, args, outs):
    """Dirty tensors must be inputs returned as outputs, and not leaves that require grad."""
    for t in ctx.dirty:
        if not _is_in(t, args):
            raise RuntimeError(f"{cls.__name__}: mark_dirty only accepts input tensors, but got "
                               f"a tensor of shape {list(t.shape)} that is not an input")
        if not _is_in(t, outs):
            raise RuntimeError(f"{cls.__name__}: some elements marked as dirty during the "
                               "forward method were not returned as output. The inputs that "
                               "are modified inplace must all be outputs of the Function.")
        _write_check(t, f"{cls.__name__} (mark_dirty)")    # a leaf that requires grad...


def _before_dirty(args, dirty):
    """The entry's inputs: a dirty input is replaced by a stand-in for its value before
    forward (its old history), since the input object itself takes the new history."""
    if not dirty:
        return args
    return tuple(snapshot(a) if isinstance(a, Tensor) and _is_in(a, dirty) else a
                 for a in args)


def _rebase_dirty(t, wrapped):
    """The dirty input `t` takes the recorded entry as history, exactly as after an in-place
    op (its base and views too, if it is a view); it is returned to the user."""
    _rebase(t, wrapped)
    return t


def _watch_outputs(node, entry):
    """Without materialize_grads, note which outputs get a gradient (hooks run only on those),
    so that only the missing ones become None."""
    def watcher(i):
        def hook(g):
            node.received[i] = True
        return hook
    entry.hooks = {i: [watcher(i)] for i in range(node.n_out)}


class _DelayedError(Function):
    """Stands behind the gradients of a @once_differentiable backward run with create_graph."""

    @staticmethod
    def forward(ctx, *grads):
        return grads[0] if len(grads) == 1 else grads

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def once_differentiable(fn):
    """Decorate a backward `fn` that is not itself differentiable.

    As torch.autograd.function.once_differentiable: it runs without recording, and differentiating
    its result again raises.
    """
    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        st = state
        mode = st.grad_enabled
        st.grad_enabled = False
        try:
            outputs = fn(ctx, *grads)
        finally:
            st.grad_enabled = mode
        if not (mode and any(isinstance(g, Tensor) and g._requires_grad for g in grads)):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        fake = [None if o is None else o.detach().requires_grad_(True) for o in outs]
        return _DelayedError.apply(*fake)
    return wrapper

"""Primitives: a NumPy forward plus one VJP rule per differentiable input, and the op function
that runs the forward and records it (`primitive`, `defvjp`)."""
import inspect
import os
import re
import sys
import warnings

import numpy as np

from ._state import debug, state
from ._tensor import Tensor, _leaf, _restore, fresh
from .dtypes import TENSOR_TYPES, category
from .tape import bump_version, link_view, record

ndarray = np.ndarray
REGISTRY = {}   # name -> Primitive: every op tapegrad knows how to differentiate
_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


class Primitive:
    """An op tapegrad differentiates: a NumPy forward and one VJP rule per differentiable input.

    Rules are called as `rule(g, out, *inputs, **params)`; `vjp` says with what. `uses_out`
    ops' rules read `out` (True, or for multi-output ops the indices of the outputs they read:
    only those are checked for in-place changes). `reads_inputs=False` declares rules that
    never read their inputs' values (linear ops): in-place changes to the inputs are then
    harmless, and an in-place form of the op need not keep the old value. `defvjp(...,
    reads=...)` says more precisely which inputs each rule reads (PyTorch saves `other` only
    for `self`'s gradient). `raw=True` declares rules that also work on bare ndarrays.
    """

    reads = None     # per input: indices of the inputs its rule reads, -1 for the outputs
    op = None        # the op function that runs it (set by `primitive`)
    # entry -> PyTorch's node name when it depends on the operands (matmul: MmBackward0,
    # DotBackward0...); asked only when a name is shown, never while recording
    grad_fn_for = None
    run = None       # what the op calls: `forward`, or the profiler's timed stand-in for it

    def __init__(self, name, forward=None, n_out=1, reads_inputs=True, uses_out=False,
                 view=False, raw=False, grad_fn=None):
        self.name = name
        self.raw = raw
        self.forward = self.run = forward
        self.rules = ()
        self.n_out = n_out
        self.reads_inputs = reads_inputs
        self.uses_out = uses_out
        # whether every recording keeps values for backward (then a second backward must fail)
        self.saves = reads_inputs or bool(uses_out)
        self.view = view
        # PyTorch's node name: `mul` -> MulBackward0 (`grad_fn` names another overload's)
        self.grad_fn_name = grad_fn or "".join(p.capitalize() for p in name.split("_")) + \
            "Backward0"

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
            if isinstance(x, Tensor) and x._requires_grad and x._requires_grad_since < seq:
                got.update(r)     # it required grad when recorded: its rule will run
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

    def vjp(self, entry, gs, raw=False):
        """The inputs' cotangents (None where not needed) from the outputs' cotangents `gs`.

        With `raw` (no graph is being built) cotangents are bare ndarrays and `raw` rules run
        on arrays; other rules get tensors (`out` restored as tensors wired to the entry, so
        that with create_graph the rules are themselves recorded).
        """
        if raw and not self.raw:
            return [None if r is None else r._data if isinstance(r, Tensor) else np.asarray(r)
                    for r in self.vjp(entry, [_leaf(g) for g in gs])]
        inputs = entry.inputs
        one = self.n_out == 1
        g = gs[0] if one else tuple(gs)
        if raw:
            out = entry.out[0] if one else entry.out
            if len(inputs) == 2:        # the common case, without a loop
                x, y = inputs
                args = (x._data if isinstance(x, Tensor) else x,
                        y._data if isinstance(y, Tensor) else y)
            else:
                args = [a._data if isinstance(a, Tensor) else a for a in inputs]
        else:
            args = inputs
            out = None if not self.uses_out else _restore(entry, 0) if one else \
                tuple(_restore(entry, i) for i in range(self.n_out))
        params = entry.params
        grads = []
        for x, rule in zip(inputs, self.rules):
            if rule is not None and isinstance(x, Tensor) and x._requires_grad:
                grads.append(rule(g, out, *args, **params) if params else rule(g, out, *args))
            else:
                grads.append(None)
        return grads


_NO_MEMORY = np.zeros(16, np.uint8)    # room for one element of any dtype
_NO_OUT = (None,)


def _stand_in(x):
    """A shape-and-dtype-only copy of tensor x's place in the graph, holding no memory
    (used for large inputs only: small ones cost less to keep than to replace)."""
    a = x._data
    t = _leaf(np.ndarray(a.shape, a.dtype, buffer=_NO_MEMORY, strides=(0,) * a.ndim))
    t._requires_grad, t._entry, t._index = x._requires_grad, x._entry, x._index
    return t


def primitive(name, n_out=1, reads_inputs=True, uses_out=False, view=False, raw=False,
              grad_fn=None):
    """Decorator: turn a NumPy forward into a differentiable op; attach rules with `defvjp`.

    `name` is the PyTorch (ATen) op it mirrors, in lower snake case (`mul`, `linalg_solve`,
    `nll_loss_backward`): its grad_fn is then PyTorch's (`MulBackward0`) and the Wengert list
    reads as PyTorch's ops. The op is a plain function (so it binds as a Tensor method at no
    cost); its `Primitive` is `op.prim`. Called with no tensor argument, it returns the bare
    NumPy result.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"primitive: name {name!r} must be lower snake case, as PyTorch's ops")

    def wrap(forward):
        prim = Primitive(name, forward, n_out, reads_inputs, uses_out, view, raw, grad_fn)
        if prim.name in REGISTRY:
            raise ValueError(f"primitive: the name {prim.name!r} is already registered")
        REGISTRY[prim.name] = prim
        return _make_op(prim)
    return wrap


def _make_op(prim):
    forward = prim.forward
    inputs = _input_names(forward)
    named = frozenset(inputs)

    def op(*args, **params):
        # The hot path of every op: unwrap, run NumPy, record only when an input requires grad.
        run = prim.run      # the forward itself, unless a profiler is timing it
        if params:
            if "out" in params:
                return _into(op, prim, args, params)
            if not named.isdisjoint(params):
                args = _bind(prim, inputs, args, params)    # torch.exp(input=x): inputs by name
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
                    rec, wrap = x._requires_grad, True
                    x = x._data
                if isinstance(y, Tensor):
                    if y._base is not None:
                        fresh(y)
                    rec, wrap = rec or y._requires_grad, True
                    y = y._data
                out = run(x, y, **params) if params else run(x, y)
            elif n == 1:
                x = args[0]
                if isinstance(x, Tensor):
                    if x._base is not None:
                        fresh(x)
                    rec, wrap = x._requires_grad, True
                    x = x._data
                out = run(x, **params) if params else run(x)
            else:
                arrays = []
                for a in args:
                    if isinstance(a, Tensor):
                        if a._base is not None:
                            fresh(a)
                        rec, wrap = rec or a._requires_grad, True
                        a = a._data
                    arrays.append(a)
                out = run(*arrays, **params)
        except (ValueError, TypeError) as err:
            raise _op_error(prim, args, err) from None
        if not wrap:
            return out       # bare arrays in, bare array out: rules run this way in backward
        if rec:
            if state.grad_enabled:
                return record(prim, args, params, out)
            if debug.on_unrecorded is not None:     # a debugging aid notes what cut it
                return debug.on_unrecorded(prim, args, params, out)
        if prim.n_out != 1:
            return tuple(_leaf(o) for o in out)
        t = _leaf(out)
        if prim.view:
            link_view(t, prim, args, params)
        return t

    op.prim = prim
    prim.op = op
    op.__name__ = op.__qualname__ = prim.name
    op.__doc__ = forward.__doc__
    op.__wrapped__ = forward
    return op


def _input_names(forward):
    """The names of the inputs of a forward: its positional parameters without defaults."""
    return tuple(p.name for p in inspect.signature(forward).parameters.values()
                 if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty)


def _bind(prim, inputs, args, params):
    """Move the inputs passed by name (PyTorch's `input=`, `other=`) to their positions; only
    the differentiable ones (one rule each): other parameters stay what the rules expect."""
    args = list(args)
    inputs = inputs[:len(prim.rules) or len(inputs)]     # no rules: nothing reads them
    for name in inputs[len(args):]:
        if name not in params:
            raise TypeError(f"{prim.name}() missing required argument '{name}' (pos {len(args)})")
        args.append(params.pop(name))
    for name in inputs[:len(args)]:
        if name in params:
            raise TypeError(f"{prim.name}() got multiple values for argument '{name}'")
    return tuple(args)


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


# ---- out= --------------------------------------------------------------------------------------
# PyTorch's scalar type names, for its messages: float32 -> 'Float', int64 -> 'Long'
_SCALAR_NAMES = {d: name[:-len("Tensor")] for name, d in TENSOR_TYPES.items()}


def _into(op, prim, args, params):
    """`op(*args, out=out)`: checked before the forward runs, then written into `out`."""
    out = params.pop("out")
    if out is None:
        return op(*args, **params)
    if prim.n_out == 1 and isinstance(out, (tuple, list)):
        raise TypeError(f"{prim.name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    check_out(prim.name, out, args + tuple(params.values()))
    return write_out(op(*args, **params), out, prim.name)


def check_out(name, out, inputs):
    """Refuse out= as PyTorch does, before anything runs: `out` must be a Tensor (a tuple of
    them for several results) and, for a differentiable op (`inputs` not None), nothing may
    require grad while grad mode is on."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(o).__name__}")
    if inputs is None or not state.grad_enabled:
        return
    for t in (*outs, *inputs):
        if isinstance(t, (tuple, list)):        # cat's and stack's sequences of tensors
            t = next((x for x in t if isinstance(x, Tensor) and x._requires_grad), None)
        if isinstance(t, Tensor) and t._requires_grad:
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")


def write_out(result, out, name):
    """Write `result` into the tensor `out` as PyTorch's out= does and return `out`: resized
    (with PyTorch's warning when it held elements) and cast (never down a category: float into
    an int out is an error). A tuple of outs takes a tuple of results (max, sort...)."""
    several = isinstance(out, (tuple, list))
    if several and not isinstance(result, tuple):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if isinstance(result, tuple) and not several:
        raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors")
    outs, results = (tuple(out), result) if several else ((out,), (result,))
    if len(outs) != len(results):
        raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(results)} Tensors")
    arrays = [_checked(r, o, name) for r, o in zip(results, outs)]   # all checked, then written
    for a, o in zip(arrays, outs):
        if a.shape != o._data.shape:
            _resize(o, a.shape, name)
        np.copyto(o._data, a, casting="unsafe")
        bump_version(o)
    if not several:
        return out
    return type(result)(*outs) if hasattr(result, "_fields") else outs  # torch.return_types


def _checked(result, out, name):
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    a = result._data if isinstance(result, Tensor) else np.asarray(result)
    d = out._data
    if category(a.dtype) > category(d.dtype):      # a cast may not go down a category
        raise RuntimeError(f"result type {scalar_name(a.dtype)} can't be cast to the desired "
                           f"output type {scalar_name(d.dtype)}")
    if not d.flags.writeable if a.shape == d.shape else out._base is not None:
        raise RuntimeError(f"{name}(): out= cannot take a result of shape {list(a.shape)}: its "
                           f"tensor of shape {list(d.shape)} is read-only or a view that would "
                           "need resizing; pass a tensor of the result's shape")
    return a


def scalar_name(dt):
    """PyTorch's name of a NumPy dtype in its messages: 'Float', 'Long'."""
    return _SCALAR_NAMES.get(dt, str(dt))


def _resize(out, shape, name):
    if out._data.size:
        warnings.warn(f"{name}(): an output with one or more elements was resized since it had "
                      f"shape {list(out._data.shape)}, which does not match the required output "
                      f"shape {list(shape)}. This behavior is deprecated in PyTorch: resize it "
                      "to zero elements first to reuse it.", UserWarning, stacklevel=_user_level())
    out._data = np.empty(shape, out._data.dtype)


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_level():
    """The `stacklevel` that points a warning at the first caller outside tapegrad."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level

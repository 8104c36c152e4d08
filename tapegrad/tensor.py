"""`Tensor`: a NumPy array plus what autograd needs. Its math lives in `ops/`; here, delegations."""
import numpy as np

from . import dtypes
from .tape import _leaf, _state, now, hooked_leaves, fresh


class Tensor:
    """A multi-dimensional array that can record the ops applied to it (torch.Tensor)."""

    # Hot attributes are slots (`_base`: None, or for a view the tensor that owns the memory,
    # PyTorch's `_base`); rare ones live in the instance __dict__ (created on first write) and
    # default to the class attributes below, so making a tensor sets only five.
    __slots__ = ("_data", "_rg", "_entry", "_vc", "_base", "__dict__", "__weakref__")
    _index = 0          # which output of `_entry` this is
    _grad = None
    _hooks = None       # leaf hooks
    _view = None        # for a view: the chain of view ops that takes it from `_base`
    _gen = 0            # for a view: the family generation (`_vc[2]`) its history is of
    _nograd_view = False     # a view made in no_grad mode: it may not be written with grad on
    _rg_since = 0       # clock tick at which requires_grad was last turned on
    __array_ufunc__ = None     # `ndarray op Tensor` defers to Tensor's reflected operators

    def __init__(self, *args, device=None):
        """torch.Tensor(data) / Tensor(*size) / Tensor(): the default float dtype, as PyTorch's
        legacy constructor (`tensor()` is the one that infers dtypes)."""
        from .creation import legacy_new
        t = legacy_new(args, None, "Tensor", device)
        self._data, self._rg, self._entry, self._vc = t._data, t._rg, t._entry, t._vc
        self._base = None
        if t._entry is not None:        # an alias of a tensor that requires grad
            self._index = t._index

    # ---- array facts -------------------------------------------------------------------------
    shape = property(lambda self: Size(self._data.shape), doc="Size of each dimension.")
    dtype = property(lambda self: dtypes.public(self._data.dtype),
                     doc="The public dtype (prints as `torch.float32`); internals use _data.dtype")
    ndim = property(lambda self: self._data.ndim)
    device = property(lambda self: _CPU)
    is_cuda = False
    layout = "strided"

    def size(self, dim=None):
        return self.shape if dim is None else self._data.shape[_dim(dim, self.ndim, "size")]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def element_size(self):
        return self._data.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    def stride(self, dim=None):
        s = tuple(b // self._data.itemsize for b in self._data.strides)
        return s if dim is None else s[_dim(dim, self.ndim, "stride")]

    # ---- conversion --------------------------------------------------------------------------
    def numpy(self, force=False):
        """The array itself (shared memory); refused while it could carry gradients, as in torch."""
        if self._rg and not force and _state.grad_enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._data
        return a if dtype is None else a.astype(dtype, copy=False)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be "
                               "converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is "
                               "ambiguous")
        return bool(self._data.reshape(()).item())

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        from .printing import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        from .creation import tensor
        return (tensor, (self._data, self._data.dtype, None,
                         self._rg if self._entry is None else False))

    def __deepcopy__(self, memo):
        if self._entry is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        t = _leaf(self._data.copy())
        t._rg = self._rg
        if self._grad is not None:
            t._grad = _leaf(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # ---- autograd ----------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return fresh(self)._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        flag = builtins_bool(requires_grad)
        if self._entry is not None:
            if not flag:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                                   "If you want to use a computed variable in a subgraph that "
                                   "doesn't require differentiation use var_no_grad = var.detach().")
            return self
        if flag and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"requires_grad_: only Tensors of floating point dtype can require "
                               f"gradients, got {self._data.dtype}")
        if flag and not self._rg:
            self._rg_since = now()   # ops recorded before this send it no gradient
            if self._base is None:
                self._vc[2] += 1     # its views take their history again when next used
        self._rg = flag
        return self

    @property
    def is_leaf(self):
        return fresh(self)._entry is None

    @property
    def grad_fn(self):
        return fresh(self)._entry

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{list(value.shape)} vs the tensor's {list(self.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{value.dtype} vs the tensor's {self.dtype}")
        self._grad = value

    @property
    def _version(self):
        return self._vc[0]

    @property
    def data(self):
        """Shares memory but not the version counter: writes through `.data` are invisible to
        autograd's checks (PyTorch's semantics, unsafe by design)."""
        return _leaf(self._data)

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        elif not isinstance(value, np.ndarray):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._rg and value.dtype.kind not in "fc":
            raise RuntimeError(f"data set to a tensor that requires gradients must be floating "
                               f"point or complex dtype (got {value.dtype})")
        self._data = value
        self._vc = [0, 0, 0]

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor w.r.t. graph leaves into their `.grad`."""
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in `.grad` after backward."""
        if not fresh(self)._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        e = self._entry
        if e is not None:
            import weakref
            if e.retained is None:
                e.retained = {}
            e.retained[self._index] = weakref.ref(self)
            if e.hooks is None:
                e.hooks = {}      # the engine looks at an entry's outputs only when it has hooks

    @property
    def retains_grad(self):
        e = self._entry
        return builtins_bool(e is not None and e.retained and self._index in e.retained)

    def register_hook(self, hook):
        """Call `hook(grad)` on this tensor's gradient before it is used; a returned tensor
        replaces the gradient. Returns a handle whose `remove()` unregisters the hook."""
        if not fresh(self)._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        e = self._entry
        if e is None:
            if self._hooks is None:
                self._hooks = []
                hooked_leaves.add(self)
            hooks = self._hooks
        else:
            if e.hooks is None:
                e.hooks = {}
            hooks = e.hooks.setdefault(self._index, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def detach(self):
        """A tensor sharing this one's data (and version counter) without autograd history."""
        t = _leaf(self._data)
        t._vc = self._vc      # same memory: in-place writes through either are seen by both
        return t

    def detach_(self):
        if self._base is not None and self._entry is not None:
            raise RuntimeError("detach_: can't detach a view in place; use detach() instead")
        self._entry = None
        self._rg = False
        return self

    # ---- copies and conversions ----------------------------------------------------------------
    def clone(self, memory_format=None):
        return _ew.clone(self)

    def contiguous(self, memory_format=None):
        return self if self._data.flags.c_contiguous else _ew.clone(self)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False, **kwargs):
        """`to(dtype)`, `to(device)`, `to(other)`, `to(device, dtype)`; only the CPU exists."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, Device)):
                device = a
            else:
                dtype = a
        if device is not None:
            Device(device)
        if dtype is None:
            return _ew.clone(self) if copy else self
        dt = dtypes.as_dtype(dtype)
        if dt == self._data.dtype and not copy:
            return self
        return _ew.cast(self, dtype=dt)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """'torch.FloatTensor' and the like; with a dtype, tensor type or its name: `to()` it."""
        if dtype is None:
            return dtypes.type_name(self._data.dtype)
        return self.to(dtypes.as_dtype(dtype))

    def type_as(self, other):
        return self.to(other.dtype)

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        Device("cuda")

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    # ---- operators (reflected forms swap the operands) -----------------------------------------
    def __radd__(self, other):
        return _ew.add(other, self)

    def __rsub__(self, other):
        return _ew.sub(other, self)

    def __rmul__(self, other):
        return _ew.mul(other, self)

    def __rtruediv__(self, other):
        if isinstance(other, (int, float)) and self._data.dtype.kind == "f":
            # as torch: reciprocal, whose rule reads only its result, times the number
            return _ew.mul(_ew.reciprocal(self), other)
        return _ew.div(other, self)

    def __rfloordiv__(self, other):
        return _ew.floor_divide(other, self)

    def __rmod__(self, other):
        return _ew.remainder(other, self)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __rmatmul__(self, other):
        return _la.matmul(other, self)

    def __pos__(self):
        return self

    @property
    def T(self):
        return _shape.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _shape.adjoint(self, "mT")

    @property
    def mH(self):
        return _shape.adjoint(self, "mH")

    def adjoint(self):
        return _shape.adjoint(self)


builtins_bool = type(True)


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def _dim(dim, ndim, op):
    """Wrap a possibly negative dim into range, with PyTorch's IndexError otherwise."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n


class Size(tuple):
    """torch.Size: a tuple that prints as `torch.Size([2, 3])`."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        return int(np.prod(self))


class Device:
    """Only the CPU exists; asking for anything else is a clear error."""

    def __init__(self, spec="cpu", index=None):
        spec = spec.type if isinstance(spec, Device) else str(spec)
        if spec.split(":")[0] != "cpu":
            raise RuntimeError(f"device '{spec}' is not available: tapegrad runs on the CPU only "
                               "(tapegrad.cuda.is_available() is False)")
        self.type = "cpu"
        self.index = None

    def __repr__(self):
        return "device(type='cpu')"

    def __eq__(self, other):
        return isinstance(other, (Device, str)) and str(other).split(":")[0] == "cpu"

    def __hash__(self):
        return hash("cpu")

    def __str__(self):
        return "cpu"


_CPU = Device()


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


from . import engine  # noqa: E402
from .ops import elementwise as _ew, comparison as _cmp, reduction as _red  # noqa: E402
from .ops import shape as _shape, join as _join, cumulative as _cum  # noqa: E402
from .ops import indexing as _idx, linalg as _la, nn as _nn  # noqa: E402

# Tensor methods and operators that are plain delegations, grouped by the module defining them.
_METHODS = {
    _ew: "add sub mul div true_divide floor_divide remainder pow neg abs exp log log1p expm1 sqrt "
         "rsqrt sin cos tan tanh sigmoid relu sign clamp clip maximum minimum square reciprocal "
         "log2 log10 floor ceil round trunc frac where lerp".split(),
    _cmp: "eq ne lt le gt ge isnan isinf isfinite logical_not logical_and logical_or "
          "logical_xor equal allclose isclose".split(),
    _red: "sum mean prod max min amax amin argmax argmin var std norm logsumexp all any "
          "var_mean std_mean count_nonzero".split(),
    _cum: "cumsum cumprod".split(),
    _shape: "reshape view view_as reshape_as flatten unflatten squeeze unsqueeze transpose "
            "swapaxes swapdims permute t expand expand_as broadcast_to repeat tile flip movedim "
            "moveaxis sum_to_size".split(),
    _join: "split chunk narrow unbind".split(),
    _idx: "gather scatter scatter_add index_select masked_fill masked_select take_along_dim "
          "index_add index_put select nonzero argwhere".split(),
    _la: "matmul mm bmm mv dot outer inner ger".split(),
    _nn: "softmax log_softmax".split(),
}
# torch.linalg functions that PyTorch also offers as Tensor methods
_LINALG_METHODS = {"det": "det", "slogdet": "slogdet", "matrix_exp": "matrix_exp",
                   "cholesky": "cholesky", "inverse": "inv", "pinverse": "pinv"}
for _mod, _names in _METHODS.items():
    for _name in _names:
        setattr(Tensor, _name, getattr(_mod, _name))

# Operators.
_OPERATORS = {
    "__add__": (_ew, "add"),
    "__sub__": (_ew, "sub"),
    "__mul__": (_ew, "mul"),
    "__truediv__": (_ew, "div"),
    "__floordiv__": (_ew, "floor_divide"),
    "__mod__": (_ew, "remainder"),
    "__pow__": (_ew, "pow"),
    "__matmul__": (_la, "matmul"),
    "__neg__": (_ew, "neg"),
    "__abs__": (_ew, "abs"),
    "__eq__": (_cmp, "eq"),
    "__ne__": (_cmp, "ne"),
    "__lt__": (_cmp, "lt"),
    "__le__": (_cmp, "le"),
    "__gt__": (_cmp, "gt"),
    "__ge__": (_cmp, "ge"),
    "__invert__": (_cmp, "logical_not"),
    "__and__": (_cmp, "logical_and"),
    "__or__": (_cmp, "logical_or"),
    "__getitem__": (_idx, "getitem"),
    "__setitem__": (_idx, "setitem"),
}
for _dunder, (_mod, _name) in _OPERATORS.items():
    setattr(Tensor, _dunder, getattr(_mod, _name))

from . import inplace as _inplace_ops  # noqa: E402
for _name in _inplace_ops.METHODS:
    setattr(Tensor, _name, getattr(_inplace_ops, _name))

from . import linalg as _linalg  # noqa: E402  (after Tensor is complete: linalg uses its ops)
for _method, _name in _LINALG_METHODS.items():
    setattr(Tensor, _method, getattr(_linalg, _name))

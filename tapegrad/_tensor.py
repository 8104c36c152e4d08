"""`Tensor`, the data class: a NumPy array plus what autograd needs to know about it.

Here are its slots, array facts, conversions and autograd attributes (requires_grad, grad,
grad_fn, hooks, detach) and a view's history; no op methods. Its methods and operators are
installed from name tables by `_methods.py` (the module is `_tensor`, not `tensor`, because
`tapegrad.tensor` is the creation function, as in PyTorch).
"""
import warnings
import weakref

import numpy as np

from . import dtypes
from ._convert import legacy_array, _dim
from ._types import CPU, Size, Device, HookHandle
from ._state import FRESH, debug, own_counter, state, tick, hooked_leaves
from .printing import tensor_repr

_new = object.__new__
ndarray = np.ndarray

NONLEAF_GRAD = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
                "you access the leaf Tensor instead.")


class Tensor:
    """A multi-dimensional array that can record the ops applied to it, as torch.Tensor.

    Calling the class is PyTorch's legacy constructor: Tensor(data) copies `data`, Tensor(*size)
    makes a zero-filled tensor of that shape and Tensor() an empty one, always in the default float
    dtype (`tensor()` is the function that infers dtypes). The positional `args` are the data or
    the sizes; `device` may only name the CPU.
    """

    # Hot attributes are slots (`_base`: None, or for a view the tensor that owns the memory,
    # PyTorch's `_base`); rare ones live in the instance __dict__ (created on first write) and
    # default to the class attributes below, so making a tensor sets only five.
    __slots__ = ("_data", "_requires_grad", "_entry", "_counter", "_base", "__dict__",
                 "__weakref__")
    _index = 0          # which output of `_entry` this is
    _grad = None
    _hooks = None       # leaf hooks
    _post_accumulate_hooks = None     # leaf hooks run after .grad was accumulated
    _view = None        # for a view: the chain of view ops that takes it from `_base`
    _generation = 0         # for a view: the family generation its history is of
    _nograd_view = False     # a view made in no_grad mode: it may not be written with grad on
    _requires_grad_since = 0      # clock tick at which requires_grad was last turned on
    __array_ufunc__ = None     # `ndarray op Tensor` defers to Tensor's reflected operators

    def __init__(self, *args, device=None):
        """torch.Tensor(data) / Tensor(*size) / Tensor(): the default float dtype, as PyTorch's
        legacy constructor (`tensor()` is the one that infers dtypes)."""
        t = legacy_new(args, None, "Tensor", device)
        self._data, self._requires_grad, self._entry = t._data, t._requires_grad, t._entry
        self._counter, self._base = t._counter, None
        if t._entry is not None:        # an alias of a tensor that requires grad
            self._index = t._index

    # ---- array facts -------------------------------------------------------------------------
    shape = property(lambda self: Size(self._data.shape),
                     doc="The size of each dimension, a torch.Size (a tuple).")
    dtype = property(lambda self: dtypes.public(self._data.dtype),
                     doc="The element type, printed as PyTorch's (`torch.float32`).\n\n"
                         "It compares equal to the NumPy dtype of the data (internals use "
                         "_data.dtype).")
    ndim = property(lambda self: self._data.ndim, doc="The number of dimensions.")
    device = property(lambda self: CPU, doc="Where the data lives: always the CPU.")
    is_cuda = False
    layout = "strided"
    is_sparse = False      # tapegrad.sparse.SparseGrad (nn.Embedding(sparse=True)) says True

    def size(self, dim=None):
        """The shape of the tensor as a torch.Size, or the size of dimension `dim`.

        As torch.Tensor.size; a negative `dim` counts from the end.
        """
        return self.shape if dim is None else self._data.shape[_dim(dim, self.ndim, "size")]

    def dim(self):
        """The number of dimensions (alias `ndimension`), as torch.Tensor.dim."""
        return self._data.ndim

    ndimension = dim

    def numel(self):
        """The number of elements (alias `nelement`), as torch.Tensor.numel."""
        return self._data.size

    nelement = numel

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def element_size(self):
        """The size of one element in bytes, as torch.Tensor.element_size."""
        return self._data.itemsize

    def is_floating_point(self):
        """Whether the dtype is a floating point one, as torch.Tensor.is_floating_point."""
        return dtypes.is_floating(self._data.dtype)

    def is_contiguous(self):
        """Whether the data is C-contiguous in memory, as torch.Tensor.is_contiguous."""
        return self._data.flags.c_contiguous

    def stride(self, dim=None):
        """The strides in elements (a tuple), or the stride of dimension `dim`.

        As torch.Tensor.stride; NumPy's byte strides divided by the element size.
        """
        s = tuple(b // self._data.itemsize for b in self._data.strides)
        return s if dim is None else s[_dim(dim, self.ndim, "stride")]

    # ---- conversion --------------------------------------------------------------------------
    def numpy(self, force=False):
        """The NumPy array holding the data (shared memory), as torch.Tensor.numpy.

        Refused while the tensor requires grad and grad mode is on, as in PyTorch (use
        `detach().numpy()`), unless `force` is True.
        """
        if self._requires_grad and not force and state.grad_enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self._data
        return a if dtype is None else a.astype(dtype, copy=False)

    def item(self):
        """The value of a one-element tensor as a Python number, as torch.Tensor.item.

        Raises for a tensor with more than one element.
        """
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be "
                               "converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists of Python numbers, as torch.Tensor.tolist."""
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
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._requires_grad if self._entry is None else False))

    def __deepcopy__(self, memo):
        if self._entry is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        t = _leaf(self._data.copy())
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = _leaf(self._grad._data.copy())
        memo[id(self)] = t
        return t

    def cpu(self):
        """The tensor itself: tapegrad's tensors always live on the CPU (torch.Tensor.cpu)."""
        return self

    def cuda(self, *args, **kwargs):
        """Raise a clear RuntimeError: tapegrad runs on the CPU only (torch.Tensor.cuda).

        The `args` and `kwargs` (device, non_blocking, memory_format) of PyTorch's signature are
        accepted and ignored.
        """
        Device("cuda")

    def __pos__(self):
        return self

    # ---- autograd ----------------------------------------------------------------------------
    @property
    def requires_grad(self):
        """Whether ops on this tensor are recorded for backward; settable on leaves.

        Setting it is `requires_grad_(flag)`, as in PyTorch.
        """
        return fresh(self)._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        """Set `requires_grad` in place and return the tensor, as torch.Tensor.requires_grad_.

        Only floating point tensors can require grad; a non-leaf (a tensor made by recorded ops)
        can only be switched on, never off. `requires_grad` defaults to True.
        """
        flag = bool(requires_grad)
        if self._entry is not None:
            if not flag:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                                   "If you want to use a computed variable in a subgraph that "
                                   "doesn't require differentiation use var_no_grad = var.detach().")
            return self
        if flag and self._data.dtype.kind not in "fc" and \
                not dtypes.is_floating(self._data.dtype):
            raise RuntimeError(f"requires_grad_: only Tensors of floating point dtype can require "
                               f"gradients, got {self._data.dtype}")
        if flag and not self._requires_grad:
            self._requires_grad_since = tick()   # ops recorded before this send it no gradient
            if self._base is None and self._counter is not FRESH:   # (FRESH: it has no views)
                self._counter.generation += 1     # its views take their history again when used
        self._requires_grad = flag
        return self

    @property
    def is_leaf(self):
        """Whether the tensor has no recorded history (it was not made by a recorded op).

        As torch.Tensor.is_leaf: tensors that do not require grad are leaves too.
        """
        return fresh(self)._entry is None

    @property
    def grad_fn(self):
        """The tape entry that made this tensor, or None for a leaf.

        As torch.Tensor.grad_fn: it prints as PyTorch's node (`MulBackward0`), and its
        `next_functions` lead to the entries of the inputs.
        """
        return fresh(self)._entry

    @property
    def grad(self):
        """The gradient accumulated by backward, or None.

        As torch.Tensor.grad: filled for leaves that require grad (and for tensors that called
        `retain_grad()`); it may be assigned a tensor of the same shape and dtype, or None.
        Read on a non-leaf that does not retain its gradient, it warns as PyTorch does.
        """
        g = self._grad
        if g is None and self._requires_grad and not self.is_leaf and not self.retains_grad:
            warnings.warn(NONLEAF_GRAD, UserWarning, stacklevel=2)
        return g

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
        return self._counter.version

    @property
    def data(self):
        """A tensor sharing this one's memory but neither its history nor its version counter.

        As torch.Tensor.data: writes through `.data` are invisible to autograd's checks (PyTorch's
        semantics, unsafe by design; prefer `detach()`). Assigning a tensor or array replaces the
        data.
        """
        t = _leaf(self._data)
        return t if debug.on_cut is None else debug.on_cut(t, "data")

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        elif not isinstance(value, ndarray):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and value.dtype.kind not in "fc" and \
                not dtypes.is_floating(value.dtype):
            raise RuntimeError(f"data set to a tensor that requires gradients must be floating "
                               f"point or complex dtype (got {value.dtype})")
        self._data = value
        self._counter = FRESH

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in `.grad` after backward."""
        if not fresh(self)._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        e = self._entry
        if e is not None:
            if e.retained is None:
                e.retained = {}
            e.retained[self._index] = weakref.ref(self)
            if e.hooks is None:
                e.hooks = {}      # the engine looks at an entry's outputs only when it has hooks

    @property
    def retains_grad(self):
        """Whether `retain_grad()` was called on this tensor, as torch.Tensor.retains_grad."""
        e = self._entry
        return bool(e is not None and e.retained and self._index in e.retained)

    def register_hook(self, hook):
        """Call `hook(grad)` on this tensor's gradient before it is used.

        As torch.Tensor.register_hook: a tensor returned by `hook` replaces the gradient. Returns a
        handle whose `remove()` unregisters the hook.
        """
        if not fresh(self)._requires_grad:
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
        return HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call `hook(self)` right after a backward accumulated this leaf's `.grad`.

        As torch.Tensor.register_post_accumulate_grad_hook: once per backward, leaves only. Returns
        a handle whose `remove()` unregisters the hook.
        """
        if not fresh(self)._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._entry is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
            hooked_leaves.add(self)      # so the replay finishes this leaf early
        self._post_accumulate_hooks.append(hook)
        return HookHandle(self._post_accumulate_hooks, hook)

    def detach(self):
        """A tensor sharing this one's data (and version counter) without autograd history."""
        t = _leaf(self._data)
        t._counter = own_counter(self)   # same memory: writes through either are seen by both
        return t if debug.on_cut is None else debug.on_cut(t, "detach")

    def detach_(self):
        """Cut this tensor from its history in place, making it a leaf, as torch.Tensor.detach_.

        It no longer requires grad; views cannot be detached in place (use `detach()`).
        """
        if self._base is not None and self._entry is not None:
            raise RuntimeError("detach_: can't detach a view in place; use detach() instead")
        self._entry = None
        self._requires_grad = False
        return self


def _leaf(out):
    """Wrap an array as a tensor with no history."""
    if type(out) is not ndarray:
        out = np.asarray(out)
    t = _new(Tensor)
    t._data = out
    t._requires_grad = False
    t._entry = None
    t._counter = FRESH
    t._base = None
    return t


def _restore(entry, i):
    """A tensor for output i of `entry`, wired to it, so rules that read `out` stay differentiable."""
    t = _leaf(entry.out[i])
    t._requires_grad = True
    t._entry = entry
    t._index = i
    return t


def _rebuild(data, requires_grad):
    """Unpickle a tensor (what `__reduce_ex__` names)."""
    t = _leaf(data)
    t._requires_grad = requires_grad
    return t


def unwrap(data):
    """Nested data with every tensor replaced by its array."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [unwrap(d) for d in data]
    return data


def legacy_new(args, dtype, name, device=None):
    """PyTorch's legacy constructors `Tensor(...)`, `FloatTensor(...)`: from data, `*size`,
    or a tensor (an alias: its memory under a new tensor, differentiable as PyTorch's)."""
    if device is not None:
        Device(device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return _alias(args[0], dtype, name)
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    elif args and isinstance(args[0], (list, tuple)):
        args = (unwrap(args[0]),) + args[1:]
    return _leaf(legacy_array(args, dtypes._Default.float if dtype is None else dtype, name))


def _alias(t, dtype, name):
    if dtype is not None and t._data.dtype != dtype:
        raise TypeError(f"{name}(): expected a tensor of dtype {dtypes.public(dtype)}, got one "
                        f"of dtype {t.dtype}; convert it with .to() first")
    if t._requires_grad and state.grad_enabled:
        return t.view_as(t)
    a = _leaf(t._data)
    a._counter = own_counter(t)   # same memory: writes through either are seen by both
    return a


# ---- a view's history --------------------------------------------------------------------------
def region(a, chain):
    """What a view made by `chain` (view ops from its base) sees of `a` (array or tensor)."""
    for op, rest, params in chain:
        a = op(a, *rest, **params)
    return a


def snapshot(t, copy=False):
    """A tensor holding t's current history (and, with copy, its current values)."""
    s = _new(Tensor)
    s._data = t._data.copy() if copy else t._data
    s._counter = FRESH if copy else own_counter(t)
    s._base = None
    s._requires_grad, s._entry, s._index = t._requires_grad, t._entry, t._index
    return s


def take_history(t, src):
    """t (written in place, or a view regenerated) takes the history of src, a fresh output.

    Consumers recorded before keep routing to t's earlier state (`Entry.prev`). A retained
    gradient moves to the new history; hooks stay with the old one, as in PyTorch.
    """
    e = src._entry
    if e is None:                 # nothing upstream requires grad
        t._requires_grad, t._entry, t._index = False, None, 0
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
    t._requires_grad, t._entry, t._index = src._requires_grad, e, src._index


def fresh(t):
    """Give view t its history again if its family was written since it was made (only
    while grad mode is on: that is when the history is recorded). Returns t."""
    base = t._base
    if base is None:
        return t
    if t._nograd_view:
        t._requires_grad = base._requires_grad   # as in torch: it follows its base's flag
        return t
    gen = t._counter.generation
    if t._generation == gen or not state.grad_enabled:
        return t
    take_history(t, region(base, t._view))
    t._generation = gen
    return t

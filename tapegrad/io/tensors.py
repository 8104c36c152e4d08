"""Storages and tensors as a PyTorch checkpoint describes them: element kinds, bounds, views.

A loaded storage is one flat NumPy array; every tensor on it is a strided view of that array
(`np.ndarray(buffer=...)`), so tensors that shared storage in PyTorch share memory here.
bfloat16 loads as bfloat16 when ml_dtypes (its NumPy dtype) is installed; without it, its
storages are widened to float32 (exactly: a bfloat16 is the top half of a float32).
"""
import pickle
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..creation import from_numpy
from .._types import Size
from .._tensor import Tensor

UnpicklingError = pickle.UnpicklingError


class Kind(NamedTuple):
    """One element type: PyTorch's dtype and legacy storage names, its bytes in a file, and
    the tapegrad dtype it loads as (None: tapegrad has no such dtype)."""
    name: str
    storage: str
    file_dtype: np.dtype
    dtype: object


def _kind(name, storage, file_dtype, dtype):
    return Kind(name, storage, np.dtype(file_dtype), dtype)


KINDS = (
    _kind("float64", "DoubleStorage", "<f8", dtypes.float64),
    _kind("float32", "FloatStorage", "<f4", dtypes.float32),
    _kind("float16", "HalfStorage", "<f2", dtypes.float16),
    # with ml_dtypes, bfloat16 loads as bfloat16; without it, widened to float32
    _kind("bfloat16", "BFloat16Storage", "<u2", dtypes._BF16 or dtypes.float32),
    _kind("int64", "LongStorage", "<i8", dtypes.int64),
    _kind("int32", "IntStorage", "<i4", dtypes.int32),
    _kind("int16", "ShortStorage", "<i2", dtypes.int16),
    _kind("int8", "CharStorage", "<i1", dtypes.int8),
    _kind("uint8", "ByteStorage", "<u1", dtypes.uint8),
    _kind("bool", "BoolStorage", "<?", dtypes.bool),
    _kind("complex64", "ComplexFloatStorage", "<c8", None),
    _kind("complex128", "ComplexDoubleStorage", "<c16", None),
    _kind("uint16", None, "<u2", None),     # torch >= 2.3 dtypes with no storage class
    _kind("uint32", None, "<u4", None),
    _kind("uint64", None, "<u8", None),
)
UNTYPED = _kind("uint8", "UntypedStorage", "<u1", dtypes.uint8)
BY_NAME = {k.name: k for k in KINDS}
BY_DTYPE = {k.dtype: k for k in KINDS
            if k.dtype is not None and (k.name != "bfloat16" or dtypes._BF16 is not None)}
BFLOAT16 = BY_NAME["bfloat16"]

# What `torch.bfloat16` unpickles to: float32 (what its tensors load as), as a distinct dtype
# object so that _rebuild_tensor_v3 can still tell that the bytes are bfloat16.
BFLOAT16_DTYPE = np.dtype(np.float32, metadata={"torch": "bfloat16"})


def supported(kind):
    if kind.dtype is None:
        raise RuntimeError(f"load: {kind.name} tensors are not supported: tapegrad has no "
                           f"{kind.name} dtype")
    return kind


class Storage:
    """A storage from a checkpoint: `array` holds its elements, in native byte order. A view
    storage (legacy format) shares its root's array and the root's converted copies."""

    __slots__ = ("kind", "array", "byteorder", "_views", "_root", "_offset")

    def __init__(self, kind, numel):
        self.kind = supported(kind)
        self.array = np.empty(numel, kind.dtype)
        self.byteorder = "little"
        self._views = {}
        self._root, self._offset = self, 0

    def fill(self, data, byteorder="little"):
        """Set the elements from their bytes as the file holds them (`byteorder` endian)."""
        order = "<" if byteorder == "little" else ">"
        src = np.frombuffer(data, self.kind.file_dtype.newbyteorder(order), self.array.size)
        if self.kind is BFLOAT16 and dtypes._BF16 is not None:
            self.array.view(np.uint16)[...] = src       # the same 16 bits
        elif self.kind is BFLOAT16:
            np.left_shift(src, 16, out=self.array.view(np.uint32), dtype=np.uint32)
        elif src.dtype.kind == "b":      # a byte other than 0 or 1 is still True, and stored as 1
            np.not_equal(src.view(np.uint8), 0, out=self.array)
        else:
            self.array[...] = src
        self.byteorder = byteorder
        self._views.clear()     # conversions made before the bytes arrived (legacy first pass)

    def view_as(self, kind):
        """This untyped storage's bytes as elements of `kind` (_rebuild_tensor_v3)."""
        if self.kind is not UNTYPED:
            if kind.name != self.kind.name:
                raise RuntimeError(f"load: a {self.kind.name} storage is used as {kind.name}")
            return self.array
        size = supported(kind).file_dtype.itemsize
        # Views of one root share its conversions: at most one per dtype and byte phase, so
        # many views cost no more than the root itself.
        flat = self._root._converted(kind, self._offset % size)
        first = self._offset // size
        return flat[first:first + self.array.size // size]

    def _converted(self, kind, phase):
        """This root's bytes from byte `phase` on, as whole elements of `kind` (cached)."""
        flat = self._views.get((kind.name, phase))
        if flat is None:
            size = kind.file_dtype.itemsize
            raw = self.array[phase:]
            raw = raw[:raw.size // size * size]
            if (kind is BFLOAT16 or self.byteorder != "little" or not kind.file_dtype.isnative
                    or phase):      # phase: a copy, so that the elements are aligned
                converted = Storage(kind, raw.size // size)
                converted.fill(raw, self.byteorder)
                flat = converted.array
            else:
                flat = raw.view(kind.dtype)
            self._views[(kind.name, phase)] = flat
        return flat

    def slice(self, offset, numel):
        """A view storage on elements [offset, offset + numel) (legacy storage views)."""
        offset, numel = _index(offset, "storage view offset"), _index(numel, "storage view size")
        if offset + numel > self.array.size:
            raise RuntimeError(f"load: a storage view [{show(offset)}, {show(offset + numel)}) "
                               f"lies outside its storage of {self.array.size} elements")
        view = Storage.__new__(Storage)
        view.kind, view.byteorder, view._views = self.kind, self.byteorder, {}
        view._root, view._offset = self._root, self._offset + offset
        view.array = self.array[offset:offset + numel]
        return view


def show(n):
    """An int for an error message: a huge one by its size (str() of a 100,000-bit int is
    slow, and refused past 4300 digits)."""
    return str(n) if -2 ** 64 < n < 2 ** 64 else f"<a {n.bit_length()}-bit integer>"


def show_dims(seq):
    """A shape or stride list for an error message, huge entries and long lists shortened."""
    items = [show(x) if type(x) is int else type(x).__name__ for x in seq[:8]]
    return "[" + ", ".join(items + ["..."] * (len(seq) > 8)) + "]"


def count(shape, limit=2 ** 62):
    """The product of `shape` (non-negative ints), or None when it exceeds `limit`: stops
    early, so that a long shape of big dims costs no big-integer arithmetic."""
    if 0 in shape:
        return 0
    n = 1
    for d in shape:
        n *= d
        if n > limit:
            return None
    return n


def storage_id(pid, length):
    """(kind, key, numel) from a persistent id ('storage', type, key, location, numel[, view])."""
    if (type(pid) is not tuple or len(pid) != length or type(pid[0]) not in (str, bytes)
            or pid[0] not in ("storage", b"storage")):
        raise UnpicklingError("load: a persistent id must be a ('storage', type, key, location, "
                              "numel) tuple")
    _, kind, key, location, numel = pid[:5]
    if type(kind) is not Kind or type(location) not in (str, bytes):
        raise UnpicklingError("load: malformed storage persistent id")
    if type(key) is bytes:
        key = key.decode("ascii")
    if type(key) is not str or type(numel) is not int or numel < 0:
        raise UnpicklingError("load: malformed storage persistent id")
    return supported(kind), key, numel


def _index(x, what):
    if type(x) is not int or x < 0:
        raise UnpicklingError(f"load: {what} must be a non-negative int, got "
                              f"{type(x).__name__}")
    return x


def _ints(seq, what):
    if not isinstance(seq, (tuple, list)) or any(type(x) is not int for x in seq):
        raise UnpicklingError(f"load: {what} must be a tuple of ints")
    return tuple(seq)


def view(flat, offset, size, stride):
    """The strided view `flat[offset + sum(i * stride)]` of shape `size`, bounds-checked."""
    offset = _index(offset, "storage offset")
    shape, strides = _ints(size, "tensor size"), _ints(stride, "tensor stride")
    geometry = f"size {show_dims(shape)}, stride {show_dims(strides)}"
    if len(shape) != len(strides) or min(shape + strides, default=0) < 0:
        raise RuntimeError(f"load: invalid tensor geometry: {geometry} (sizes and strides must "
                           "be non-negative, one each)")
    item = flat.itemsize
    numel = count(shape, 2 ** 62 // item)
    if numel is None or max(shape + strides + (offset,)) >= 2 ** 62 // item:
        raise RuntimeError(f"load: tensor of {geometry} and storage offset {show(offset)} is "
                           "too large")
    byte_strides = tuple(s * item for s in strides)
    if numel == 0:
        return np.ndarray(shape, flat.dtype, buffer=flat[:0], strides=byte_strides)
    last = offset + sum((n - 1) * s for n, s in zip(shape, strides))
    if last >= flat.size:
        raise RuntimeError(f"load: tensor of {geometry} and storage offset {offset} needs "
                           f"{show(last + 1)} elements, but its storage holds {flat.size}")
    return np.ndarray(shape, flat.dtype, buffer=flat, offset=offset * item, strides=byte_strides)


def _tensor(array, requires_grad):
    if type(requires_grad) is not bool:
        raise UnpicklingError("load: requires_grad must be a bool")
    t = from_numpy(array)
    if requires_grad and dtypes.is_floating(array.dtype):
        t.requires_grad_(True)
    return t


def _storage(storage):
    if type(storage) is not Storage:
        raise UnpicklingError("load: a tensor's storage must come from the checkpoint's storage "
                              "records")
    return storage


# ---- PyTorch's rebuild functions, as the allow-list resolves them ------------------------------
def rebuild_tensor(storage, storage_offset, size, stride):
    """torch._utils._rebuild_tensor (checkpoints from PyTorch < 1.0)."""
    return _tensor(view(_storage(storage).array, storage_offset, size, stride), False)


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                      backward_hooks=None, metadata=None):
    """torch._utils._rebuild_tensor_v2: a tensor on a typed storage; hooks are never loaded."""
    flat = _storage(storage).array
    return _tensor(view(flat, storage_offset, size, stride), requires_grad)


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      dtype, metadata=None):
    """torch._utils._rebuild_tensor_v3: a tensor of `dtype` on an untyped storage."""
    if dtype is BFLOAT16_DTYPE:
        kind = BFLOAT16
    elif isinstance(dtype, np.dtype) and dtype in BY_DTYPE:
        kind = BY_DTYPE[dtype]
    else:
        raise UnpicklingError("load: _rebuild_tensor_v3 needs a torch dtype")
    flat = _storage(storage).view_as(kind)
    return _tensor(view(flat, storage_offset, size, stride), requires_grad)


def rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """torch._utils._rebuild_parameter(_with_state): an nn.Parameter (attributes not loaded)."""
    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise UnpicklingError("load: _rebuild_parameter needs a tensor and a bool")
    return parameter(data, requires_grad)


class _ParameterClass:
    """The class checkpoints use for torch.nn.Parameter: tapegrad.nn registers its Parameter
    here on import (io sits beside nn and never imports it)."""

    cls = None


def register_parameter_class(cls):
    _ParameterClass.cls = cls


def parameter_class():
    return _ParameterClass.cls


def parameter(t, requires_grad):
    """tapegrad.nn.Parameter(t) where it exists; else t itself as a leaf requiring grad."""
    cls = _ParameterClass.cls
    requires_grad = requires_grad and t.is_floating_point()
    if cls is not None:
        return cls(t, requires_grad=requires_grad)
    return t.requires_grad_(requires_grad)


class TypeMarker:
    """torch.Tensor or torch.nn.Parameter as a pickle names them: a name, never instantiated."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


TENSOR_TYPE, PARAMETER_TYPE = TypeMarker("torch.Tensor"), TypeMarker("torch.nn.Parameter")
REBUILDERS = (rebuild_tensor, rebuild_tensor_v2, rebuild_tensor_v3, rebuild_parameter)


def rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2: `func(*args)` as a Tensor or Parameter; Python
    attributes (`state`) are not loaded."""
    if not any(func is f for f in REBUILDERS) or type(args) is not tuple:
        raise UnpicklingError("load: _rebuild_from_type_v2 may only call a tensor rebuild function")
    if new_type is not TENSOR_TYPE and new_type is not PARAMETER_TYPE:
        raise UnpicklingError(f"load: refusing to rebuild a tensor as a {type(new_type).__name__}"
                              ": only torch.Tensor and torch.nn.Parameter are allowed")
    t = func(*args)
    return parameter(t, t.requires_grad) if new_type is PARAMETER_TYPE else t


def size(dims=()):
    """torch.Size -> tapegrad.Size."""
    return Size(_ints(dims, "torch.Size"))

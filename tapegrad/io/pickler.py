"""Pickling a checkpoint without torch: the protocol-2 opcodes and globals torch.save writes.

Python's pickler can't write tensors: naming `torch._utils._rebuild_tensor_v2` in a pickle
makes it import torch to check the name. This writer emits opcodes directly for what a
checkpoint holds (tensors, numbers, strings, bytes, None and dict/list/tuple/set containers),
using only opcodes and globals that `torch.load(weights_only=True)` accepts. Anything else
(NumPy arrays, other objects) goes through Python's own pickler as torch.save's would: only
`load(weights_only=False)` (or allow-listed globals) reads those back.
"""
import pickle
import struct
from collections import Counter, OrderedDict

import numpy as np

from .. import dtypes
from .._types import Device, Size
from .._tensor import Tensor
from . import tensors

_BATCH = 1000


class StorageTable:
    """Assigns each tensor a storage record: tensors viewing one NumPy buffer share one record,
    written once; a tensor that can't be described as a view of its buffer gets a copy."""

    def __init__(self):
        self._by_root = {}     # id(root array) -> (root, kind, key)
        self.records = []      # (key, uint8 array of the storage's bytes)

    def place(self, a):
        """(kind, key, numel, offset, strides) of ndarray `a`, all counted in elements."""
        kind = tensors.BY_DTYPE[a.dtype]
        root = a
        while isinstance(root.base, np.ndarray):
            root = root.base
        entry = self._by_root.get(id(root))
        placed = _geometry(a, root) if a.size else None
        if placed is None or (entry is not None and entry[1] is not kind):
            root = np.ascontiguousarray(a)           # its own storage, contiguous
            placed, entry = _geometry(root, root) if a.size else (0, (1,) * a.ndim), None
        if entry is None:
            entry = (root, kind, str(len(self.records)))
            self._by_root[id(root)] = entry
            self.records.append((entry[2], np.ravel(root, order="K").view(np.uint8)))
        return (kind, entry[2], root.nbytes // a.itemsize) + placed


def _geometry(a, root):
    """(offset, strides) of `a` in elements of contiguous `root`'s memory, or None."""
    item = a.itemsize
    if not (root.flags.c_contiguous or root.flags.f_contiguous) or root.nbytes % item:
        return None
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    strides, last, inner = [], offset, 1
    for n, s in reversed(list(zip(a.shape, a.strides))):
        if n == 1:
            s = inner * item     # any stride is valid for a dimension of one: a canonical one
        if s < 0 or s % item:
            return None
        strides.append(s // item)
        last += (n - 1) * s
        inner *= n
    if offset < 0 or offset % item or last + item > root.nbytes:
        return None
    return offset // item, tuple(reversed(strides))


class Pickler:
    """`dump(obj)` -> (pickle bytes, storage records)."""

    def __init__(self):
        self._parameter = tensors.parameter_class()
        self.out = bytearray()
        self.memo = {}       # id(obj) or ('str'|'global', value) -> memo index
        self._alive = []     # objects memoized by id, kept alive so ids stay unique
        self.storages = StorageTable()
        self._fallback = None

    def dump(self, obj):
        self.out += b"\x80\x02"
        self.save(obj)
        self.out += b"."
        return bytes(self.out), self.storages.records

    # ---- the memo ----------------------------------------------------------------------------
    def _memoize(self, key, obj=None):
        i = self.memo[key] = len(self.memo)
        if obj is not None:
            self._alive.append(obj)
        self.out += b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i)

    def _get(self, i):
        self.out += b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i)

    def _global(self, module, name):
        key = ("global", module, name)
        if key in self.memo:
            return self._get(self.memo[key])
        self.out += f"c{module}\n{name}\n".encode("ascii")
        self._memoize(key)

    def _call(self, module, name, *args):
        """Pickle `module.name(*args)`."""
        self._global(module, name)
        self._tuple(args)
        self.out += b"R"

    # ---- objects -----------------------------------------------------------------------------
    def save(self, obj):
        i = self.memo.get(id(obj))
        if i is not None:
            return self._get(i)
        save = _DISPATCH.get(type(obj))
        if save is not None:
            return save(self, obj)
        if isinstance(obj, Tensor):
            return self._tensor(obj)
        if isinstance(obj, dict):         # dict subclasses are written as dict / OrderedDict
            return self._dict(obj)
        if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
            return self.save(obj.item())
        if isinstance(obj, dtypes.dtype) and obj.dtype in tensors.BY_DTYPE:    # tapegrad.float32
            return self._global("torch", tensors.BY_DTYPE[obj.dtype].name)
        return self._standard(obj)      # a NumPy dtype too: an ndarray's state holds one

    def _standard(self, obj):
        """`obj` as Python's pickler writes it, sharing this pickle's memo; what it holds
        (tensors, containers) comes back here."""
        if self._fallback is None:
            self._fallback = _Fallback(self)
        try:
            pickle._Pickler.save(self._fallback, obj)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            if str(e).startswith("save: "):
                raise
            raise type(e)(f"save: can't pickle an object of type {type(obj).__name__}: "
                          f"{e}") from e

    def _none(self, obj):
        self.out += b"N"

    def _bool(self, obj):
        self.out += b"\x88" if obj else b"\x89"

    def _int(self, obj):
        if 0 <= obj < 256:
            self.out += b"K" + bytes([obj])
        elif 0 <= obj < 65536:
            self.out += b"M" + struct.pack("<H", obj)
        elif -2 ** 31 <= obj < 2 ** 31:
            self.out += b"J" + struct.pack("<i", obj)
        else:
            raw = obj.to_bytes(obj.bit_length() // 8 + 1, "little", signed=True)
            self.out += (b"\x8a" + bytes([len(raw)]) if len(raw) < 256
                         else b"\x8b" + struct.pack("<i", len(raw))) + raw

    def _float(self, obj):
        self.out += b"G" + struct.pack(">d", obj)

    def _str(self, obj):
        key = ("str", obj)
        if key in self.memo:
            return self._get(self.memo[key])
        raw = obj.encode("utf-8", "surrogatepass")
        self.out += b"X" + struct.pack("<I", len(raw)) + raw
        self._memoize(key)

    def _bytes(self, obj):       # protocol 2 has no bytes opcode: _codecs.encode(text, 'latin1')
        self._call("_codecs", "encode", obj.decode("latin-1"), "latin1")

    def _bytearray(self, obj):
        self._call("builtins", "bytearray", bytes(obj))
        self._memoize(id(obj), obj)

    def _complex(self, obj):
        self._call("builtins", "complex", obj.real, obj.imag)

    def _tuple(self, obj):
        if not obj:
            self.out += b")"
            return
        if len(obj) > 3:
            self.out += b"("
        for x in obj:
            self.save(x)
        if id(obj) in self.memo:     # the tuple was reached through its own items
            self.out += b"1" if len(obj) > 3 else b"0" * len(obj)
            return self._get(self.memo[id(obj)])
        self.out += b"t" if len(obj) > 3 else b"\x85\x86\x87"[len(obj) - 1:len(obj)]
        self._memoize(id(obj), obj)

    def _list(self, obj):
        self.out += b"]"
        self._memoize(id(obj), obj)
        for i in range(0, len(obj), _BATCH):
            self.out += b"("
            for x in obj[i:i + _BATCH]:
                self.save(x)
            self.out += b"e"

    def _dict(self, obj):
        if isinstance(obj, OrderedDict):
            self._call("collections", "OrderedDict")
        else:
            self.out += b"}"
        self._memoize(id(obj), obj)
        items = list(obj.items())
        for i in range(0, len(items), _BATCH):
            self.out += b"("
            for k, v in items[i:i + _BATCH]:
                self.save(k)
                self.save(v)
            self.out += b"u"
        attrs = getattr(obj, "__dict__", None)
        if isinstance(obj, OrderedDict) and attrs:     # e.g. a state_dict's _metadata
            self.save(dict(attrs))
            self.out += b"b"

    def _set(self, obj):
        self._call("builtins", "set", list(obj))
        self._memoize(id(obj), obj)

    def _counter(self, obj):     # as Counter.__reduce__: Counter(dict(obj))
        self._call("collections", "Counter", dict(obj))
        self._memoize(id(obj), obj)

    def _size(self, obj):
        self._call("torch", "Size", tuple(obj))

    def _device(self, obj):
        self._call("torch", "device", str(obj))

    def _tensor(self, t):
        a = t._data
        kind, key, numel, offset, strides = self.storages.place(a)
        is_param = self._parameter is not None and isinstance(t, self._parameter)
        requires_grad = t._requires_grad and t._entry is None    # history is not saved: leaves only
        if is_param:
            self._global("torch._utils", "_rebuild_parameter")
            self.out += b"("
        self._global("torch._utils", "_rebuild_tensor_v2")
        self.out += b"(("
        self.save("storage")
        self._global("torch", kind.storage)
        self.save(key)
        self.save("cpu")
        self.save(numel)
        self.out += b"tQ"           # the storage tuple, as a persistent id
        self.save(offset)
        self._tuple(tuple(a.shape))
        self._tuple(strides)
        self.save(requires_grad and not is_param)
        self._call("collections", "OrderedDict")    # backward hooks: none
        self.out += b"tR"
        if is_param:
            self.save(requires_grad)
            self._call("collections", "OrderedDict")
            self.out += b"tR"
        self._memoize(id(t), t)


_DISPATCH = {
    type(None): Pickler._none, bool: Pickler._bool, int: Pickler._int, float: Pickler._float,
    str: Pickler._str, bytes: Pickler._bytes, bytearray: Pickler._bytearray,
    complex: Pickler._complex, tuple: Pickler._tuple, list: Pickler._list, dict: Pickler._dict,
    OrderedDict: Pickler._dict, Counter: Pickler._counter, set: Pickler._set, Size: Pickler._size, Device: Pickler._device,
}


class _SharedMemo:
    """The view of Pickler's memo that Python's pickler expects: id -> (index, object)."""

    def __init__(self, owner):
        self._owner = owner

    def __len__(self):
        return len(self._owner.memo)

    def __contains__(self, key):
        return key in self._owner.memo

    def __getitem__(self, key):
        return self._owner.memo[key], None

    def get(self, key, default=None):
        i = self._owner.memo.get(key)
        return default if i is None else (i, None)

    def __setitem__(self, key, value):
        self._owner.memo[key] = value[0]
        self._owner._alive.append(value[1])


class _Fallback(pickle._Pickler):
    """Python's pure-Python pickler at protocol 2 (as torch.save), writing into Pickler's
    stream; every object it meets goes back to Pickler.save first."""

    def __init__(self, owner):
        super().__init__(_Appender(owner.out), protocol=2)
        self.memo = _SharedMemo(owner)
        self._owner = owner

    def save(self, obj, save_persistent_id=True):
        self._owner.save(obj)


class _Appender:
    def __init__(self, out):
        self.write = out.extend

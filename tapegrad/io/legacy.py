"""PyTorch's legacy checkpoint format (torch.save before 1.6, or _use_new_zipfile_serialization
=False): pickles back to back, then the storages' bytes.

The file holds, in order: the magic number, the protocol version (1001), a dict of system
info, the object (its tensors name storages by key), the list of storage keys, and for each
key an int64 element count followed by the storage's bytes.
"""
import struct

from . import tensors
from .trusted import TrustedUnpickler
from .unpickler import Unpickler, UnpicklingError

MAGIC = 0x1950a86a20f9469cfc6c
PROTOCOL = 1001


def read(data, encoding="utf-8", trusted=False):
    """The object in legacy checkpoint `data` (bytes); `trusted`: unpickle it with Python's
    unrestricted unpickler (weights_only=False)."""
    magic, pos = _plain(data, 0)
    if magic != MAGIC:
        raise RuntimeError("load: not a PyTorch checkpoint (wrong magic number)")
    protocol, pos = _plain(data, pos)
    if protocol != PROTOCOL:
        raise RuntimeError(f"load: unsupported legacy checkpoint protocol {protocol!r}")
    info, pos = _plain(data, pos)
    if type(info) is not dict or type(info.get("little_endian", True)) is not bool:
        raise RuntimeError("load: malformed system info in the legacy checkpoint")
    byteorder = "little" if info.get("little_endian", True) else "big"
    storages, views, left = {}, {}, [len(data) - pos]

    def persistent_load(pid):
        kind, key, numel = tensors.storage_id(pid, 6)
        storage = storages.get(key)
        if storage is None:
            nbytes = numel * kind.file_dtype.itemsize
            if nbytes > left[0]:     # allocated before its bytes are read: bound it by the file
                raise RuntimeError(f"load: storage {key[:40]!r} declares {tensors.show(nbytes)} "
                                   "bytes, more than the file holds")
            left[0] -= nbytes
            storage = storages[key] = tensors.Storage(kind, numel)
        elif storage.kind is not kind or storage.array.size != numel:
            raise RuntimeError(f"load: storage {key[:40]!r} is declared twice, differently")
        return storage if pid[5] is None else _view(views, key, storage, pid[5])

    # The object is unpickled twice: first to meet its storages (their bytes come after it),
    # then, with the storages filled, to build the tensors from them. A trusted pickle may run
    # code, so it is unpickled once: its tensors view their typed storages, filled in place.
    budget = 4 * len(data) + 2 ** 20
    first = (TrustedUnpickler(data, pos, persistent_load, encoding) if trusted else
             Unpickler(data, pos, persistent_load, encoding, budget))
    obj = first.load()
    keys, end = _plain(data, first.pos)
    if type(keys) is not list:
        raise RuntimeError("load: malformed storage key list in the legacy checkpoint")
    filled = set()
    for key in keys:
        storage = storages.get(key) if type(key) is str else None
        if storage is None or key in filled:
            raise RuntimeError(f"load: unexpected storage key {str(key)[:40]!r} in the file")
        if end + 8 > len(data):
            raise RuntimeError("load: the legacy checkpoint is truncated")
        numel = struct.unpack_from("<q" if byteorder == "little" else ">q", data, end)[0]
        nbytes = storage.array.size * storage.kind.file_dtype.itemsize
        if numel != storage.array.size or end + 8 + nbytes > len(data):
            raise RuntimeError(f"load: storage {key!r} is truncated or has the wrong size")
        storage.fill(memoryview(data)[end + 8:end + 8 + nbytes], byteorder)
        filled.add(key)
        end += 8 + nbytes
    if len(filled) != len(storages):
        raise RuntimeError("load: the legacy checkpoint lacks the bytes of some storages")
    if trusted:
        return obj
    return Unpickler(data, pos, persistent_load, encoding, budget).load()


def _view(views, key, storage, spec):
    """The view storage `spec` = (view key, offset, numel) of `storage`: one object per view
    key, as PyTorch makes, whichever tensors and passes name it."""
    if type(spec) is not tuple or len(spec) != 3 or type(spec[0]) not in (str, bytes):
        raise UnpicklingError("load: malformed storage view in a persistent id")
    seen = views.get(spec[0])
    if seen is None:
        seen = views[spec[0]] = (key, spec[1:], storage.slice(spec[1], spec[2]))
    elif seen[:2] != (key, spec[1:]):
        raise RuntimeError(f"load: storage view {str(spec[0])[:40]!r} is declared twice, "
                           "differently")
    return seen[2]


def _plain(data, pos):
    """One pickle of plain data at `pos`: (object, position after it)."""
    u = Unpickler(data, pos)
    return u.load(), u.pos

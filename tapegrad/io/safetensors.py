""".safetensors files, read natively (the optional `safetensors` package is not needed).

The format: an 8-byte little-endian header length, a JSON header mapping each name to its
dtype, shape and [begin, end) byte range in the data that follows, then the data.
"""
import json
import struct
from collections import OrderedDict

from ..creation import from_numpy
from . import tensors

MAX_HEADER = 100 * 2 ** 20     # the format's own limit
_KINDS = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
          "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
          "BOOL": "bool"}


def looks_like(head, size):
    """Whether a file starting with bytes `head` (at least 9) of `size` bytes is safetensors."""
    n = struct.unpack("<Q", head[:8])[0]
    return head[8:9] == b"{" and 8 + n <= size


def read(f, size):
    """The tensors of safetensors file `f` (seekable, at its start) as an OrderedDict."""
    n = struct.unpack("<Q", f.read(8))[0]
    if n > min(MAX_HEADER, size - 8):
        raise RuntimeError("load: safetensors header is larger than the file")
    header = json.loads(f.read(n).decode("utf-8"), object_pairs_hook=_unique)
    if type(header) is not dict:
        raise RuntimeError("load: safetensors header is not a JSON object")
    entries = [_entry(name, spec) for name, spec in header.items() if name != "__metadata__"]
    _check_layout(entries, size - 8 - n)
    out = OrderedDict()
    for name, kind, shape, (begin, end) in entries:
        f.seek(8 + n + begin)
        storage = tensors.Storage(kind, (end - begin) // kind.file_dtype.itemsize)
        storage.fill(f.read(end - begin))
        out[name] = from_numpy(storage.array.reshape(shape))
    return out


def _unique(pairs):
    """A JSON object as a dict; a name given twice is refused (readers keep different ones)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        raise RuntimeError("load: the safetensors header names one entry twice")
    return out


def _entry(name, spec):
    """(name, kind, shape, [begin, end]) of one header entry, its sizes checked."""
    spec = spec if type(spec) is dict else {}
    dtype, shape, offsets = spec.get("dtype"), spec.get("shape"), spec.get("data_offsets")
    kind = tensors.BY_NAME.get(_KINDS.get(dtype)) if type(dtype) is str else None
    if (kind is None or type(shape) is not list or type(offsets) is not list or len(offsets) != 2
            or any(type(x) is not int or x < 0 for x in shape + offsets)):
        raise RuntimeError(f"load: malformed safetensors entry {name[:100]!r}")
    begin, end = offsets
    count = tensors.count(shape, end // kind.file_dtype.itemsize)
    if begin > end or count is None or end - begin != count * kind.file_dtype.itemsize:
        raise RuntimeError(f"load: safetensors entry {name[:100]!r}: byte range "
                           f"{tensors.show_dims(offsets)} does not match shape "
                           f"{tensors.show_dims(shape)} {dtype}")
    return name, kind, shape, offsets


def _check_layout(entries, data_size):
    """The entries' byte ranges must tile the data exactly, as the format requires: an
    overlap would load one region many times over, a gap hides bytes no reader shows."""
    at = 0
    for name, _, _, (begin, end) in sorted(entries, key=lambda e: e[3]):
        if begin != at:
            problem = "an overlap" if begin < at else "a gap"
            raise RuntimeError(f"load: safetensors entry {name[:100]!r} starts at byte "
                               f"{tensors.show(begin)} of the data, but the entry before it "
                               f"ends at {tensors.show(at)} ({problem})")
        at = end
    if at != data_size:
        raise RuntimeError(f"load: the safetensors entries cover {tensors.show(at)} bytes of "
                           f"data, but the file holds {data_size}")

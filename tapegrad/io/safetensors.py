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
    header = json.loads(f.read(n).decode("utf-8"))
    if type(header) is not dict:
        raise RuntimeError("load: safetensors header is not a JSON object")
    start, out = 8 + n, OrderedDict()
    for name, spec in header.items():
        if name != "__metadata__":
            out[name] = _tensor(f, name, spec, start, size)
    return out


def _tensor(f, name, spec, start, size):
    spec = spec if type(spec) is dict else {}
    dtype, shape, offsets = spec.get("dtype"), spec.get("shape"), spec.get("data_offsets")
    kind = tensors.BY_NAME.get(_KINDS.get(dtype)) if type(dtype) is str else None
    if (kind is None or type(shape) is not list or type(offsets) is not list or len(offsets) != 2
            or any(type(x) is not int or x < 0 for x in shape + offsets)):
        raise RuntimeError(f"load: malformed safetensors entry {name[:100]!r}")
    count = 1
    for n in shape:
        count *= n
    begin, end = offsets
    if begin > end or start + end > size or end - begin != count * kind.file_dtype.itemsize:
        raise RuntimeError(f"load: safetensors entry {name[:100]!r}: byte range {offsets} does "
                           f"not match shape {shape} {spec['dtype']} or lies outside the file")
    f.seek(start + begin)
    storage = tensors.Storage(kind, count)
    storage.fill(f.read(end - begin))
    return from_numpy(storage.array.reshape(shape))

"""Copies and dtype conversions: clone, cast, copy_from (behind `copy_`), and `Tensor.to`."""
import numpy as np

from .. import dtypes
from .._types import Device
from .._tensor import Tensor
from ..primitives import primitive, defvjp
from .unary import _zeros


@primitive("clone", reads_inputs=False, raw=True)
def clone(input):
    """A copy of `input` with its own memory, as torch.clone; gradients flow through it."""
    return input.copy()


defvjp(clone, lambda g, out, x: g)


@primitive("cast", reads_inputs=False, raw=True)
def cast(x, dtype):
    return x.astype(dtype)


# the engine casts the cotangent back to the input's dtype
defvjp(cast, lambda g, out, x, dtype: g)


@primitive("copy_from", reads_inputs=False, raw=True)
def copy_from(x, src):
    """`x.copy_(src)` out of place: src broadcast to x's shape and cast to x's dtype."""
    return np.broadcast_to(src, x.shape).astype(x.dtype)


defvjp(copy_from, lambda g, out, x, src: _zeros(g), lambda g, out, x, src: g, reads=((), ()))


def contiguous(input, memory_format=None):
    """Tensor.contiguous: the tensor itself when C-contiguous, else a copy.

    `memory_format` is accepted for PyTorch's signature; only the C layout exists.
    """
    return input if input._data.flags.c_contiguous else clone(input)


def to(input, *args, dtype=None, device=None, copy=False, non_blocking=False, **kwargs):
    """Convert `input` to a dtype and/or device, as torch.Tensor.to.

    Accepts to(dtype), to(device), to(other) and to(device, dtype) as positional `args`, or `dtype`
    and `device` by keyword; only the CPU exists. Returns `input` itself when nothing changes,
    unless `copy` is True. `non_blocking` and other `kwargs` (memory_format) are accepted for
    PyTorch's signature.
    """
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
        return clone(input) if copy else input
    dt = dtypes.as_dtype(dtype)
    if dt == input._data.dtype and not copy:
        return input
    return cast(input, dtype=dt)


def type(input, dtype=None, non_blocking=False, **kwargs):    # noqa: A001 (torch's name)
    """The type name of `input` ('torch.FloatTensor' and the like), as torch.Tensor.type.

    With `dtype` (a dtype, a tensor type or its name) it converts `input` with `to()` instead.
    `non_blocking` and `kwargs` are accepted for PyTorch's signature.
    """
    if dtype is None:
        return dtypes.type_name(input._data.dtype)
    return to(input, dtypes.as_dtype(dtype))


def type_as(input, other):
    """`input` converted to the dtype of `other`, as torch.Tensor.type_as."""
    return to(input, other.dtype)


# Tensor.float() and the like: method name -> dtype
CASTS = {"float": dtypes.float32, "double": dtypes.float64, "half": dtypes.float16,
         "long": dtypes.int64, "int": dtypes.int32, "bool": dtypes.bool,
         "short": dtypes.int16, "byte": dtypes.uint8, "char": dtypes.int8}
if dtypes.ml_dtypes is not None:
    CASTS["bfloat16"] = dtypes.bfloat16

def detach(input):
    """torch.detach: input's data (shared, with its version counter) without its history."""
    return input.detach()


__all__ = ["clone", "detach"]

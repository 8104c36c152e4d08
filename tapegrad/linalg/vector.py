"""Vector functions of torch.linalg: vector_norm and cross."""
import numbers

import numpy as np

from ..primitives import primitive, defvjp
from .._convert import _dim
from ..ops.statistics import norm as _norm
from ..ops.out import into
from .base import data, check_float


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The `ord`-norm of `x` over `dim` (all dims by default), as torch.linalg.vector_norm.

    inf/-inf are max/min |x|, 0 counts nonzeros. The gradient at x = 0 is 0, as in PyTorch. With
    `keepdim` the reduced dims stay, with size 1. `dtype`, if given, is the dtype to compute in.
    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, vector_norm, x, ord, dim, keepdim, dtype=dtype)
    if not isinstance(ord, numbers.Real) or isinstance(ord, bool):
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    check_float(data(x) if dtype is None else np.empty(0, dtype), "linalg.vector_norm", "x")
    return _norm(x, p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


@primitive("linalg_cross", raw=True)
def _cross(a, b, dim=-1):
    return np.cross(a, b, axisa=dim, axisb=dim, axisc=dim)


# bilinear: g . (a x b) = a . (b x g) = b . (g x a)
defvjp(_cross,
       lambda g, out, a, b, dim=-1: _cross(b, g, dim=dim),
       lambda g, out, a, b, dim=-1: _cross(g, a, dim=dim))


def cross(input, other, *, dim=-1, out=None):
    """The cross product of 3-vectors in `input` and `other` along `dim`, as torch.linalg.cross.

    The other dimensions broadcast (both inputs need the same number of dimensions, as in PyTorch).
    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, cross, input, other, dim=dim)
    a, b = data(input), data(other)
    check_float(a, "linalg.cross", "input")
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got "
                           f"shapes {list(a.shape)} and {list(b.shape)}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.cross: expected both inputs to have the same dtype, got "
                           f"{a.dtype} and {b.dtype}")
    d = _dim(dim, a.ndim, "linalg.cross")
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: the shapes {list(a.shape)} and {list(b.shape)} do not "
                           "broadcast") from None
    return _cross(input, other, dim=d - a.ndim)

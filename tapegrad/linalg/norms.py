"""Matrix norms (torch.linalg.matrix_norm) and the dispatching torch.linalg.norm."""
import math

from .._convert import _dim
from ..ops.reduction import sum as _sum, amax, amin
from ..ops.statistics import norm as _vector_norms
from ..ops.shape import movedim, reshape_prim
from ..ops.unary import abs as _abs
from .base import check_matrix
from .spectral import svdvals
from .vector import vector_norm


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm of `A` over the two dimensions `dim`, as torch.linalg.matrix_norm.

    `ord`: 'fro', 'nuc' (sum of singular values), 2/-2 (largest/smallest singular value), 1/-1
    (max/min column sum of |A|), inf/-inf (max/min row sum). With `keepdim` the reduced dims stay,
    with size 1. `dtype`, if given, is the dtype to compute in.
    """
    if dtype is not None:
        A = A.to(dtype)
    a = check_matrix(A, "linalg.matrix_norm", square=False)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    r, c = (_dim(d, a.ndim, "linalg.matrix_norm") for d in dim)
    if r == c:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({r}, {c})")
    if ord == "fro":
        return vector_norm(A, 2, dim=(r, c), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(movedim(A, (r, c), (-2, -1)))
        out = _sum(s, -1) if ord == "nuc" else (amax if ord == 2 else amin)(s, -1)
        if keepdim:
            out = reshape_prim(out, tuple(1 if i in (r, c) else n for i, n in enumerate(a.shape)))
        return out
    if ord in (1, -1, math.inf, -math.inf):
        inner, outer = (r, c) if ord in (1, -1) else (c, r)     # 1: sum down columns first
        pick = amax if ord > 0 else amin
        out = pick(_sum(_abs(A), inner, keepdim=True), outer, keepdim=True)
        return out if keepdim else reshape_prim(
            out, tuple(n for i, n in enumerate(out.shape) if i not in (r, c)))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(input, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector or matrix norm of `input`, as torch.linalg.norm.

    A vector norm for an int (or 1-tuple) `dim`, a matrix norm for a 2-tuple; without `dim`, the
    2-norm of the flattened input if `ord` is None, else the vector or matrix norm of a 1-D or 2-D
    input. With `keepdim` the reduced dims stay, with size 1. `dtype`, if given, is the dtype to
    compute in.
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(input, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(input, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    if ord is None:
        return vector_norm(input, 2, None, keepdim, dtype=dtype)
    if input.ndim == 1:
        return vector_norm(input, ord, None, keepdim, dtype=dtype)
    if input.ndim == 2:
        return matrix_norm(input, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {input.ndim}D.")


def tensor_norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The `p`-norm of `input` over `dim`, as torch.norm and Tensor.norm.

    The nuclear norm ('nuc') goes through an SVD, every other `p` is a vector norm over `dim`
    (every dim by default). With `keepdim` the reduced dims stay, with size 1. `dtype`, if given,
    is the dtype to compute in.
    """
    if p != "nuc":
        return _vector_norms(input, p, dim, keepdim, dtype)
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {input.dtype}")
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)

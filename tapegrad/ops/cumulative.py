"""Cumulative ops: cumsum and cumprod along one dimension, forward and VJP side by side."""
import numpy as np

from ..dtypes import as_dtype
from ..primitives import primitive, defvjp
from .._convert import _dim
from .elementwise import where
from .out import into
from .reduction import _sum, _acc, _data, _const


@primitive("cumsum", reads_inputs=False, raw=True)
def _cumsum(x, dim=0, dtype=None, reverse=False):
    """Running sums along `dim`; `reverse=True` sums from the end (cumsum's own VJP)."""
    dtype = _acc(x, dtype)
    if x.ndim == 0:
        return x.astype(dtype or x.dtype)
    if reverse:
        return np.flip(np.flip(x, dim).cumsum(dim, dtype), dim)
    return x.cumsum(dim, dtype)


defvjp(_cumsum, lambda g, out, x, dim=0, dtype=None, reverse=False:
       _cumsum(g, dim=dim, reverse=not reverse))


def cumsum(input, dim, *, dtype=None, out=None):
    """Running sums of `input` along `dim`, as torch.cumsum.

    Integer and bool tensors give int64 unless `dtype` says otherwise (the input is cast to `dtype`
    first). `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, cumsum, input, dim, dtype=dtype)
    return _cumsum(input, dim=_dim(dim, input._data.ndim, "cumsum"), dtype=as_dtype(dtype))


@primitive("cumprod", uses_out=True, raw=True)
def _cumprod(x, dim=0, dtype=None):
    dtype = _acc(x, dtype)
    if x.ndim == 0:
        return x.astype(dtype or x.dtype)
    return x.cumprod(dim, dtype)


def _cumprod_grad(g, out, x, dim=0, dtype=None):
    return g if _data(x).ndim == 0 else _cumprod_vjp(g, out, x, dim, True)


def _cumprod_vjp(g, out, x, dim, again):
    """sum over i >= k of g_i * prod(x_j, j <= i, j != k), without dividing by zero.

    Before a slice's first zero z it is revcumsum(g * out) / x. From z on it is the same sum
    for x1 (x with x_z set to 1), times x_z after z: keeping x_z as a term (`again`) makes the
    second derivatives exact too; the inner sum for x1 is zero after x1's own first zero.
    """
    a = _data(x)
    zero = a == 0
    if not zero.any():
        return _cumsum(g * out, dim=dim, reverse=True) / x
    seen = np.cumsum(zero, axis=dim)
    before = _const(x, seen == 0)
    first = _const(x, zero & (seen == 1))
    head = _cumsum(g * out, dim=dim, reverse=True) / where(before, x, 1.0)
    x1 = where(first, 1.0, x)
    out1 = _cumprod(x1, dim=dim)
    if again:
        xz = _sum(where(first, x, 0.0), dims=(dim,), keepdim=True)
        tail = _cumprod_vjp(g, out1, x1, dim, False) * where(first, 1.0, xz)
    else:
        tail = where(first, _cumsum(g * out1, dim=dim, reverse=True), 0.0)
    return where(before, head, tail)


defvjp(_cumprod, _cumprod_grad)


def cumprod(input, dim, *, dtype=None, out=None):
    """Running products of `input` along `dim`, as torch.cumprod.

    The gradient is exact where `input` has zeros. `dtype`, if given, is the dtype to compute in.
    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, cumprod, input, dim, dtype=dtype)
    return _cumprod(input, dim=_dim(dim, input._data.ndim, "cumprod"), dtype=as_dtype(dtype))


__all__ = ["cumsum", "cumprod"]

"""Running extremes and log-sums, and reductions that skip NaN: cummax, cummin, logcumsumexp,
nansum, nanmean (cumsum and cumprod: cumulative.py).

cummax/cummin find their indices in NumPy and gather the values through them, so their
gradient goes to the selected entries by indexing's rules. logcumsumexp is a primitive whose
rule, like PyTorch's, works in log space so that it never overflows.
"""
from collections import namedtuple

import numpy as np

from ..dtypes import is_floating
from .._convert import _dim
from .._tensor import _leaf
from ..primitives import primitive, defvjp
from .elementwise import where
from .indexing import gather
from .out import into
from .reduction import _const, _data, _dims, sum as _sum
from .unary import abs as _abs, exp, log

cummax_result = namedtuple("cummax", ["values", "indices"])    # torch.return_types.cummax
cummin_result = namedtuple("cummin", ["values", "indices"])    # torch.return_types.cummin


def _running_index(a, d, ufunc):
    """Index of the running max (min) along d: the latest entry equal to it, or the latest
    NaN once one was seen, as PyTorch's cummax/cummin."""
    run = ufunc.accumulate(a, axis=d)
    hit = a == run
    if is_floating(a.dtype):
        hit |= np.isnan(a)
    pos = np.arange(a.shape[d]).reshape([-1 if k == d else 1 for k in range(a.ndim)])
    return np.maximum.accumulate(np.where(hit, pos, 0), axis=d)


def _running(input, dim, ufunc, result, op):
    a = input._data
    d = _dim(dim, a.ndim, op)
    idx = _running_index(a, d, ufunc) if a.ndim else np.zeros((), np.int64)
    return result(gather(input, d, idx), _leaf(idx))


def cummax(input, dim, *, out=None):
    """Running maxima of `input` along `dim` and the index each came from, as torch.cummax.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, cummax, input, dim)
    return _running(input, dim, np.maximum, cummax_result, "cummax")


def cummin(input, dim, *, out=None):
    """Running minima of `input` along `dim` and the index each came from, as torch.cummin.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, cummin, input, dim)
    return _running(input, dim, np.minimum, cummin_result, "cummin")


# ---- logcumsumexp ------------------------------------------------------------------------------
@primitive("logcumsumexp", uses_out=True, raw=True)
def _logcumsumexp(x, dim=0, reverse=False):
    """log(cumsum(exp(x))) along dim, from the end with `reverse` (its own VJP's form)."""
    if x.ndim == 0:
        return x.copy()
    if reverse:
        return np.flip(np.logaddexp.accumulate(np.flip(x, dim), axis=dim), dim)
    return np.logaddexp.accumulate(x, axis=dim)


def _logcumsumexp_grad(g, out, x, dim=0, reverse=False):
    """sum over later i of g_i exp(x_j - out_i), for the positive and the negative parts of g
    separately in log space (PyTorch's rule); the lowest float stands for log 0, as there, so
    that no inf - inf appears, and log never sees 0, so that second derivatives are finite."""
    a = _data(g)
    if a.ndim == 0:
        return g
    low = np.finfo(a.dtype).min
    pos, neg = _const(g, a > 0), _const(g, a < 0)
    lg = log(where(_const(g, a != 0), _abs(g), 1.0))
    total = 0
    for part, sign in ((pos, 1), (neg, -1)):
        if _data(part).any():
            scan = _logcumsumexp(where(part, lg, low) - out, dim=dim, reverse=not reverse)
            total = total + sign * exp(scan + x)
    return total if not isinstance(total, int) else g * 0


defvjp(_logcumsumexp, _logcumsumexp_grad)


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(`input`))) along `dim`, without overflow, as torch.logcumsumexp.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, logcumsumexp, input, dim)
    if not is_floating(input._data.dtype):
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for {input.dtype}')
    return _logcumsumexp(input, dim=_dim(dim, input.ndim, "logcumsumexp"))


# ---- NaN-skipping reductions -------------------------------------------------------------------
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of `input` over `dim` with NaNs counted as zero, as torch.nansum.

    Every dim by default; with `keepdim` the reduced dims stay, with size 1. `dtype`, if given, is
    the dtype to sum in. The gradient at a NaN is 0. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, nansum, input, dim, keepdim, dtype=dtype)
    a = input._data
    x = where(np.isnan(a), 0.0, input) if is_floating(a.dtype) and np.isnan(a).any() else input
    return _sum(x, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the entries of `input` over `dim` that are not NaN, as torch.nanmean.

    nansum / the count of non-NaN entries, every dim by default; with `keepdim` the reduced dims
    stay, with size 1. `dtype`, if given, is the dtype to compute in. `out`, if given, receives the
    result.
    """
    if out is not None:
        return into(out, nanmean, input, dim, keepdim, dtype=dtype)
    a = input._data
    if not is_floating(a.dtype):
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype}")
    count = (~np.isnan(a)).sum(axis=_dims(dim, a.ndim, "nanmean"), keepdims=keepdim)
    total = nansum(input, dim, keepdim, dtype=dtype)
    return total / count.astype(total._data.dtype)


__all__ = ["cummax", "cummin", "logcumsumexp", "nansum", "nanmean"]

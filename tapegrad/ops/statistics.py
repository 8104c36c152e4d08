"""Statistics and norms: var, std, var_mean, std_mean and the vector p-norm, reductions built
on reduction.py's dims handling, mean and amax/amin. Forward and VJP side by side.

As in reduction.py, primitives take normalised `dims` and `keepdim`, and their rules use only
tapegrad ops and operators, so that they run on tensors and on bare arrays alike.
"""
import math

import numpy as np

from ..dtypes import is_floating
from ..primitives import primitive, defvjp
from .elementwise import where
from .out import into
from .reduction import _amax, _amin, _check_nonempty, _count, _data, _dims, _keep, _mean, _sum
from .unary import sign, abs as _abs


# ---- variance, standard deviation, norms -------------------------------------------------------
@primitive("var", raw=True)
def _var(x, dims=None, correction=1, keepdim=False):
    return x.var(axis=dims, ddof=correction, keepdims=keepdim)


@primitive("std", uses_out=True, raw=True)
def _std(x, dims=None, correction=1, keepdim=False):
    return x.std(axis=dims, ddof=correction, keepdims=keepdim)


def _centered(x, dims, correction):
    """(x - mean) / (N - correction); no degrees of freedom left gives inf (NaN), as PyTorch."""
    dof = _count(_data(x).shape, dims) - correction
    return (x - _mean(x, dims=dims, keepdim=True)) * (1.0 / dof if dof else math.inf)


def _std_grad(g, out, x, dims=None, correction=1, keepdim=False):
    """g (x - mean) / ((N - correction) std), and 0 where std is 0, as in PyTorch (even for an
    infinite or NaN g: the factor g / std is what is zeroed there)."""
    shape = _data(x).shape
    s = _keep(out, shape, dims, keepdim)
    zero = s == 0
    scale = where(zero, 0.0, _keep(g, shape, dims, keepdim) / where(zero, 1.0, s))
    return scale * _centered(x, dims, correction)


defvjp(_var, lambda g, out, x, dims=None, correction=1, keepdim=False:
       _keep(g, _data(x).shape, dims, keepdim) * (2 * _centered(x, dims, correction)))
defvjp(_std, _std_grad)


def _moments(input, dim, unbiased, keepdim, correction, op):
    if not is_floating(input._data.dtype):
        raise RuntimeError(f"{op}(): std and var only support floating point and complex "
                           f"dtypes, got {input.dtype}")
    if isinstance(dim, bool):      # var(input, unbiased): the older signature
        dim, unbiased = None, dim
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}(): give either `correction` or the older `unbiased`, not both")
        correction = int(unbiased)
    return dict(dims=_dims(dim, input._data.ndim, op), keepdim=keepdim,
                correction=1 if correction is None else correction)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance of `input` over `dim` (every dim by default), as torch.var.

    sum((x - mean) ** 2) / (N - `correction`); `correction` is 1 by default, and the older
    `unbiased` (True: 1, False: 0) is accepted instead. With `keepdim` the reduced dims stay, with
    size 1. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, var, input, dim, unbiased, keepdim, correction=correction)
    return _var(input, **_moments(input, dim, unbiased, keepdim, correction, "var"))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation sqrt(var) of `input` over `dim`, as torch.std.

    `correction` and `unbiased` are as in `var`. With `keepdim` the reduced dims stay, with size 1.
    Its gradient is 0 where the result is 0, as in PyTorch. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, std, input, dim, unbiased, keepdim, correction=correction)
    return _std(input, **_moments(input, dim, unbiased, keepdim, correction, "std"))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """The variance and the mean of `input` over the same `dim`, as torch.var_mean.

    `correction` and `unbiased` are as in `var`. With `keepdim` the reduced dims stay, with size 1.
    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, var_mean, input, dim, unbiased, keepdim, correction=correction)
    kw = _moments(input, dim, unbiased, keepdim, correction, "var_mean")
    return _var(input, **kw), _mean(input, dims=kw["dims"], keepdim=keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """The standard deviation and the mean of `input` over the same `dim`, as torch.std_mean.

    `correction` and `unbiased` are as in `var`. With `keepdim` the reduced dims stay, with size 1.
    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, std_mean, input, dim, unbiased, keepdim, correction=correction)
    kw = _moments(input, dim, unbiased, keepdim, correction, "std_mean")
    return _std(input, **kw), _mean(input, dims=kw["dims"], keepdim=keepdim)


@primitive("norm", uses_out=True, raw=True)
def _norm(x, p=2.0, dims=None, keepdim=False):
    if p == 2:
        return np.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
    a = np.abs(x)
    if p == 1:
        return a.sum(axis=dims, keepdims=keepdim)
    return (a ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)


def _norm_grad(g, out, x, p=2.0, dims=None, keepdim=False):
    """sign(x) |x|**(p-1) / norm**(p-1) (x / norm for p = 2); 0 where the norm is 0, as PyTorch."""
    shape = _data(x).shape
    g = _keep(g, shape, dims, keepdim)
    if p == 1:
        return g * sign(x)
    n = _keep(out, shape, dims, keepdim)
    n = where(n == 0, 1.0, n)       # a zero norm means x is zero there: the gradient is 0
    if p == 2:
        return g * x / n
    ax = where(x == 0, 1.0, _abs(x))    # sign(x) zeroes these; 1 keeps |x|**(p-1) finite
    return g * sign(x) * ax ** (p - 1) / n ** (p - 1)


defvjp(_norm, _norm_grad)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: the vector p-norm over `dim` (every dim by default); 'fro' is the 2-norm,
    p=inf/-inf the largest/smallest |x| (ties share the gradient), p=0 the nonzero count."""
    if dtype is not None:
        input = input.to(dtype)
    if not is_floating(input._data.dtype):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {input.dtype}")
    if p is None or p == "fro":
        p = 2.0
    elif isinstance(p, str):    # ('nuc' is linalg's: torch.norm is linalg.norms.tensor_norm)
        raise RuntimeError(f"norm: p={p!r} is not supported; use a number, 'fro' or 'nuc'")
    p = float(p)
    dims = _dims(dim, input._data.ndim, "norm")
    if p == math.inf or p == -math.inf:
        _check_nonempty(input._data, dims, "norm")
        return (_amax if p > 0 else _amin)(_abs(input), dims=dims, keepdim=keepdim)
    if p == 0:
        # the count of nonzeros: piecewise constant, so its gradient is 0, as in PyTorch
        return _sum(sign(_abs(input)), dims=dims, keepdim=keepdim)
    return _norm(input, p=p, dims=dims, keepdim=keepdim)


__all__ = ["var", "std", "var_mean", "std_mean"]

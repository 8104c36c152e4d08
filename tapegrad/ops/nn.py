"""Softmax family: fused, numerically stable primitives. Forward and VJP side by side.

Both subtract the maximum along `dim` before exponentiating, so large-magnitude inputs do not
overflow; rows whose maximum is not finite (all -inf, any +inf, NaN) give NaN, as in PyTorch.
"""
import numpy as np

from ..tensor import _dim
from ..tape import primitive, defvjp
from . import reduction
from .elementwise import exp


def _shifted(x, axis):
    """x minus its maximum along axis (a 0-d x, with axis None, as one element)."""
    if axis is None:
        x, axis = x.reshape(1), 0
    m = x.max(axis, keepdims=True, initial=-np.inf)   # `initial`: empty dims give empty results
    if not np.isfinite(m).all():
        # a row whose maximum is -inf, +inf or NaN is all NaN, as in PyTorch (and without the
        # warnings that inf - inf would raise)
        m = np.where(np.isfinite(m), m, np.nan)
    return x - m, axis


@primitive("_softmax", uses_out=True, raw=True)
def _softmax(x, dim):
    y, axis = _shifted(x, dim)
    np.exp(y, out=y)
    y /= y.sum(axis, keepdims=True)
    return y.reshape(x.shape)


def _sum_keep(t, dim):
    # the `sum` primitive itself, so that the rules also run on bare arrays (a plain backward)
    return t if dim is None else reduction._sum(t, dims=(dim,), keepdim=True)


defvjp(_softmax, lambda g, out, x, dim: out * (g - _sum_keep(g * out, dim)))


@primitive("_log_softmax", uses_out=True, raw=True)
def _log_softmax(x, dim):
    y, axis = _shifted(x, dim)
    if y.size:     # an empty reduced dim would take log(0)
        y -= np.log(np.exp(y).sum(axis, keepdims=True))
    return y.reshape(x.shape)


defvjp(_log_softmax, lambda g, out, x, dim: g - exp(out) * _sum_keep(g, dim))


def _prepare(input, dim, dtype, op):
    if dim is None:
        raise TypeError(f"{op}() missing 1 required positional arguments: \"dim\" (PyTorch's "
                        "implicit dim choice is deprecated; pass dim explicitly)")
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind != "f":
        # the same exception type as PyTorch, which has no integer softmax kernel
        raise NotImplementedError(f"{op}: not implemented for {input._data.dtype} input; pass "
                                  f"dtype=tapegrad.float32 or convert the tensor to floating point")
    n = input._data.ndim
    d = _dim(dim, n, op)
    return input, (d if n else None)    # a 0-d tensor takes dim 0 or -1: reduce over nothing


def softmax(input, dim, dtype=None):
    """torch.softmax: exp(x) / sum(exp(x), dim), computed stably; `dtype` casts the input first."""
    x, d = _prepare(input, dim, dtype, "softmax")
    return _softmax(x, d)


def log_softmax(input, dim, dtype=None):
    """torch.log_softmax: x - logsumexp(x, dim), computed stably; `dtype` casts the input first."""
    x, d = _prepare(input, dim, dtype, "log_softmax")
    return _log_softmax(x, d)


__all__ = ["softmax", "log_softmax"]

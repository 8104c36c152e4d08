"""Fused primitives of neural networks: softmax family, batch norm, NLL loss, GELU.

Each is one vectorised NumPy kernel whose VJP is written out (as primitives where a rule must
itself be differentiable), instead of a chain of small ops. Softmax and log-softmax subtract
the maximum along `dim` before exponentiating, so large-magnitude inputs do not overflow; rows
whose maximum is not finite (all -inf, any +inf, NaN) give NaN, as in PyTorch.
"""
import math

import numpy as np
from scipy import special

from ..dtypes import is_floating
from .._convert import _dim
from .._tensor import Tensor
from ..primitives import primitive, defvjp
from . import reduction
from .elementwise import clamp
from .einsum import _einsum
from .reduction import _sum, _mean
from .shape import reshape_prim
from .unary import exp, log, log1p, rsqrt


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


@primitive("softmax", uses_out=True, raw=True)
def _softmax(x, dim):
    y, axis = _shifted(x, dim)
    np.exp(y, out=y)
    y /= y.sum(axis, keepdims=True)
    return y.reshape(x.shape)


def _sum_keep(t, dim):
    # the `sum` primitive itself, so that the rules also run on bare arrays (a plain backward)
    return t if dim is None else reduction._sum(t, dims=(dim,), keepdim=True)


defvjp(_softmax, lambda g, out, x, dim: out * (g - _sum_keep(g * out, dim)), reads=((-1,),))


@primitive("log_softmax", uses_out=True, raw=True)
def _log_softmax(x, dim):
    y, axis = _shifted(x, dim)
    if y.size:     # an empty reduced dim would take log(0)
        y -= np.log(np.exp(y).sum(axis, keepdims=True))
    return y.reshape(x.shape)


defvjp(_log_softmax, lambda g, out, x, dim: g - exp(out) * _sum_keep(g, dim),
       reads=((-1,),))


def _prepare(input, dim, dtype, op):
    if dim is None:
        raise TypeError(f"{op}() missing 1 required positional arguments: \"dim\" (PyTorch's "
                        "implicit dim choice is deprecated; pass dim explicitly)")
    if dtype is not None:
        input = input.to(dtype)
    elif not is_floating(input._data.dtype):
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


# ---- batch norm (training statistics) --------------------------------------------------------
def _stat_shape(x):
    return (1, -1) + (1,) * (x.ndim - 2)


def _stat_dims(x):
    return (0,) + tuple(range(2, x.ndim))


def _channel_dot(a, b):
    """The sum of a * b over every dim but dim 1, in one pass: an einsum primitive, so it runs
    on arrays or tensors alike (NumPy's plain loop; a BLAS path would copy both operands)."""
    dims = "abcdefgh"[:a.ndim]
    return _einsum(a, b, eq=f"{dims},{dims}->{dims[1]}", optimize=False)


def batch_stats(x):
    """Batch mean and biased variance of x (N, C, ...) per channel, in two passes over x (a
    large mean costs no precision)."""
    mean = x.mean(_stat_dims(x))
    centered = x - mean.reshape(_stat_shape(x))
    return mean, _channel_dot(centered, centered) / (x.size // x.shape[1])


@primitive("native_batch_norm", raw=True)
def batch_norm(x, weight, bias, mean, var, eps):
    """Normalise x over every dim but dim 1 with its batch statistics `mean` and (biased)
    `var`, which the caller computed from x (they are x's, not independent inputs)."""
    shape = _stat_shape(x)
    scale = 1 / np.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    y = x * scale.reshape(shape).astype(x.dtype, copy=False)
    y += shift.reshape(shape)
    return y


def _centered(x, mean, var):
    """(x - mean, var), shaped to broadcast. A plain backward reuses the forward's statistics;
    when the rule is itself differentiated (create_graph) they are recomputed from x with
    tapegrad ops, so that their dependence on x is on the tape too."""
    shape = _stat_shape(x)
    if not isinstance(x, Tensor):
        return x - mean.reshape(shape), var.reshape(shape)
    dims = _stat_dims(x)
    centered = x - _mean(x, dims=dims, keepdim=True)
    return centered, _mean(centered * centered, dims=dims, keepdim=True)


def _batch_norm_input_grad(g, out, x, weight, bias, mean, var, eps):
    # scale * (g - mean(g) - xhat * mean(g * xhat)), regrouped into per-channel factors
    shape = _stat_shape(x)
    inv_n = x.shape[1] / math.prod(x.shape)
    centered, var = _centered(x, mean, var)
    invstd = rsqrt(var + eps)
    scale = invstd if weight is None else invstd * reshape_prim(weight, shape)
    dot = reshape_prim(_channel_dot(g, centered), shape)
    mean_g = _sum(g, dims=_stat_dims(x), keepdim=True) * inv_n
    return g * scale - centered * (scale * invstd * invstd * dot * inv_n) - scale * mean_g


def _batch_norm_weight_grad(g, out, x, weight, bias, mean, var, eps):
    centered, var = _centered(x, mean, var)
    return _channel_dot(g, centered) * reshape_prim(rsqrt(var + eps), (-1,))


defvjp(batch_norm, _batch_norm_input_grad, _batch_norm_weight_grad,
       lambda g, out, x, weight, bias, mean, var, eps: _sum(g, dims=_stat_dims(x)), None, None)


# ---- negative log likelihood -----------------------------------------------------------------
def _nll_coef(target, weight, ignore_index, reduction, dtype):
    """Which samples count, their safe targets, and each one's weight of -logp[target] in the
    loss (0 where ignored)."""
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    coef = keep.astype(dtype) if weight is None else np.where(keep, weight[safe], 0).astype(dtype)
    if reduction == "mean":
        total = coef.sum()
        # no weight left: 0/0, NaN for the samples that count (ignored ones stay 0), as PyTorch
        coef = coef / total if total else np.where(keep, np.nan, 0).astype(dtype)
    return keep, safe, coef


@primitive("nll_loss", raw=True)
def nll_loss(logp, target, weight, ignore_index, reduction):
    """-logp[n, target[n], ...] weighted, then summed, averaged by total weight, or kept.
    Ignored samples contribute exactly 0 (never 0 * inf); a mean of none is NaN, as PyTorch."""
    keep, safe, coef = _nll_coef(target, weight, ignore_index, reduction, logp.dtype)
    with np.errstate(invalid="ignore"):     # 0 * inf at ignored samples, replaced by 0
        loss = np.where(keep, -np.take_along_axis(logp, safe[:, None], 1)[:, 0] * coef, 0)
    if reduction == "none":
        return loss
    if reduction == "mean" and not keep.any():
        return np.array(np.nan, logp.dtype)
    return loss.sum(dtype=logp.dtype)


@primitive("nll_loss_backward", raw=True)
def nll_loss_backward(g, target, weight, ignore_index, reduction, shape):
    """The VJP of nll_loss: -g times each sample's weight, at its target class; exactly 0 for
    ignored samples, whatever g is."""
    keep, safe, coef = _nll_coef(target, weight, ignore_index, reduction, g.dtype)
    out = np.zeros(shape, g.dtype)
    np.put_along_axis(out, safe[:, None], np.where(keep, -g * coef, 0)[:, None], 1)
    return out


defvjp(nll_loss,
       lambda g, out, logp, target, weight, **kw: nll_loss_backward(g, target, weight,
                                                                    shape=logp.shape, **kw),
       None, None)
defvjp(nll_loss_backward,
       lambda h, out, g, target, weight, shape, **kw: nll_loss(h, target, weight, **kw),
       None, None)


# ---- GELU ------------------------------------------------------------------------------------
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


@primitive("gelu", raw=True)
def gelu(x):
    """x * Phi(x), Phi the standard normal CDF (the exact GELU)."""
    return (x * special.ndtr(x)).astype(x.dtype, copy=False)


@primitive("gelu_backward", raw=True)
def gelu_backward(g, x):
    """g * gelu'(x), with gelu'(x) = Phi(x) + x * phi(x)."""
    slope = special.ndtr(x) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (g * slope).astype(np.result_type(g, x), copy=False)


defvjp(gelu, lambda g, out, x: gelu_backward(g, x))
# gelu''(x) = phi(x) * (2 - x^2)
defvjp(gelu_backward,
       lambda h, out, g, x: gelu_backward(h, x),
       lambda h, out, g, x: h * g * exp(-0.5 * x * x) * (_INV_SQRT_2PI * (2 - x * x)))


# ---- binary cross entropy ------------------------------------------------------------------
_BCE_EPS = 1e-12     # PyTorch's floor on x (1 - x) in the input gradient


@primitive("binary_cross_entropy", raw=True)
def binary_cross_entropy(x, y):
    """-(y log x + (1 - y) log(1 - x)) elementwise, each log clamped at -100 as in PyTorch, so
    x = 0 or 1 (a saturated sigmoid in float32) gives finite losses."""
    with np.errstate(divide="ignore"):
        return -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))


def _bce_input_grad(g, out, x, y):
    # PyTorch's rule, finite at x = 0 and 1 where the clamped logs are flat in exact arithmetic
    return g * (x - y) / clamp(x * (1 - x), min=_BCE_EPS)


def _bce_target_grad(g, out, x, y):
    # unclamped, as PyTorch's: infinite at x = 0 and 1, where the target's slope is unbounded
    with np.errstate(divide="ignore"):
        return g * (log1p(-x) - log(x))


defvjp(binary_cross_entropy, _bce_input_grad, _bce_target_grad)


__all__ = ["softmax", "log_softmax"]

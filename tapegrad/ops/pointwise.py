"""More binary elementwise math: hypot, logaddexp(2), copysign, signbit, fmax/fmin (NaN-
ignoring), clamp_min/clamp_max, rsub and the `divide` alias. Forward and VJP side by side; the
tie and NaN choices are PyTorch's.
"""
import math

import numpy as np

from ..dtypes import is_floating, promote
from .._tensor import _leaf
from ..primitives import primitive, defvjp
from .elementwise import _integral, _dtype_of, clamp, div, sub, where
from .activation import _sigmoid
from .out import into
from .unary import _const, _data, _floating, _zeros


def _float_only(name, x, y):
    """PyTorch implements these for floating operands only (no integer promotion)."""
    if _integral(x) and _integral(y):
        raise NotImplementedError(f'"{name}_cpu" not implemented for integer operands '
                                  f"({_dtype_of(x)}, {_dtype_of(y)})")


@primitive("hypot", uses_out=True, raw=True)
def hypot(input, other):
    """torch.hypot: sqrt(input**2 + other**2) without overflow."""
    x, y = promote(input, other)
    _float_only("hypot", x, y)
    return np.hypot(x, y)


# x / hypot(x, y): NaN at (0, 0), as in PyTorch
defvjp(hypot,
       lambda g, out, x, y: g * x / out,
       lambda g, out, x, y: g * y / out, reads=((0, -1), (1, -1)))


@primitive("logaddexp", raw=True)
def logaddexp(input, other):
    """torch.logaddexp: log(exp(input) + exp(other))."""
    x, y = promote(input, other)
    _float_only("logaddexp", x, y)
    return np.logaddexp(x, y)


# 1 / (1 + exp(y - x)) is sigmoid(x - y), without overflow
defvjp(logaddexp,
       lambda g, out, x, y: g * _sigmoid(x - y),
       lambda g, out, x, y: g * _sigmoid(y - x))


@primitive("logaddexp2", raw=True)
def logaddexp2(input, other):
    """torch.logaddexp2: log2(2**input + 2**other)."""
    x, y = promote(input, other)
    _float_only("logaddexp2", x, y)
    return np.logaddexp2(x, y)


defvjp(logaddexp2,
       lambda g, out, x, y: g * _sigmoid((x - y) * math.log(2)),
       lambda g, out, x, y: g * _sigmoid((y - x) * math.log(2)))


@primitive("copysign", raw=True)
def copysign(input, other):
    """torch.copysign: |input| with the sign of other (integers give the default float)."""
    x, y = promote(input, other)
    return np.copysign(_floating(x), _floating(y))


def _copysign_grad(g, x, y):
    # d/dx = copysign(x, y) / x: +-1, piecewise constant (a constant, even to second order);
    # 0 at x == 0 and NaN at NaN, as PyTorch's result / self masked at 0
    a = _data(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(a == 0, 0.0, np.copysign(a, _data(y)) / a)
    return g * _const(g, ratio)


defvjp(copysign,
       lambda g, out, x, y: _copysign_grad(g, x, y),
       lambda g, out, x, y: _zeros(g), reads=((0, 1), ()))


def signbit(input):
    """A bool tensor, True where the sign bit of `input` is set, as torch.signbit.

    True for -0.0 too; never recorded.
    """
    a = _data(input)
    return _leaf(np.signbit(a if is_floating(a.dtype) else a.astype(np.float64)))


@primitive("fmax", raw=True)
def fmax(input, other):
    """Elementwise maximum of `input` and `other`, ignoring NaNs, as torch.fmax.

    NaN only where both are NaN.
    """
    x, y = promote(input, other)
    return np.fmax(x, y)


def _fmax_wins(x, y, larger):
    """Where input's value is the result, as PyTorch's rule: ties and a NaN other go to
    input."""
    a, b = _data(x), _data(y)
    return ((a >= b) if larger else (a <= b)) | np.isnan(b)


defvjp(fmax,
       lambda g, out, x, y: where(_fmax_wins(x, y, True), g, 0.0),
       lambda g, out, x, y: where(_fmax_wins(x, y, True), 0.0, g))


@primitive("fmin", raw=True)
def fmin(input, other):
    """Elementwise minimum of `input` and `other`, ignoring NaNs, as torch.fmin.

    NaN only where both are NaN.
    """
    x, y = promote(input, other)
    return np.fmin(x, y)


defvjp(fmin,
       lambda g, out, x, y: where(_fmax_wins(x, y, False), g, 0.0),
       lambda g, out, x, y: where(_fmax_wins(x, y, False), 0.0, g))


def clamp_min(input, min):
    """torch.clamp_min: clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """torch.clamp_max: clamp(input, max=max)."""
    return clamp(input, max=max)


def rsub(input, other, alpha=1):
    """torch.rsub: other - alpha * input."""
    return sub(other, input, alpha=alpha)


def divide(input, other, *, rounding_mode=None, out=None):
    """Elementwise `input` / `other`, as torch.divide (an alias of `div`).

    `rounding_mode` is None, 'trunc' or 'floor', as in `div`. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, divide, input, other, rounding_mode=rounding_mode)
    if rounding_mode is None:
        return div(input, other)
    return div(input, other, rounding_mode=rounding_mode)


__all__ = ["hypot", "logaddexp", "logaddexp2", "copysign", "signbit", "fmax", "fmin",
           "clamp_min", "clamp_max", "rsub", "divide"]

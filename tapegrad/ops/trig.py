"""Inverse trigonometric and hyperbolic functions (asin ... atanh, atan2) and NumPy-style
aliases (arcsin ...). Forward and VJP side by side, rules in tapegrad ops; the formulas are
PyTorch's (asin'(1) is inf, as there).
"""
import numpy as np

from ..dtypes import promote
from ..primitives import primitive, defvjp
from .elementwise import where
from .unary import _data, _floating, rsqrt


@primitive("asin", raw=True)
def asin(input):
    """Elementwise arcsine of `input`, in radians, as torch.asin (alias `arcsin`).

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.arcsin(_floating(input))


defvjp(asin, lambda g, out, x: g * rsqrt(1 - x * x))


@primitive("acos", raw=True)
def acos(input):
    """Elementwise arccosine of `input`, in radians, as torch.acos (alias `arccos`).

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.arccos(_floating(input))


defvjp(acos, lambda g, out, x: -g * rsqrt(1 - x * x))


@primitive("atan", raw=True)
def atan(input):
    """Elementwise arctangent of `input`, in radians, as torch.atan (alias `arctan`).

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.arctan(_floating(input))


defvjp(atan, lambda g, out, x: g / (x * x + 1))


@primitive("sinh", raw=True)
def sinh(input):
    """Elementwise hyperbolic sine of `input`, as torch.sinh.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.sinh(_floating(input))


defvjp(sinh, lambda g, out, x: g * cosh(x))


@primitive("cosh", raw=True)
def cosh(input):
    """Elementwise hyperbolic cosine of `input`, as torch.cosh.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.cosh(_floating(input))


defvjp(cosh, lambda g, out, x: g * sinh(x))


@primitive("asinh", raw=True)
def asinh(input):
    """Elementwise inverse hyperbolic sine of `input`, as torch.asinh (alias `arcsinh`).

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.arcsinh(_floating(input))


defvjp(asinh, lambda g, out, x: g * rsqrt(x * x + 1))


@primitive("acosh", raw=True)
def acosh(input):
    """Elementwise inverse hyperbolic cosine of `input`, as torch.acosh (alias `arccosh`).

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.arccosh(_floating(input))


defvjp(acosh, lambda g, out, x: g * rsqrt(x * x - 1))


@primitive("atanh", raw=True)
def atanh(input):
    """Elementwise inverse hyperbolic tangent of `input`, as torch.atanh (alias `arctanh`).

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.arctanh(_floating(input))


defvjp(atanh, lambda g, out, x: g / (1 - x * x))


@primitive("atan2", raw=True)
def atan2(input, other):
    """torch.atan2(input, other): the angle of the point (other, input)."""
    x, y = promote(input, other)
    return np.arctan2(_floating(x), _floating(y))


def _atan2_grad(g, x, y, of_input):
    origin = (_data(x) == 0) & (_data(y) == 0)
    if np.any(origin):      # 0 at the origin, as PyTorch (not 0 / 0)
        r = where(origin, 0.0, g) / where(origin, 1.0, x * x + y * y)
    else:
        r = g / (x * x + y * y)
    return r * y if of_input else -r * x


defvjp(atan2,
       lambda g, out, x, y: _atan2_grad(g, x, y, True),
       lambda g, out, x, y: _atan2_grad(g, x, y, False))

arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh

__all__ = ["asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
           "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh"]

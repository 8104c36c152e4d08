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
    """torch.asin."""
    return np.arcsin(_floating(input))


defvjp(asin, lambda g, out, x: g * rsqrt(1 - x * x))


@primitive("acos", raw=True)
def acos(input):
    """torch.acos."""
    return np.arccos(_floating(input))


defvjp(acos, lambda g, out, x: -g * rsqrt(1 - x * x))


@primitive("atan", raw=True)
def atan(input):
    """torch.atan."""
    return np.arctan(_floating(input))


defvjp(atan, lambda g, out, x: g / (x * x + 1))


@primitive("sinh", raw=True)
def sinh(input):
    """torch.sinh."""
    return np.sinh(_floating(input))


defvjp(sinh, lambda g, out, x: g * cosh(x))


@primitive("cosh", raw=True)
def cosh(input):
    """torch.cosh."""
    return np.cosh(_floating(input))


defvjp(cosh, lambda g, out, x: g * sinh(x))


@primitive("asinh", raw=True)
def asinh(input):
    """torch.asinh."""
    return np.arcsinh(_floating(input))


defvjp(asinh, lambda g, out, x: g * rsqrt(x * x + 1))


@primitive("acosh", raw=True)
def acosh(input):
    """torch.acosh."""
    return np.arccosh(_floating(input))


defvjp(acosh, lambda g, out, x: g * rsqrt(x * x - 1))


@primitive("atanh", raw=True)
def atanh(input):
    """torch.atanh."""
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

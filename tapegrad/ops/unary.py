"""Unary math functions: exponentials and logarithms, roots, trigonometric and hyperbolic
functions, sign, abs and rounding. Forward and VJP side by side.

The shared helpers that turn arguments into arrays and constants live here, the lowest of the
elementwise modules (elementwise.py, the arithmetic and selections, imports them).
Rules are `rule(g, out, *inputs, **params)` in tapegrad ops (so they are differentiable).
"""
import math

import numpy as np
from scipy import special

from ..dtypes import get_default_dtype, is_floating
from .._tensor import _leaf, Tensor
from ..primitives import primitive, defvjp
from .out import into


def _floating(x):
    """PyTorch computes float functions of integer tensors in the default float dtype."""
    if type(x) is np.ndarray:
        return x if is_floating(x.dtype) else x.astype(get_default_dtype())
    return float(x)


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _const(like, a):
    """A constant in the form the rule is running in: an array when `like` is bare, else a tensor."""
    return a if type(like) is np.ndarray else _leaf(a)


def _zeros(g):
    return _const(g, np.zeros_like(_data(g)))


# ---- exponentials, logarithms, roots -------------------------------------------------------------
@primitive("exp", uses_out=True, raw=True)
def exp(input):
    """Elementwise exponential e ** `input`, as torch.exp.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.exp(_floating(input))


defvjp(exp, lambda g, out, x: g * out, reads=((-1,),))


@primitive("expm1", uses_out=True, raw=True)
def expm1(input):
    """Elementwise exp(`input`) - 1, accurate near zero, as torch.expm1.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.expm1(_floating(input))


defvjp(expm1, lambda g, out, x: g * (out + 1), reads=((-1,),))


@primitive("log", raw=True)
def log(input):
    """Elementwise natural logarithm of `input`, as torch.log.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.log(_floating(input))


defvjp(log, lambda g, out, x: g / x)


@primitive("log1p", raw=True)
def log1p(input):
    """Elementwise log(1 + `input`), accurate near zero, as torch.log1p.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.log1p(_floating(input))


defvjp(log1p, lambda g, out, x: g / (x + 1))


@primitive("log2", raw=True)
def log2(input):
    """Elementwise base-2 logarithm of `input`, as torch.log2.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.log2(_floating(input))


defvjp(log2, lambda g, out, x: g / (x * math.log(2)))


@primitive("log10", raw=True)
def log10(input):
    """Elementwise base-10 logarithm of `input`, as torch.log10.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.log10(_floating(input))


defvjp(log10, lambda g, out, x: g / (x * math.log(10)))


@primitive("sqrt", uses_out=True, raw=True)
def sqrt(input):
    """Elementwise square root of `input`, as torch.sqrt.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.sqrt(_floating(input))


defvjp(sqrt, lambda g, out, x: g / (2 * out), reads=((-1,),))


@primitive("rsqrt", uses_out=True, raw=True)
def rsqrt(input):
    """Elementwise reciprocal square root 1 / sqrt(`input`), as torch.rsqrt.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    input = _floating(input)
    return 1 / np.sqrt(input)


defvjp(rsqrt, lambda g, out, x: g * (-0.5 * out * out * out), reads=((-1,),))


# ---- trigonometric and hyperbolic ----------------------------------------------------------------
@primitive("sin", raw=True)
def sin(input):
    """Elementwise sine of `input` (radians), as torch.sin.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.sin(_floating(input))


defvjp(sin, lambda g, out, x: g * cos(x))


@primitive("cos", raw=True)
def cos(input):
    """Elementwise cosine of `input` (radians), as torch.cos.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.cos(_floating(input))


defvjp(cos, lambda g, out, x: -g * sin(x))


@primitive("tan", uses_out=True, raw=True)
def tan(input):
    """Elementwise tangent of `input` (radians), as torch.tan.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.tan(_floating(input))


defvjp(tan, lambda g, out, x: g * (1 + out * out), reads=((-1,),))


@primitive("tanh", uses_out=True, raw=True)
def tanh(input):
    """Elementwise hyperbolic tangent of `input`, as torch.tanh.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype, as in
    PyTorch.
    """
    return np.tanh(_floating(input))


defvjp(tanh, lambda g, out, x: g * (1 - out * out), reads=((-1,),))


@primitive("sigmoid", uses_out=True, raw=True)
def sigmoid(input):
    """Elementwise logistic sigmoid 1 / (1 + exp(-`input`)), as torch.sigmoid.

    `input` is a tensor (or number). Integer `input` is computed in the default float dtype;
    float16 stays float16.
    """
    input = _floating(input)
    out = special.expit(input)
    if type(input) is not np.ndarray:       # a Python number (a rule's scalar): a number back
        return out
    return out if out.dtype == input.dtype else out.astype(input.dtype)    # expit widens float16


defvjp(sigmoid, lambda g, out, x: g * (out * (1 - out)), reads=((-1,),))



# ---- sign, abs, rounding: the subgradient choices are PyTorch's ----------------------------------
@primitive("abs", raw=True)
def abs(input):
    """Elementwise absolute value of `input`, as torch.abs (alias `absolute`).

    `input` is a tensor (or number). The gradient at 0 is 0, as in PyTorch; bool tensors are
    refused.
    """
    if input.dtype == np.bool_:
        raise NotImplementedError("abs: not implemented for 'Bool' tensors (as in PyTorch)")
    return np.abs(input)


# abs'(0) = sign(0) = 0, as in PyTorch
defvjp(abs, lambda g, out, x: g * sign(x))
absolute = abs


@primitive("sign", raw=True)
def sign(input):
    """Elementwise sign of `input` (-1, 0 or 1), as torch.sign.

    `input` is a tensor (or number). sign(NaN) is 0 and a bool tensor is its own sign, as in
    PyTorch; the gradient is 0.
    """
    if input.dtype == np.bool_:
        return input.copy()         # PyTorch: the sign of a bool tensor is itself
    out = np.sign(input)
    if is_floating(input.dtype):
        out = np.where(out != out, 0, out)     # sign(NaN) is 0 in PyTorch, NaN in NumPy
    return out


defvjp(sign, lambda g, out, x: _zeros(g), reads=((),))


def _flat(name, fn):
    """A piecewise-constant op: its gradient is zero wherever it exists, as in PyTorch."""
    prim = primitive(name, raw=True)(lambda input: fn(input))
    prim.__doc__ = (f"Elementwise {name} of `input`, as torch.{name}.\n\n"
                    "The gradient is zero wherever it exists, as in PyTorch.")
    return defvjp(prim, lambda g, out, x: _zeros(g), reads=((),))


floor = _flat("floor", np.floor)
ceil = _flat("ceil", np.ceil)
trunc = _flat("trunc", np.trunc)


@primitive("round", raw=True)
def round(input, decimals=0):
    """Round `input` elementwise to `decimals` decimal places, as torch.round.

    Halves round to even (NumPy's and PyTorch's rule); the gradient is 0. `decimals` may be
    negative to round to tens, hundreds...
    """
    return np.round(input, decimals)


defvjp(round, lambda g, out, x, decimals=0: _zeros(g), reads=((),))


def frac(input, *, out=None):
    """Fractional part `input` - trunc(`input`), elementwise, as torch.frac.

    The result keeps the sign of `input`; `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, frac, input)
    return input - trunc(input)


__all__ = ["exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "sin", "cos", "tan",
           "tanh", "sigmoid", "abs", "absolute", "sign", "floor", "ceil", "trunc", "round",
           "frac"]

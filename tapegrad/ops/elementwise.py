"""Elementwise ops: arithmetic, math functions, comparisons. Forward and VJP side by side.

Rules are `rule(g, out, *inputs, **params)` in tapegrad ops (so they are differentiable); the
engine sums their results back over broadcast dimensions and casts them to the input's dtype.
"""
import math

import numpy as np
from scipy import special

from ..dtypes import promote, get_default_dtype
from .._tensor import _leaf, Tensor
from ..primitives import primitive, defvjp


def _floating(x):
    """PyTorch computes float functions of integer tensors in the default float dtype."""
    if type(x) is np.ndarray:
        return x if x.dtype.kind == "f" else x.astype(get_default_dtype())
    return float(x)


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _integral(v):
    return v.dtype.kind in "biu" if type(v) is np.ndarray else not isinstance(v, float)


def _const(like, a):
    """A constant in the form the rule is running in: an array when `like` is bare, else a tensor."""
    return a if type(like) is np.ndarray else _leaf(a)


def _zeros(g):
    return _const(g, np.zeros_like(_data(g)))


def _is_bool(v):
    return type(v) is np.ndarray and v.dtype == np.bool_


def _dtype_of(v):
    return v.dtype if type(v) is np.ndarray else type(v).__name__


# ---- arithmetic ------------------------------------------------------------------------------
@primitive("add", reads_inputs=False, raw=True)
def add(x, y, alpha=1):
    x, y = promote(x, y)
    return x + y if alpha == 1 else x + alpha * y


defvjp(add,
       lambda g, out, x, y, alpha=1: g,
       lambda g, out, x, y, alpha=1: g if alpha == 1 else g * alpha)


@primitive("sub", reads_inputs=False, raw=True)
def sub(x, y, alpha=1):
    xp, yp = promote(x, y)
    if (xp is not x or yp is not y) and (_is_bool(x) or _is_bool(y)):
        # a bool operand promoted to a number: PyTorch refuses what NumPy would compute
        raise RuntimeError(f"sub: Subtraction, the `-` operator, with a bool tensor is not "
                           f"supported (operands: {_dtype_of(x)}, {_dtype_of(y)}). If you are "
                           f"trying to invert a mask, use the `~` or `logical_not()` operator "
                           f"instead.")
    return xp - yp if alpha == 1 else xp - alpha * yp


defvjp(sub,
       lambda g, out, x, y, alpha=1: g,
       lambda g, out, x, y, alpha=1: -g if alpha == 1 else g * -alpha)


@primitive("mul", raw=True)
def mul(x, y):
    x, y = promote(x, y)
    return x * y


defvjp(mul,
       lambda g, out, x, y: g * y,
       lambda g, out, x, y: g * x, reads=((1,), (0,)))


@primitive("div", raw=True)
def div(x, y):
    x, y = promote(x, y)
    if _integral(x) and _integral(y):
        x, y = _floating(x), _floating(y)   # true division of integers: the default float dtype
    return x / y


defvjp(div,
       lambda g, out, x, y: g / y,
       lambda g, out, x, y: -g * x / (y * y), reads=((1,), (0, 1)))

true_divide = div


@primitive("neg", reads_inputs=False, raw=True)
def neg(x):
    return -x


defvjp(neg, lambda g, out, x: -g)
negative = neg


def _pow_base_grad(g, out, x, y):
    if isinstance(y, (int, float)):
        return _zeros(g) if y == 0 else g * (y * x ** (y - 1))
    return where(y == 0, 0.0, g * (y * x ** (y - 1)))


def _pow_exponent_grad(g, out, x, y):
    # d(x**y)/dy = x**y * log(x); PyTorch takes it as 0 where x == 0 and y >= 0
    if isinstance(x, (int, float)):
        return g * (out * math.log(x)) if x > 0 else g * (0.0 if x == 0 else math.nan)
    with np.errstate(divide="ignore", invalid="ignore"):    # log(0), masked out just below
        return where((x == 0) & (y >= 0), 0.0, g * out * log(x))


@primitive("pow", uses_out=True, raw=True)
def pow(x, y):
    x, y = promote(x, y)
    return np.power(x, y)


defvjp(pow, _pow_base_grad, _pow_exponent_grad, reads=((0, 1), (0, 1, -1)))


@primitive("square", raw=True)
def square(x):
    # NumPy squares bools to int8; PyTorch promotes them to int64
    return np.square(x.astype(np.int64) if x.dtype == np.bool_ else x)


defvjp(square, lambda g, out, x: g * (2 * x), reads=((0,),))


@primitive("reciprocal", uses_out=True, raw=True)
def reciprocal(x):
    return 1 / _floating(x)


defvjp(reciprocal, lambda g, out, x: -g * out * out, reads=((-1,),))


def _check_divisor(x, y, op):
    """Integer division by zero raises, as in PyTorch (NumPy returns 0 and warns); so does a
    bool // or %, which PyTorch does not implement."""
    if _integral(x) and _integral(y):
        if _is_bool(x) and (_is_bool(y) or isinstance(y, bool)):
            raise NotImplementedError(f"{op}: not implemented for 'Bool' operands")
        if not np.all(y):
            raise RuntimeError(f"{op}: ZeroDivisionError (an integer divisor is zero; operands "
                               f"{_dtype_of(x)}, {_dtype_of(y)})")


@primitive("floor_divide", raw=True)
def floor_divide(x, y):
    x, y = promote(x, y)
    _check_divisor(x, y, "floor_divide")
    return np.floor_divide(x, y)


defvjp(floor_divide, lambda g, out, x, y: _zeros(g), lambda g, out, x, y: _zeros(g),
       reads=((), ()))


@primitive("remainder", raw=True)
def remainder(x, y):
    x, y = promote(x, y)
    _check_divisor(x, y, "remainder")
    return np.remainder(x, y)


# x mod y = x - floor(x / y) * y, and floor is flat almost everywhere
defvjp(remainder,
       lambda g, out, x, y: g,
       lambda g, out, x, y: -g * floor_divide(x, y))


@primitive("fmod", raw=True)
def fmod(x, y):
    """torch.fmod: the C remainder, with the sign of x (remainder's has the sign of y)."""
    x, y = promote(x, y)
    _check_divisor(x, y, "fmod")
    return np.fmod(x, y)


# fmod(x, y) = x - trunc(x / y) * y
defvjp(fmod,
       lambda g, out, x, y: g,
       lambda g, out, x, y: -g * trunc(div(x, y)))


# ---- exponentials, logarithms, powers --------------------------------------------------------
@primitive("exp", uses_out=True, raw=True)
def exp(x):
    return np.exp(_floating(x))


defvjp(exp, lambda g, out, x: g * out, reads=((-1,),))


@primitive("expm1", uses_out=True, raw=True)
def expm1(x):
    return np.expm1(_floating(x))


defvjp(expm1, lambda g, out, x: g * (out + 1), reads=((-1,),))


@primitive("log", raw=True)
def log(x):
    return np.log(_floating(x))


defvjp(log, lambda g, out, x: g / x)


@primitive("log1p", raw=True)
def log1p(x):
    return np.log1p(_floating(x))


defvjp(log1p, lambda g, out, x: g / (x + 1))


@primitive("log2", raw=True)
def log2(x):
    return np.log2(_floating(x))


defvjp(log2, lambda g, out, x: g / (x * math.log(2)))


@primitive("log10", raw=True)
def log10(x):
    return np.log10(_floating(x))


defvjp(log10, lambda g, out, x: g / (x * math.log(10)))


@primitive("sqrt", uses_out=True, raw=True)
def sqrt(x):
    return np.sqrt(_floating(x))


defvjp(sqrt, lambda g, out, x: g / (2 * out), reads=((-1,),))


@primitive("rsqrt", uses_out=True, raw=True)
def rsqrt(x):
    x = _floating(x)
    return 1 / np.sqrt(x)


defvjp(rsqrt, lambda g, out, x: g * (-0.5 * out * out * out), reads=((-1,),))


# ---- trigonometric and hyperbolic -------------------------------------------------------------
@primitive("sin", raw=True)
def sin(x):
    return np.sin(_floating(x))


defvjp(sin, lambda g, out, x: g * cos(x))


@primitive("cos", raw=True)
def cos(x):
    return np.cos(_floating(x))


defvjp(cos, lambda g, out, x: -g * sin(x))


@primitive("tan", uses_out=True, raw=True)
def tan(x):
    return np.tan(_floating(x))


defvjp(tan, lambda g, out, x: g * (1 + out * out), reads=((-1,),))


@primitive("tanh", uses_out=True, raw=True)
def tanh(x):
    return np.tanh(_floating(x))


defvjp(tanh, lambda g, out, x: g * (1 - out * out), reads=((-1,),))


@primitive("sigmoid", uses_out=True, raw=True)
def sigmoid(x):
    x = _floating(x)
    out = special.expit(x)
    return out if out.dtype == x.dtype else out.astype(x.dtype)    # expit widens float16


defvjp(sigmoid, lambda g, out, x: g * (out * (1 - out)), reads=((-1,),))


# ---- piecewise: the subgradient choices are PyTorch's -----------------------------------------
@primitive("relu", uses_out=True, reads_inputs=False, raw=True)
def relu(x):
    return np.maximum(x, 0)


# relu'(0) = 0, as in PyTorch; read from out (out > 0 exactly where x > 0), as PyTorch does, so
# relu_ keeps no copy of its input and changing x after relu(x) does not spoil the backward.
# Masks select rather than multiply: an inf or NaN cotangent at a clipped entry gives 0, not NaN.
defvjp(relu, lambda g, out, x: where(out > 0, g, 0.0))


@primitive("abs", raw=True)
def abs(x):
    if x.dtype == np.bool_:
        raise NotImplementedError("abs: not implemented for 'Bool' tensors (as in PyTorch)")
    return np.abs(x)


# abs'(0) = sign(0) = 0, as in PyTorch
defvjp(abs, lambda g, out, x: g * sign(x))
absolute = abs


@primitive("sign", raw=True)
def sign(x):
    if x.dtype == np.bool_:
        return x.copy()         # PyTorch: the sign of a bool tensor is itself
    out = np.sign(x)
    if x.dtype.kind == "f":
        out = np.where(out != out, 0, out)     # sign(NaN) is 0 in PyTorch, NaN in NumPy
    return out


defvjp(sign, lambda g, out, x: _zeros(g), reads=((),))


def _flat(name, fn):
    """A piecewise-constant op: its gradient is zero wherever it exists, as in PyTorch."""
    prim = primitive(name, raw=True)(lambda x: fn(x))
    prim.__doc__ = f"torch.{name}: elementwise, with zero gradient."
    return defvjp(prim, lambda g, out, x: _zeros(g), reads=((),))


floor = _flat("floor", np.floor)
ceil = _flat("ceil", np.ceil)
trunc = _flat("trunc", np.trunc)


@primitive("round", raw=True)
def round(x, decimals=0):
    return np.round(x, decimals)


defvjp(round, lambda g, out, x, decimals=0: _zeros(g), reads=((),))


def frac(x):
    """torch.frac: x - trunc(x)."""
    return x - trunc(x)


@primitive("clamp", raw=True)
def clamp_prim(x, lo=None, hi=None):
    for b in (lo, hi):
        if b is not None:
            x, _ = promote(x, b)    # an int tensor clamped to a float bound becomes float
    out = np.clip(x, lo, hi)
    if x.dtype.kind == "f" and (lo == 0 or hi == 0):
        out = np.where(out == x, x, out)   # x itself where in range: clamp(-0.0, min=0) is -0.0
    return out


# the gradient passes where lo <= x <= hi, bounds included, as in PyTorch (selected, so an inf
# cotangent gives 0 outside, not NaN)
defvjp(clamp_prim, lambda g, out, x, lo=None, hi=None: where(_inside(x, lo, hi), g, 0.0))


def _inside(x, lo, hi):
    """A bool mask of lo <= x <= hi (bounds None, numbers or arrays; NaN is outside)."""
    a = _data(x)
    if lo is None:
        return a <= _data(hi)
    keep = a >= _data(lo)
    if hi is not None:
        keep &= a <= _data(hi)
    return keep


@primitive("clamp_tensor", raw=True)
def clamp_tensor(x, lo, hi):
    """torch.clamp with tensor bounds (either may be None): x where lo <= x <= hi, else
    min(max(x, lo), hi); a NaN bound gives NaN, as in PyTorch."""
    out = x
    if lo is not None:
        x, lo = promote(x, lo)
        out = np.maximum(x, lo)
    if hi is not None:
        x, hi = promote(x, hi)
        out = np.minimum(out, hi)
    return np.where(_inside(x, lo, hi), x, out)


def _clamp_bound_grad(g, x, lo, hi, low):
    """PyTorch's rule: a bound takes the gradient where it clamps x (max wins if min > max)."""
    a, lo, hi = _data(x), _data(lo), _data(hi)
    if lo is None or hi is None:
        return where(a < lo if low else a > hi, g, 0.0)
    if low:
        return where((a < lo) & (lo < hi), g, 0.0)
    return where((a > hi) | (hi < lo), g, 0.0)


defvjp(clamp_tensor,
       lambda g, out, x, lo, hi: where(_inside(x, lo, hi), g, 0.0),
       lambda g, out, x, lo, hi: _clamp_bound_grad(g, x, lo, hi, True),
       lambda g, out, x, lo, hi: _clamp_bound_grad(g, x, lo, hi, False))


def clamp(input, min=None, max=None):
    """torch.clamp: bounds may be numbers or tensors (tensor bounds broadcast)."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return clamp_tensor(input, min, max)
    # NumPy scalars are not weak like Python numbers: they would widen a float32 tensor
    min, max = (b.item() if isinstance(b, np.generic) else b for b in (min, max))
    return clamp_prim(input, lo=min, hi=max)


clip = clamp


def _unless_beaten(g, x, y):
    """x's share of g in maximum(x, y): half at ties, exactly 0 where x < y (selected, never
    0 * g), all of it otherwise (NaNs included), as PyTorch's rule."""
    a, b = _data(x), _data(y)
    return where(a < b, 0.0, where(a == b, g * 0.5, g))


@primitive("maximum", raw=True)
def maximum(x, y):
    x, y = promote(x, y)
    return np.maximum(x, y)


defvjp(maximum,
       lambda g, out, x, y: _unless_beaten(g, x, y),
       lambda g, out, x, y: _unless_beaten(g, y, x))


@primitive("minimum", raw=True)
def minimum(x, y):
    x, y = promote(x, y)
    return np.minimum(x, y)


defvjp(minimum,
       lambda g, out, x, y: _unless_beaten(g, y, x),
       lambda g, out, x, y: _unless_beaten(g, x, y))


@primitive("where", raw=True)
def where(cond, x, y):
    if type(cond) is np.ndarray and cond.dtype != np.bool_ and cond.dtype != np.uint8:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {cond.dtype}")
    x, y = promote(x, y)
    if type(cond) is np.ndarray and cond.dtype == np.bool_:
        # where(mask, g, 0), the masking rules' form: a multiply is ~15x faster than
        # np.where on a random mask, and is the same selection when the kept side is finite
        if _plus_zero(y) and type(x) is np.ndarray:
            return _masked(x, cond)
        if _plus_zero(x) and type(y) is np.ndarray:
            return _masked(y, ~cond)
    return np.where(cond, x, y)


def _plus_zero(v):
    return type(v) in (int, float) and v == 0 and math.copysign(1.0, v) > 0


def _masked(a, keep):
    if a.dtype.kind in "fc" and not np.isfinite(a).all():
        return np.where(keep, a, 0)      # inf * False would be NaN: select instead
    return a * keep


defvjp(where,
       None,
       lambda g, out, c, x, y: where(c, g, 0.0),
       lambda g, out, c, x, y: where(c, 0.0, g), reads=((), (0,), (0,)))


def lerp(input, end, weight):
    """torch.lerp: input + weight * (end - input)."""
    return input + weight * (end - input)


__all__ = ["add", "sub", "mul", "div", "true_divide", "neg", "negative", "pow", "square",
           "reciprocal", "floor_divide", "remainder", "fmod", "exp", "expm1", "log", "log1p",
           "log2", "log10", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu",
           "abs", "absolute", "sign", "floor", "ceil", "trunc", "round", "frac", "clamp", "clip",
           "maximum", "minimum", "where", "lerp"]

"""Elementwise arithmetic and selections: + - * / // % **, fmod, relu, clamp, maximum and
minimum, where, lerp. Forward and VJP side by side (the unary math functions: unary.py).

Rules are `rule(g, out, *inputs, **params)` in tapegrad ops (so they are differentiable); the
engine sums their results back over broadcast dimensions and casts them to the input's dtype.
"""
import math

import numpy as np

from ..dtypes import is_floating, promote
from .._tensor import Tensor
from ..primitives import primitive, defvjp
from .out import into
from .unary import _data, _floating, _zeros, log, trunc


def _integral(v):
    return v.dtype.kind in "biu" if type(v) is np.ndarray else not isinstance(v, float)


def _is_bool(v):
    return type(v) is np.ndarray and v.dtype == np.bool_


def _dtype_of(v):
    return v.dtype if type(v) is np.ndarray else type(v).__name__


# ---- arithmetic ------------------------------------------------------------------------------
@primitive("add", reads_inputs=False, raw=True)
def add(input, other, *, alpha=1):
    """torch.add: input + alpha * other."""
    x, y = promote(input, other)
    return x + y if alpha == 1 else x + alpha * y


defvjp(add,
       lambda g, out, x, y, alpha=1: g,
       lambda g, out, x, y, alpha=1: g if alpha == 1 else g * alpha)


@primitive("sub", reads_inputs=False, raw=True)
def sub(input, other, *, alpha=1):
    """torch.sub: input - alpha * other."""
    xp, yp = promote(input, other)
    if (xp is not input or yp is not other) and (_is_bool(input) or _is_bool(other)):
        # a bool operand promoted to a number: PyTorch refuses what NumPy would compute
        raise RuntimeError(f"sub: Subtraction, the `-` operator, with a bool tensor is not "
                           f"supported (operands: {_dtype_of(input)}, {_dtype_of(other)}). If "
                           f"you are trying to invert a mask, use the `~` or `logical_not()` "
                           f"operator instead.")
    return xp - yp if alpha == 1 else xp - alpha * yp


defvjp(sub,
       lambda g, out, x, y, alpha=1: g,
       lambda g, out, x, y, alpha=1: -g if alpha == 1 else g * -alpha)


@primitive("mul", raw=True)
def mul(input, other):
    """Elementwise product `input` * `other` (broadcast, dtypes promoted), as torch.mul."""
    x, y = promote(input, other)
    return x * y


defvjp(mul,
       lambda g, out, x, y: g * y,
       lambda g, out, x, y: g * x, reads=((1,), (0,)))


@primitive("div", raw=True)
def div(input, other, *, rounding_mode=None):
    """Elementwise quotient `input` / `other` (broadcast), as torch.div (alias `true_divide`).

    Integer operands divide to the default float dtype. `rounding_mode` "trunc" rounds toward zero,
    "floor" rounds down (integers then stay integers and a zero divisor raises); the gradient of a
    rounded quotient is zero, as in PyTorch.
    """
    x, y = promote(input, other)
    if rounding_mode is not None:
        return _rounded_div(x, y, rounding_mode)
    if _integral(x) and _integral(y):
        x, y = _floating(x), _floating(y)   # true division of integers: the default float dtype
    return x / y


def _rounded_div(x, y, mode):
    """torch.div's rounding modes; integers stay integers (and refuse a zero divisor)."""
    if mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{mode}'")
    _check_divisor(x, y, "div")
    if not (_integral(x) and _integral(y)):
        with np.errstate(divide="ignore", invalid="ignore"):    # x / 0 is +-inf or NaN
            return np.floor_divide(x, y) if mode == "floor" else np.trunc(x / y)
    if mode == "floor":
        return np.floor_divide(x, y)
    q = np.floor_divide(x, y)
    return q + ((q < 0) & (q * y != x))     # floor rounds negative quotients down: undo it


# with a rounding mode the gradient is zero, as in PyTorch
defvjp(div,
       lambda g, out, x, y, rounding_mode=None: g / y if rounding_mode is None else _zeros(g),
       lambda g, out, x, y, rounding_mode=None:
           -g * x / (y * y) if rounding_mode is None else _zeros(g), reads=((1,), (0, 1)))

true_divide = div


@primitive("neg", reads_inputs=False, raw=True)
def neg(input):
    """Elementwise negation -`input`, as torch.neg (alias `negative`)."""
    return -input


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
def pow(input, exponent):
    """Elementwise power `input` ** `exponent` (either may be a number), as torch.pow.

    The gradient with respect to `exponent` is taken as 0 where `input` is 0 and `exponent` >= 0,
    as in PyTorch.
    """
    x, y = promote(input, exponent)
    return np.power(x, y)


defvjp(pow, _pow_base_grad, _pow_exponent_grad, reads=((0, 1), (0, 1, -1)))


@primitive("square", raw=True)
def square(input):
    # NumPy squares bools to int8; PyTorch promotes them to int64
    """Elementwise `input` * `input`, as torch.square (bool tensors give int64)."""
    return np.square(input.astype(np.int64) if input.dtype == np.bool_ else input)


defvjp(square, lambda g, out, x: g * (2 * x), reads=((0,),))


@primitive("reciprocal", uses_out=True, raw=True)
def reciprocal(input):
    """Elementwise 1 / `input`, as torch.reciprocal.

    Integer `input` gives the default float dtype.
    """
    return 1 / _floating(input)


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
def floor_divide(input, other):
    """Elementwise floor(`input` / `other`), as torch.floor_divide.

    Integers stay integers and raise on a zero divisor (NumPy would return 0); the gradient is 0.
    """
    x, y = promote(input, other)
    _check_divisor(x, y, "floor_divide")
    return np.floor_divide(x, y)


defvjp(floor_divide, lambda g, out, x, y: _zeros(g), lambda g, out, x, y: _zeros(g),
       reads=((), ()))


@primitive("remainder", raw=True)
def remainder(input, other):
    """Elementwise Python-style modulus of `input` by `other`, as torch.remainder.

    The result has the sign of `other` (see `fmod` for C's); integer zero divisors raise.
    """
    x, y = promote(input, other)
    _check_divisor(x, y, "remainder")
    return np.remainder(x, y)


# x mod y = x - floor(x / y) * y, and floor is flat almost everywhere
defvjp(remainder,
       lambda g, out, x, y: g,
       lambda g, out, x, y: -g * floor_divide(x, y))


@primitive("fmod", raw=True)
def fmod(input, other):
    """Elementwise C-style remainder of `input` by `other`, as torch.fmod.

    The result has the sign of `input` (`remainder`'s has the sign of `other`).
    """
    x, y = promote(input, other)
    _check_divisor(x, y, "fmod")
    return np.fmod(x, y)


# fmod(x, y) = x - trunc(x / y) * y
defvjp(fmod,
       lambda g, out, x, y: g,
       lambda g, out, x, y: -g * trunc(div(x, y)))



# ---- piecewise: the subgradient choices are PyTorch's -----------------------------------------
@primitive("relu", uses_out=True, reads_inputs=False, raw=True)
def relu(input):
    """Elementwise max(`input`, 0), as torch.relu.

    The gradient at 0 is 0, as in PyTorch; it is read from the output, so no copy of `input` is
    kept. Boolean input is refused, as in PyTorch.
    """
    if type(input) is np.ndarray and input.dtype == np.bool_:
        raise RuntimeError("relu: Boolean inputs not supported for relu")
    return np.maximum(0, input)      # (on a tie NumPy returns the second: relu(-0.0) is -0.0)


# relu'(0) = 0, as in PyTorch; read from out (out > 0 exactly where x > 0), as PyTorch does, so
# relu_ keeps no copy of its input and changing x after relu(x) does not spoil the backward.
# Masks select rather than multiply: an inf or NaN cotangent at a clipped entry gives 0, not NaN.
# The mask is PyTorch's `out <= 0`: a NaN output passes its cotangent on (a NaN stays visible).
defvjp(relu, lambda g, out, x: where(out <= 0, 0.0, g))



@primitive("clamp", raw=True, grad_fn="ClampBackward1")
def clamp_prim(x, lo=None, hi=None):
    for b in (lo, hi):
        if b is not None:
            x, _ = promote(x, b)    # an int tensor clamped to a float bound becomes float
    out = np.clip(x, lo, hi)
    if out.dtype != x.dtype and is_floating(x.dtype):
        out = out.astype(x.dtype)      # bfloat16: NumPy's clip has no loop and widens
    if is_floating(x.dtype) and (lo == 0 or hi == 0):
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


@primitive("clamp_tensor", raw=True, grad_fn="ClampBackward0")
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


def clamp(input, min=None, max=None, *, out=None):
    """Clamp `input` elementwise into [`min`, `max`], as torch.clamp (alias `clip`).

    `min` and `max` may be numbers, tensors (broadcast) or None, but not both None. Where a bound
    clamps, the gradient goes to that bound (tensor bounds) and not to `input`. `out`, if given,
    receives the result.
    """
    if out is not None:
        return into(out, clamp, input, min, max)
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
def maximum(input, other):
    """Elementwise maximum of `input` and `other` (broadcast), as torch.maximum.

    NaN propagates; at ties each side receives half the gradient, as in PyTorch.
    """
    x, y = promote(input, other)
    return np.maximum(x, y)


defvjp(maximum,
       lambda g, out, x, y: _unless_beaten(g, x, y),
       lambda g, out, x, y: _unless_beaten(g, y, x))


@primitive("minimum", raw=True)
def minimum(input, other):
    """Elementwise minimum of `input` and `other` (broadcast), as torch.minimum.

    NaN propagates; at ties each side receives half the gradient, as in PyTorch.
    """
    x, y = promote(input, other)
    return np.minimum(x, y)


defvjp(minimum,
       lambda g, out, x, y: _unless_beaten(g, y, x),
       lambda g, out, x, y: _unless_beaten(g, x, y))


@primitive("where", raw=True)
def where(condition, input, other):
    """torch.where(condition, input, other): input where condition holds, else other."""
    cond = condition
    if type(cond) is np.ndarray and cond.dtype != np.bool_ and cond.dtype != np.uint8:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {cond.dtype}")
    x, y = promote(input, other)
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
    if a.dtype.kind in "fc" or is_floating(a.dtype):
        if not np.isfinite(a).all():
            return np.where(keep, a, 0)      # inf * False would be NaN: select instead
        if (a == 0).any():
            return np.where(keep, a, 0)      # keeps a kept -0.0 as it is (rare: slower path)
        out = a * keep
        out += 0      # a negative entry times False is -0.0; where() gives +0.0, as torch's
        return out
    return a * keep


defvjp(where,
       None,
       lambda g, out, c, x, y: where(c, g, 0.0),
       lambda g, out, c, x, y: where(c, 0.0, g), reads=((), (0,), (0,)))


def lerp(input, end, weight, *, out=None):
    """Linear interpolation `input` + `weight` * (`end` - `input`), as torch.lerp.

    `weight` is a number or a tensor broadcast with the others. `out`, if given, receives the
    result.
    """
    if out is not None:
        return into(out, lerp, input, end, weight)
    return input + weight * (end - input)


__all__ = ["add", "sub", "mul", "div", "true_divide", "neg", "negative", "pow", "square",
           "reciprocal", "floor_divide", "remainder", "fmod", "relu", "clamp", "clip", "maximum",
           "minimum", "where", "lerp"]

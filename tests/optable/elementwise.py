"""Op-table rows for tapegrad/ops/elementwise.py and unary.py."""
import numpy as np
from scipy import special

from .case import OpCase, positive, away_from_zero

# broadcasting groups for binary ops: same shape, row vector, column, scalar-like, rank growth
BINARY = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), ()), ((), (2, 3))]
UNARY = [((3, 4),), ((),), ((2, 1, 3),)]


def unary(name, fn, ref, domain=None, **kw):
    return OpCase(name, fn, ref, UNARY, domain, **kw)


ROWS = [
    OpCase("add", lambda T, x, y: T.add(x, y), np.add, BINARY),
    OpCase("add_alpha", lambda T, x, y: T.add(x, y, alpha=2.5), lambda x, y: x + 2.5 * y, BINARY),
    OpCase("radd_scalar", lambda T, x: 2.0 + x, lambda x: 2.0 + x),
    OpCase("sub", lambda T, x, y: x - y, np.subtract, BINARY),
    OpCase("sub_alpha", lambda T, x, y: T.sub(x, y, alpha=3), lambda x, y: x - 3 * y, BINARY),
    OpCase("rsub_scalar", lambda T, x: 1.5 - x, lambda x: 1.5 - x),
    OpCase("mul", lambda T, x, y: x * y, np.multiply, BINARY),
    OpCase("div", lambda T, x, y: x / y, np.divide, BINARY, away_from_zero),
    OpCase("rdiv_scalar", lambda T, x: 2.0 / x, lambda x: 2.0 / x, domain=away_from_zero),
    OpCase("neg", lambda T, x: -x, np.negative, UNARY),
    OpCase("pow", lambda T, x, y: x ** y, np.power, BINARY, positive),
    OpCase("pow_scalar", lambda T, x: x ** 3, lambda x: x ** 3),
    OpCase("pow_zero", lambda T, x: x ** 0, lambda x: x ** 0, second=False),
    OpCase("rpow_scalar", lambda T, x: 2.0 ** x, lambda x: 2.0 ** x),
    OpCase("square", lambda T, x: T.square(x), np.square, UNARY),
    OpCase("reciprocal", lambda T, x: T.reciprocal(x), np.reciprocal, UNARY, away_from_zero),
    # PyTorch has no derivative for floor_divide; tapegrad's is zero almost everywhere
    OpCase("floor_divide", lambda T, x, y: T.floor_divide(x, y), np.floor_divide, BINARY,
           away_from_zero, torch=False),
    OpCase("remainder", lambda T, x, y: T.remainder(x, y), np.remainder, BINARY, positive),
    OpCase("fmod", lambda T, x, y: T.fmod(x, y), np.fmod, BINARY, away_from_zero),
    unary("exp", lambda T, x: T.exp(x), np.exp),
    unary("expm1", lambda T, x: T.expm1(x), np.expm1),
    unary("log", lambda T, x: T.log(x), np.log, positive),
    unary("log1p", lambda T, x: T.log1p(x), np.log1p, positive),
    unary("log2", lambda T, x: T.log2(x), np.log2, positive),
    unary("log10", lambda T, x: T.log10(x), np.log10, positive),
    unary("sqrt", lambda T, x: T.sqrt(x), np.sqrt, positive),
    unary("rsqrt", lambda T, x: T.rsqrt(x), lambda x: 1 / np.sqrt(x), positive),
    unary("sin", lambda T, x: T.sin(x), np.sin),
    unary("cos", lambda T, x: T.cos(x), np.cos),
    unary("tan", lambda T, x: T.tan(x), np.tan, lambda r, s: r.uniform(-1.2, 1.2, s)),
    unary("tanh", lambda T, x: T.tanh(x), np.tanh),
    unary("sigmoid", lambda T, x: T.sigmoid(x), special.expit),
    unary("relu", lambda T, x: T.relu(x), lambda x: np.maximum(x, 0), away_from_zero),
    unary("abs", lambda T, x: T.abs(x), np.abs, away_from_zero),
    unary("sign", lambda T, x: T.sign(x), np.sign, away_from_zero),
    unary("floor", lambda T, x: T.floor(x), np.floor),
    unary("ceil", lambda T, x: T.ceil(x), np.ceil),
    unary("trunc", lambda T, x: T.trunc(x), np.trunc),
    unary("round", lambda T, x: T.round(x), np.round),
    unary("frac", lambda T, x: T.frac(x), lambda x: x - np.trunc(x)),
    unary("clamp", lambda T, x: T.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7)),
    unary("clamp_min", lambda T, x: x.clamp(min=0.1), lambda x: np.maximum(x, 0.1)),
    OpCase("clamp_tensor", lambda T, x, lo: T.clamp(x, min=lo), np.maximum, BINARY[:3]),
    OpCase("clamp_tensor_max", lambda T, x, hi: T.clamp(x, max=hi), np.minimum, BINARY[:3]),
    OpCase("clamp_tensor_both", lambda T, x, lo, hi: T.clamp(x, lo, hi),
           lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
           [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1))]),
    OpCase("maximum", lambda T, x, y: T.maximum(x, y), np.maximum, BINARY),
    OpCase("minimum", lambda T, x, y: T.minimum(x, y), np.minimum, BINARY),
    OpCase("where", lambda T, x, y: T.where(x > y, x, y * 2), lambda x, y: np.where(x > y, x, y * 2),
           BINARY),
    OpCase("lerp", lambda T, x, y: T.lerp(x, y, 0.3), lambda x, y: x + 0.3 * (y - x), BINARY),
    OpCase("copy_", lambda T, x, y: x.clone().copy_(y), lambda x, y: x * 0 + y,
           [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), ())]),
    unary("clone", lambda T, x: x.clone() * 1.0, lambda x: x),
    # float32 rounding: a wider finite-difference step keeps the numerical derivative exact
    unary("cast", lambda T, x: x.float().double() * 2, lambda x: x.astype(np.float32) * 2.0,
          atol=1e-6, eps=1e-2),
]

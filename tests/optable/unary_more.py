"""Op-table rows for tapegrad/ops/trig.py, pointwise.py, activation.py, the `div` rounding
modes, and the activations of tapegrad/nn/activation_more.py (composites of `where`)."""
import numpy as np
from scipy import special

from .case import OpCase, away_from_zero, positive, unit
from .elementwise import BINARY, UNARY


def unary(name, fn, ref, domain=None, **kw):
    return OpCase(name, fn, ref, UNARY, domain, **kw)


def F(T):
    return T.nn.functional


def above_one(rng, shape):
    return rng.uniform(1.2, 3.0, shape)


def _elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    return np.where(x > 0, scale * x, scale * alpha * np.expm1(np.minimum(x, 0) * input_scale))


SELU = dict(alpha=1.6732632423543772848170429916717, scale=1.0507009873554804934193349852946)


def _softplus(x, beta, threshold):
    return np.where(x * beta > threshold, x, np.logaddexp(0, x * beta) / beta)


def _inplace_elu(T, x):
    y = x * 1
    F(T).elu(y, 1.5, inplace=True)
    return y


def _inplace_hardtanh(T, x):
    y = x * 1
    F(T).hardtanh(y, -0.5, 0.8, inplace=True)
    return y


ROWS = [
    # ---- ops/trig.py
    unary("asin", lambda T, x: T.asin(x), np.arcsin, unit),
    unary("acos", lambda T, x: T.acos(x), np.arccos, unit),
    unary("atan", lambda T, x: T.atan(x), np.arctan),
    unary("sinh", lambda T, x: T.sinh(x), np.sinh),
    unary("cosh", lambda T, x: T.cosh(x), np.cosh),
    unary("asinh", lambda T, x: T.asinh(x), np.arcsinh),
    unary("acosh", lambda T, x: T.acosh(x), np.arccosh, above_one),
    unary("atanh", lambda T, x: T.atanh(x), np.arctanh, unit),
    unary("arcsin_method", lambda T, x: x.arcsin(), np.arcsin, unit),
    OpCase("atan2", lambda T, x, y: T.atan2(x, y), np.arctan2, BINARY, away_from_zero),
    # ---- ops/pointwise.py
    OpCase("hypot", lambda T, x, y: T.hypot(x, y), np.hypot, BINARY, away_from_zero),
    OpCase("logaddexp", lambda T, x, y: T.logaddexp(x, y), np.logaddexp, BINARY),
    OpCase("logaddexp2", lambda T, x, y: T.logaddexp2(x, y), np.logaddexp2, BINARY),
    OpCase("copysign", lambda T, x, y: T.copysign(x, y), np.copysign, BINARY, away_from_zero),
    OpCase("fmax", lambda T, x, y: T.fmax(x, y), np.fmax, BINARY),
    OpCase("fmin", lambda T, x, y: T.fmin(x, y), np.fmin, BINARY),
    unary("clamp_min_scalar", lambda T, x: T.clamp_min(x, 0.2), lambda x: np.maximum(x, 0.2)),
    unary("clamp_max_method", lambda T, x: x.clamp_max(-0.1), lambda x: np.minimum(x, -0.1)),
    OpCase("clamp_min_tensor", lambda T, x, lo: T.clamp_min(x, lo), np.maximum, BINARY[:3]),
    OpCase("rsub", lambda T, x, y: T.rsub(x, y, alpha=2), lambda x, y: y - 2 * x, BINARY),
    OpCase("div_floor", lambda T, x, y: T.div(x, y, rounding_mode="floor"), np.floor_divide,
           BINARY, away_from_zero),
    OpCase("div_trunc", lambda T, x, y: T.divide(x, y, rounding_mode="trunc"),
           lambda x, y: np.trunc(x / y), BINARY, away_from_zero),
    # ---- ops/activation.py primitives
    unary("softplus", lambda T, x: F(T).softplus(x), lambda x: _softplus(x, 1.0, 20.0)),
    unary("softplus_beta", lambda T, x: F(T).softplus(x * 4, beta=2.0, threshold=3.0),
          lambda x: _softplus(x * 4, 2.0, 3.0)),
    unary("logsigmoid", lambda T, x: F(T).logsigmoid(x * 10), lambda x: -np.logaddexp(0, -x * 10)),
    unary("elu", lambda T, x: F(T).elu(x, 1.5), lambda x: _elu(x, 1.5), away_from_zero),
    unary("selu", lambda T, x: F(T).selu(x), lambda x: _elu(x, **SELU), away_from_zero),
    unary("celu", lambda T, x: F(T).celu(x, 2.0), lambda x: _elu(x, 2.0, 1.0, 0.5),
          away_from_zero),
    unary("celu_top_level", lambda T, x: T.celu(x), lambda x: _elu(x), away_from_zero),
    # ---- composites in nn/activation_more.py
    unary("hardtanh", lambda T, x: F(T).hardtanh(x, -0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8)),
    unary("relu6", lambda T, x: F(T).relu6(x * 4), lambda x: np.clip(x * 4, 0, 6)),
    unary("softsign", lambda T, x: F(T).softsign(x), lambda x: x / (1 + np.abs(x))),
    unary("hardsigmoid", lambda T, x: F(T).hardsigmoid(x * 4),
          lambda x: np.clip(x * 4 + 3, 0, 6) / 6),
    unary("hardswish", lambda T, x: F(T).hardswish(x * 4),
          lambda x: x * 4 * np.clip(x * 4 + 3, 0, 6) / 6),
    unary("threshold", lambda T, x: F(T).threshold(x, 0.1, 20.0),
          lambda x: np.where(x > 0.1, x, 20.0)),
    unary("softshrink", lambda T, x: F(T).softshrink(x, 0.3),
          lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.3, 0)),
    unary("hardshrink", lambda T, x: F(T).hardshrink(x, 0.3),
          lambda x: np.where(np.abs(x) > 0.3, x, 0)),
    unary("mish", lambda T, x: F(T).mish(x * 3), lambda x: x * 3 * np.tanh(np.logaddexp(0, x * 3))),
    unary("tanhshrink", lambda T, x: F(T).tanhshrink(x), lambda x: x - np.tanh(x)),
    OpCase("glu", lambda T, x: F(T).glu(x), lambda x: x[..., :2] * special.expit(x[..., 2:]),
           [((3, 4),), ((2, 3, 4),)]),
    OpCase("glu_dim0", lambda T, x: F(T).glu(x, 0), lambda x: x[:2] * special.expit(x[2:]),
           [((4, 3),)]),
    OpCase("prelu", lambda T, x, w: F(T).prelu(x, w),
           lambda x, w: np.where(x > 0, x, w.reshape((-1,) + (1,) * (x.ndim - 2)) * x),
           [((2, 3, 4), (3,)), ((5, 3), (3,)), ((2, 3), (1,))], away_from_zero),
    # ---- in-place forms: taped on a snapshot, the tensor rebased
    unary("sin_", lambda T, x: (x * 1).sin_(), np.sin),
    unary("sinh_", lambda T, x: (x * 1).sinh_(), np.sinh),
    unary("log1p_", lambda T, x: (x * 1).log1p_(), np.log1p, positive),
    unary("reciprocal_", lambda T, x: (x * 1).reciprocal_(), np.reciprocal, away_from_zero),
    OpCase("hypot_", lambda T, x, y: (x * 1).hypot_(y), np.hypot, BINARY[:2], away_from_zero),
    OpCase("clamp_min_", lambda T, x, y: (x * 1).clamp_min_(y), np.maximum, BINARY[:2]),
    unary("elu_inplace", _inplace_elu, lambda x: _elu(x, 1.5), away_from_zero),
    unary("hardtanh_inplace", _inplace_hardtanh, lambda x: np.clip(x, -0.5, 0.8)),
]

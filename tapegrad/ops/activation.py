"""Activations: primitives where composing other ops would overflow or lose digits
(softplus, log_sigmoid, the ELU family), and the ones torch also has at top level (selu,
threshold, hardshrink, prelu), composed with `where` so the kinks take PyTorch's subgradients.
The rest, and the `inplace=` forms, are in tapegrad/nn/activation_more.py.
"""
import numpy as np

from ..dtypes import is_floating
from ..primitives import primitive, defvjp
from .comparison import logical_or
from .elementwise import where
from .shape import reshape
from .unary import _data, exp, sigmoid

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(v):
    """sigmoid, also of the NumPy scalar that arithmetic on a 0-d array gives in raw rules."""
    return sigmoid(np.asarray(v) if isinstance(v, np.generic) else v)


def _float_input(name, x):
    if not is_floating(x.dtype):
        raise NotImplementedError(f'"{name}_cpu" not implemented for {x.dtype} tensors')


@primitive("softplus", raw=True)
def softplus(x, beta=1.0, threshold=20.0):
    """torch.nn.functional.softplus: log(1 + exp(beta * x)) / beta, x itself where
    beta * x > threshold."""
    _float_input("softplus", x)
    bx = x * beta
    with np.errstate(over="ignore"):        # exp overflows only where x itself is taken
        return np.where(bx > threshold, x, np.log1p(np.exp(bx)) / beta)


def _softplus_grad(g, x, beta, threshold):
    # PyTorch's rule: sigmoid(beta * x), exactly 1 past the threshold
    return where(_data(x) * beta > threshold, g, g * _sigmoid(x * beta))


defvjp(softplus, lambda g, out, x, beta=1.0, threshold=20.0: _softplus_grad(g, x, beta, threshold))


@primitive("log_sigmoid", raw=True)
def log_sigmoid(x):
    """torch.nn.functional.logsigmoid: log(sigmoid(x)), stable on both sides."""
    _float_input("log_sigmoid", x)
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


defvjp(log_sigmoid, lambda g, out, x: g * _sigmoid(-x))


def _elu(x, alpha, scale, input_scale):
    _float_input("elu", x)
    # x <= 0 takes the exponential branch, as PyTorch (so elu'(0) = alpha * scale)
    neg = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
    return np.where(x > 0, x * scale, neg)


def _elu_grad(g, x, alpha, scale, input_scale):
    pos = _data(x) > 0
    neg = where(pos, 0.0, x)        # no exp of large positive x, even in the unused branch
    return where(pos, g * scale, g * (exp(neg * input_scale) * (alpha * scale * input_scale)))


@primitive("elu", raw=True)
def elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    """torch's elu op: scale * x for x > 0, else scale * alpha * (exp(x * input_scale) - 1);
    F.elu and F.selu are its settings."""
    return _elu(x, alpha, scale, input_scale)


defvjp(elu, lambda g, out, x, alpha=1.0, scale=1.0, input_scale=1.0:
       _elu_grad(g, x, alpha, scale, input_scale))


@primitive("celu", raw=True)
def celu(x, alpha=1.0):
    """torch.celu: max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu(x, alpha, 1.0, 1.0 / alpha)


defvjp(celu, lambda g, out, x, alpha=1.0: _elu_grad(g, x, alpha, 1.0, 1.0 / alpha))



def selu(input):
    """scale * elu(`input`, alpha) with the self-normalizing constants, as torch.selu."""
    return elu(input, alpha=SELU_ALPHA, scale=SELU_SCALE)


def threshold(input, threshold, value):
    """`input` where it exceeds `threshold`, else `value`, as torch.threshold.

    The gradient is 0 where `input` == `threshold`.
    """
    return where(input > threshold, input, value)


def hardshrink(input, lambd=0.5):
    """`input` where |input| > `lambd`, else 0, as torch.hardshrink.

    The gradient is 0 where |input| == `lambd`.
    """
    return where(logical_or(input > lambd, input < -lambd), input, 0.0)


def prelu(input, weight):
    """`input` where positive, else `weight` * `input`, as torch.prelu.

    `weight` has one entry, or one per channel (dim 1 of `input`).
    """
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. "
                               f"Found parameter numbers = {n} and channel size = {channels}.")
        weight = reshape(weight, (n,) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = reshape(weight, ())
    # x > 0 takes the identity branch, so prelu'(0) = weight, as in PyTorch
    return where(input > 0, input, weight * input)


__all__ = ["celu", "selu", "threshold", "hardshrink", "prelu"]

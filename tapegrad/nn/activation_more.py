"""More activations, functions (torch.nn.functional) and modules: Hardtanh ReLU6 ELU SELU CELU
Softplus Softsign Hardsigmoid Hardswish Threshold Softshrink Hardshrink Mish LogSigmoid
Tanhshrink GLU PReLU.

The piecewise ones compose `where`, so the subgradient at each kink is the branch PyTorch's
rule picks (hardtanh'(+-1) = 0, hardswish'(3) = 1, elu'(0) = alpha ...). `inplace=True` writes
through `inplace._inplace`: the op is taped on a snapshot and the tensor rebased.
"""
import warnings

from .. import creation
from ..inplace import _inplace
from ..ops import activation as act, join, unary
from ..ops.elementwise import where
from . import init as _init
from .module import Module
from .parameter import Parameter


def _maybe_inplace(input, inplace, name, fn, *args, **params):
    return _inplace(input, fn, *args, name=name, **params) if inplace else fn(input, *args,
                                                                                  **params)


def _hardtanh(x, min_val, max_val):
    # bounds go to the constant branches: the gradient is 0 at x == min_val or max_val
    return where(x <= min_val, min_val, where(x >= max_val, max_val, x))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """torch.nn.functional.hardtanh: x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, inplace, "hardtanh_", _hardtanh, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    """torch.nn.functional.relu6: hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input, alpha=1.0, inplace=False):
    """torch.nn.functional.elu: x for x > 0, else alpha * (exp(x) - 1)."""
    return _maybe_inplace(input, inplace, "elu_", act.elu, alpha=alpha)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """torch.nn.functional.selu."""
    return _maybe_inplace(input, inplace, "selu_", act.selu)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """torch.nn.functional.celu: max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _maybe_inplace(input, inplace, "celu_", act.celu, alpha=alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def softplus(input, beta=1.0, threshold=20.0):
    """torch.nn.functional.softplus: log(1 + exp(beta * x)) / beta (linear past threshold)."""
    return act.softplus(input, beta=beta, threshold=threshold)


def softsign(input):
    """torch.nn.functional.softsign: x / (1 + |x|)."""
    return input / (unary.abs(input) + 1)


def _hardsigmoid(x):
    return where(x <= -3, 0.0, where(x >= 3, 1.0, (x + 3) / 6))


def hardsigmoid(input, inplace=False):
    """torch.nn.functional.hardsigmoid: relu6(x + 3) / 6 (gradient 0 at +-3)."""
    return _maybe_inplace(input, inplace, "hardsigmoid_", _hardsigmoid)


def _hardswish(x):
    # PyTorch's rule: x/3 + 1/2 strictly inside (-3, 3), 0 at -3, 1 at 3
    return where(x <= -3, 0.0, where(x >= 3, x, x * (x + 3) / 6))


def hardswish(input, inplace=False):
    """torch.nn.functional.hardswish: x * relu6(x + 3) / 6."""
    return _maybe_inplace(input, inplace, "hardswish_", _hardswish)


def threshold(input, threshold, value, inplace=False):
    """torch.nn.functional.threshold: x where x > threshold, else value."""
    return _maybe_inplace(input, inplace, "threshold_", act.threshold, threshold, value)


def threshold_(input, threshold, value):
    return _maybe_inplace(input, True, "threshold_", act.threshold, threshold, value)


def softshrink(input, lambd=0.5):
    """torch.nn.functional.softshrink: x - lambd above lambd, x + lambd below -lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf) but found {lambd}")
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


hardshrink = act.hardshrink


def _mish(x):
    return x * unary.tanh(act.softplus(x))


def mish(input, inplace=False):
    """torch.nn.functional.mish: x * tanh(softplus(x))."""
    return _maybe_inplace(input, inplace, "mish_", _mish)


def logsigmoid(input):
    """torch.nn.functional.logsigmoid: log(sigmoid(x)), computed stably."""
    return act.log_sigmoid(input)


def tanhshrink(input):
    """torch.nn.functional.tanhshrink: x - tanh(x)."""
    return input - unary.tanh(input)


def glu(input, dim=-1):
    """torch.nn.functional.glu: a * sigmoid(b), a and b the halves of input along dim."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.ndim if -input.ndim <= dim < input.ndim else dim
    if not isinstance(d, int) or d >= input.ndim or d < 0:
        raise IndexError(f"glu: Dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {dim})")
    if input.shape[d] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size "
                           f"{input.shape[d]}")
    a, b = join.chunk(input, 2, d)
    return a * unary.sigmoid(b)


prelu = act.prelu


# ---- modules ---------------------------------------------------------------------------------
def _inplace_repr(inplace):
    return "inplace=True" if inplace else ""


class Hardtanh(Module):
    """torch.nn.Hardtanh."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        for old, new, value in (("min_value", "min_val", min_value),
                                ("max_value", "max_val", max_value)):
            if value is not None:     # PyTorch's deprecated spellings
                warnings.warn(f"keyword argument `{old}` is deprecated and renamed to `{new}`",
                              FutureWarning, stacklevel=2)
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        if max_val <= min_val:      # PyTorch asserts it
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        tail = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{tail}"


class ReLU6(Hardtanh):
    """torch.nn.ReLU6: Hardtanh(0, 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class _Alpha(Module):
    """ELU and CELU: an alpha and an inplace flag."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class ELU(_Alpha):
    """torch.nn.ELU."""

    def forward(self, input):
        return elu(input, self.alpha, self.inplace)


class CELU(_Alpha):
    """torch.nn.CELU."""

    def forward(self, input):
        return celu(input, self.alpha, self.inplace)


class _Inplace(Module):
    """Activations whose only setting is `inplace`."""

    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).function(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class SELU(_Inplace):
    """torch.nn.SELU."""

    function = selu


class Hardsigmoid(_Inplace):
    """torch.nn.Hardsigmoid."""

    function = hardsigmoid

    def extra_repr(self):
        return ""


class Hardswish(_Inplace):
    """torch.nn.Hardswish."""

    function = hardswish

    def extra_repr(self):
        return ""


class Mish(_Inplace):
    """torch.nn.Mish."""

    function = mish


class _Plain(Module):
    """Activations without settings."""

    function = None

    def forward(self, input):
        return type(self).function(input)


class Softsign(_Plain):
    """torch.nn.Softsign."""

    function = softsign


class LogSigmoid(_Plain):
    """torch.nn.LogSigmoid."""

    function = logsigmoid


class Tanhshrink(_Plain):
    """torch.nn.Tanhshrink."""

    function = tanhshrink


class Softplus(Module):
    """torch.nn.Softplus."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Threshold(Module):
    """torch.nn.Threshold."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        tail = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{tail}"


class _Shrink(Module):
    function = None

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return type(self).function(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Softshrink(_Shrink):
    """torch.nn.Softshrink."""

    function = softshrink


class Hardshrink(_Shrink):
    """torch.nn.Hardshrink."""

    function = hardshrink


class GLU(Module):
    """torch.nn.GLU."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """torch.nn.PReLU: a learned slope for x < 0, one per channel or shared."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(creation.empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        _init.constant_(self.weight, self.init)

    def forward(self, input):
        return prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"

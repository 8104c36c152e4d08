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
    """Clamp ``input`` to [``min_val``, ``max_val``] (torch.nn.functional.hardtanh).

    The gradient is 0 at the bounds, as in PyTorch; ``min_val > max_val`` raises ValueError.
    ``inplace=True`` writes the result into ``input``.
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, inplace, "hardtanh_", _hardtanh, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`: clamp ``input`` to [``min_val``, ``max_val``] and return it."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    """Clamp ``input`` to [0, 6], i.e. hardtanh(input, 0, 6) (torch.nn.functional.relu6).

    ``inplace=True`` writes the result into ``input``.
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input, alpha=1.0, inplace=False):
    """Exponential linear unit: x for x > 0, else ``alpha * (exp(x) - 1)``, elementwise.

    Mirrors torch.nn.functional.elu; ``input`` is the tensor, ``inplace=True`` overwrites it.
    """
    return _maybe_inplace(input, inplace, "elu_", act.elu, alpha=alpha)


def elu_(input, alpha=1.0):
    """In-place :func:`elu` of ``input`` with slope parameter ``alpha``; returns ``input``."""
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """Scaled ELU, scale * elu(x, alpha) with PyTorch's fixed constants (functional.selu).

    ``input`` is the tensor; ``inplace=True`` writes the result into it.
    """
    return _maybe_inplace(input, inplace, "selu_", act.selu)


def selu_(input):
    """In-place :func:`selu` of ``input``; returns ``input``."""
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """Continuously differentiable ELU, elementwise (torch.nn.functional.celu).

    Computes max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) for x in ``input``;
    ``inplace=True`` writes the result into ``input``.
    """
    return _maybe_inplace(input, inplace, "celu_", act.celu, alpha=alpha)


def celu_(input, alpha=1.0):
    """In-place :func:`celu` of ``input`` with parameter ``alpha``; returns ``input``."""
    return celu(input, alpha, True)


def softplus(input, beta=1.0, threshold=20.0):
    """Smooth ReLU, log(1 + exp(beta * x)) / beta, elementwise (torch.nn.functional.softplus).

    Where ``beta * input`` exceeds ``threshold`` the function is the identity, for stability.
    """
    return act.softplus(input, beta=beta, threshold=threshold)


def softsign(input):
    """Softsign, ``input / (1 + |input|)`` elementwise (torch.nn.functional.softsign)."""
    return input / (unary.abs(input) + 1)


def _hardsigmoid(x):
    return where(x <= -3, 0.0, where(x >= 3, 1.0, (x + 3) / 6))


def hardsigmoid(input, inplace=False):
    """Piecewise-linear sigmoid, relu6(x + 3) / 6 (torch.nn.functional.hardsigmoid).

    The gradient is 0 at +-3, as in PyTorch. ``input`` is the tensor; ``inplace=True``
    writes the result into it.
    """
    return _maybe_inplace(input, inplace, "hardsigmoid_", _hardsigmoid)


def _hardswish(x):
    # PyTorch's rule: x/3 + 1/2 strictly inside (-3, 3), 0 at -3, 1 at 3
    return where(x <= -3, 0.0, where(x >= 3, x, x * (x + 3) / 6))


def hardswish(input, inplace=False):
    """Hard swish, x * relu6(x + 3) / 6, elementwise (torch.nn.functional.hardswish).

    ``input`` is the tensor; ``inplace=True`` writes the result into it.
    """
    return _maybe_inplace(input, inplace, "hardswish_", _hardswish)


def threshold(input, threshold, value, inplace=False):
    """Keep ``input`` where it is greater than ``threshold``, else put ``value``.

    Mirrors torch.nn.functional.threshold; ``inplace=True`` writes into ``input``.
    """
    return _maybe_inplace(input, inplace, "threshold_", act.threshold, threshold, value)


def threshold_(input, threshold, value):
    """In-place :func:`threshold`: entries of ``input`` <= ``threshold`` become ``value``."""
    return _maybe_inplace(input, True, "threshold_", act.threshold, threshold, value)


def softshrink(input, lambd=0.5):
    """Soft shrinkage of ``input``: x - lambd above lambd, x + lambd below -lambd, else 0.

    Mirrors torch.nn.functional.softshrink; a negative ``lambd`` raises RuntimeError.
    """
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf) but found {lambd}")
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


hardshrink = act.hardshrink


def _mish(x):
    return x * unary.tanh(act.softplus(x))


def mish(input, inplace=False):
    """Mish, x * tanh(softplus(x)), elementwise (torch.nn.functional.mish).

    ``input`` is the tensor; ``inplace=True`` writes the result into it.
    """
    return _maybe_inplace(input, inplace, "mish_", _mish)


def logsigmoid(input):
    """Log of the logistic sigmoid of ``input``, computed stably (functional.logsigmoid)."""
    return act.log_sigmoid(input)


def tanhshrink(input):
    """Tanh shrinkage, ``input - tanh(input)`` (torch.nn.functional.tanhshrink)."""
    return input - unary.tanh(input)


def glu(input, dim=-1):
    """Gated linear unit: a * sigmoid(b), a and b the two halves of ``input`` along ``dim``.

    Mirrors torch.nn.functional.glu; the size of ``dim`` must be even.
    """
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
    """Module clamping its input to [``min_val``, ``max_val``] (torch.nn.Hardtanh).

    ``inplace=True`` overwrites the input. ``min_value`` and ``max_value`` are PyTorch's
    deprecated spellings of the bounds (a FutureWarning); ``max_val <= min_val`` raises.
    """

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
    """Module clamping its input to [0, 6] (torch.nn.ReLU6); ``inplace`` overwrites it."""

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
    """Module applying :func:`elu` with parameter ``alpha`` (torch.nn.ELU); ``inplace`` as there."""

    def forward(self, input):
        return elu(input, self.alpha, self.inplace)


class CELU(_Alpha):
    """Module applying :func:`celu` with parameter ``alpha`` (torch.nn.CELU); ``inplace`` too."""

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
    """Module applying :func:`selu` (torch.nn.SELU); ``inplace=True`` overwrites the input."""

    function = selu


class Hardsigmoid(_Inplace):
    """Module applying :func:`hardsigmoid` (torch.nn.Hardsigmoid); ``inplace`` as there."""

    function = hardsigmoid

    def extra_repr(self):
        return ""


class Hardswish(_Inplace):
    """Module applying :func:`hardswish` (torch.nn.Hardswish); ``inplace`` as there."""

    function = hardswish

    def extra_repr(self):
        return ""


class Mish(_Inplace):
    """Module applying :func:`mish` (torch.nn.Mish); ``inplace=True`` overwrites the input."""

    function = mish


class _Plain(Module):
    """Activations without settings."""

    function = None

    def forward(self, input):
        return type(self).function(input)


class Softsign(_Plain):
    """Module applying :func:`softsign`, x / (1 + abs(x)) (nn.Softsign); no args or kwargs."""

    function = softsign


class LogSigmoid(_Plain):
    """Module applying :func:`logsigmoid` (torch.nn.LogSigmoid); it takes no args or kwargs."""

    function = logsigmoid


class Tanhshrink(_Plain):
    """Module applying :func:`tanhshrink`, x - tanh(x) (torch.nn.Tanhshrink); no args or kwargs."""

    function = tanhshrink


class Softplus(Module):
    """Module applying :func:`softplus` with ``beta`` and ``threshold`` (torch.nn.Softplus)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Threshold(Module):
    """Module applying :func:`threshold` (torch.nn.Threshold).

    Entries not above ``threshold`` become ``value``; ``inplace=True`` overwrites the input.
    """

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
    """Module applying :func:`softshrink` with threshold ``lambd`` (torch.nn.Softshrink)."""

    function = softshrink


class Hardshrink(_Shrink):
    """Module zeroing entries with ``|x| <= lambd`` (hardshrink, as torch.nn.Hardshrink)."""

    function = hardshrink


class GLU(Module):
    """Module applying :func:`glu`, splitting its input in halves along ``dim`` (torch.nn.GLU)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """Parametric ReLU (torch.nn.PReLU): x for x >= 0, else ``weight * x`` with a learned slope.

    ``num_parameters`` is 1 (one slope shared by all channels) or the number of channels
    (dim 1 of the input); the slopes start at ``init``. ``device`` and ``dtype`` place the
    ``weight`` parameter.
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(creation.empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        """Set every slope back to ``init``, the constructor's value."""
        _init.constant_(self.weight, self.init)

    def forward(self, input):
        return prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"

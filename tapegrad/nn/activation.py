"""Activations: functions and modules (ReLU LeakyReLU GELU SiLU Tanh Sigmoid Softmax LogSoftmax).

Most compose elementwise ops; the exact GELU needs the normal CDF and is a primitive of its
own (ops/nn.py). Subgradients at kinks are PyTorch's (relu'(0) = 0, leaky_relu'(0) = slope).
"""
import math
import warnings

from ..ops import conversion, elementwise, nn as nn_ops, unary
from .module import Module


def relu(input, inplace=False):
    """Rectified linear unit, max(input, 0), elementwise (torch.nn.functional.relu).

    ``input`` is any floating tensor; with ``inplace=True`` the result is written into
    ``input`` and ``input`` is returned. The subgradient at 0 is 0, as in PyTorch.
    """
    return input.relu_() if inplace else elementwise.relu(input)


def _in_place(input, fn):
    """Write fn(input) into input; fn runs on a clone, so its saved values stay intact."""
    return input.copy_(fn(conversion.clone(input)))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """Leaky ReLU: ``input`` where it is positive, else ``negative_slope * input``.

    Mirrors torch.nn.functional.leaky_relu; ``inplace=True`` overwrites ``input``.
    """
    if inplace:
        return _in_place(input, lambda x: leaky_relu(x, negative_slope))
    return elementwise.where(input > 0, input, input * negative_slope)


def gelu(input, approximate="none"):
    """Gaussian error linear unit, ``input * Phi(input)`` (torch.nn.functional.gelu).

    ``approximate`` is ``"none"`` (the exact normal CDF) or ``"tanh"`` (the tanh formula);
    anything else raises RuntimeError.
    """
    if approximate == "none":
        return nn_ops.gelu(input)
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1 + unary.tanh(inner))
    raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got "
                       f"'{approximate}'")


def silu(input, inplace=False):
    """Sigmoid linear unit (swish), ``input * sigmoid(input)`` (torch.nn.functional.silu).

    ``inplace=True`` writes the result into ``input``.
    """
    if inplace:
        return _in_place(input, silu)
    return input * unary.sigmoid(input)


def tanh(input):
    return unary.tanh(input)


def sigmoid(input):
    return unary.sigmoid(input)


def _implicit_dim(ndim, name):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax of ``input`` along ``dim``: exp(x) / sum(exp(x)), computed stably.

    Mirrors torch.nn.functional.softmax. ``dim=None`` picks PyTorch's legacy implicit dim
    (0 for 0-, 1- and 3-d input, else 1) with a deprecation warning; ``dtype`` casts the input
    first; ``_stacklevel`` is accepted for compatibility and ignored.
    """
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmax")
    return nn_ops.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Log of the softmax of ``input`` along ``dim``, computed stably (as a log-sum-exp).

    Mirrors torch.nn.functional.log_softmax. ``dim=None`` picks PyTorch's legacy implicit dim
    with a deprecation warning; ``dtype`` casts the input first; ``_stacklevel`` is accepted
    for compatibility and ignored.
    """
    if dim is None:
        dim = _implicit_dim(input.ndim, "log_softmax")
    return nn_ops.log_softmax(input, dim, dtype=dtype)


class ReLU(Module):
    """Module applying :func:`relu` elementwise (torch.nn.ReLU); ``inplace`` as in relu."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return relu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """Module applying :func:`leaky_relu` (torch.nn.LeakyReLU).

    ``negative_slope`` multiplies the negative inputs; ``inplace=True`` overwrites the input.
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Module applying :func:`gelu` (torch.nn.GELU); ``approximate`` is 'none' or 'tanh'."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """Module applying :func:`silu`, x * sigmoid(x) (torch.nn.SiLU); ``inplace`` as in silu."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return silu(input, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """Module applying tanh elementwise (torch.nn.Tanh); it takes no args or kwargs."""

    def forward(self, input):
        return unary.tanh(input)


class Sigmoid(Module):
    """Module applying the logistic sigmoid elementwise (torch.nn.Sigmoid); no args or kwargs."""

    def forward(self, input):
        return unary.sigmoid(input)


class Softmax(Module):
    """Module applying :func:`softmax` along ``dim`` (torch.nn.Softmax)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Module applying :func:`log_softmax` along ``dim`` (torch.nn.LogSoftmax)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"

"""torch.distributions.Distribution: shapes, argument and sample validation, and the helpers
the concrete distributions share (broadcasting parameters, drawing base noise)."""
import math

import numpy as np

from .._tensor import Tensor, _leaf
from .._types import Size
from ..creation import numpy_rng
from ..dtypes import get_default_dtype
from ..grad_mode import no_grad
from ..ops.shape import expand
from ..ops.unary import sqrt, exp
from . import constraints

__all__ = ["Distribution"]


def broadcast_all(*values):
    """torch.distributions.utils.broadcast_all: numbers become tensors of the tensors' dtype
    (the default dtype when there are none); all are expanded to one shape."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    if not all(isinstance(v, (Tensor, int, float, np.number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers or tensors, got "
                         + ", ".join(type(v).__name__ for v in values))
    dt = tensors[0]._data.dtype if tensors else np.dtype(get_default_dtype())
    values = [v if isinstance(v, Tensor) else _leaf(np.asarray(v, dt)) for v in values]
    shape = np.broadcast_shapes(*(tuple(v.shape) for v in values))
    return tuple(v if tuple(v.shape) == shape else expand(v, shape) for v in values)


def as_param(value, like=None):
    """A value as a tensor: numbers and arrays in like's dtype (else the default dtype)."""
    if isinstance(value, Tensor):
        return value
    dt = like._data.dtype if like is not None else np.dtype(get_default_dtype())
    return _leaf(np.asarray(value, dt))


def noise(shape, like, draw):
    """A constant tensor of `shape` drawn by draw(numpy_generator, shape), in like's dtype."""
    a = np.asarray(draw(numpy_rng(None), tuple(shape)))
    return _leaf(a.astype(like._data.dtype))


def finfo(like):
    return np.finfo(like._data.dtype)


class Distribution:
    """torch.distributions.Distribution: batch_shape + event_shape, sample/rsample, log_prob,
    entropy, moments; arguments are validated by default (validate_args=False skips it)."""
    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints = {}

    @staticmethod
    def set_default_validate_args(value):
        """torch.distributions.Distribution.set_default_validate_args."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args expects True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            for param, constraint in self.arg_constraints.items():
                if param not in self.__dict__:
                    continue    # a parameter given in another form (probs vs logits, ...)
                value = getattr(self, param)
                if not bool(constraint.check(value)._data.all()):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    @property
    def support(self):
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return sqrt(self.variance)

    def sample(self, sample_shape=Size()):
        """Draws without gradient (rsample under no_grad where there is one)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler "
                                  f"(has_rsample is False): use sample(), which is not "
                                  f"differentiable")

    def sample_n(self, n):
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self):
        return exp(self.entropy())

    def enumerate_support(self, expand=True):
        raise NotImplementedError(f"{type(self).__name__} does not implement "
                                  f"enumerate_support")

    def _extended_shape(self, sample_shape=Size()):
        if not isinstance(sample_shape, (tuple, list)):
            sample_shape = (sample_shape,)
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value):
        """PyTorch's check of a log_prob/cdf argument: a tensor whose shape broadcasts with
        batch_shape + event_shape, inside the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        n = len(self._event_shape)
        if tuple(value.shape[len(value.shape) - n:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {tuple(self._event_shape)}.")
        try:
            np.broadcast_shapes(tuple(value.shape), self._extended_shape())
        except ValueError:
            raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                             f"{tuple(value.shape)} vs {tuple(self._extended_shape())}.") from None
        support = self.support
        if support is constraints.dependent:
            return
        if not bool(support.check(value)._data.all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                             f"{tuple(value.shape)}) to be within the support ({support!r}) of "
                             f"the distribution {self!r}, but found invalid values:\n{value}")

    def __repr__(self):
        shown = []
        for name in self.arg_constraints:
            if name in self.__dict__:
                v = self.__dict__[name]
                shown.append(f"{name}: {v if v.numel() == 1 else v.shape}")
        return f"{type(self).__name__}({', '.join(shown)})"


LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))

"""Bernoulli, Categorical (each from probs or logits) and Poisson, with torch.distributions'
names and formulas."""
from functools import cached_property

import numpy as np

from .._tensor import _leaf
from .._types import Size
from ..creation import numpy_rng, arange
from ..ops.unary import log, exp, sigmoid
from ..ops.elementwise import relu
from ..ops.nn import softmax
from ..ops.shape import expand
from ..special import xlogy, gammaln
from . import constraints
from .distribution import Distribution, broadcast_all, as_param, finfo

__all__ = ["Bernoulli", "Categorical", "Poisson"]


def softplus(x):
    """log(1 + exp(x)) as m + log(exp(-m) + exp(x - m)), m = relu(x): no overflow, and the
    gradient sigmoid(x) is exact everywhere, at 0 too (m's own gradient cancels)."""
    m = relu(x)
    return m + log(exp(-m) + exp(x - m))


def clamp_probs(probs):
    """torch.distributions.utils.clamp_probs: into [eps, 1 - eps], so logits stay finite."""
    eps = float(finfo(probs).eps)
    return probs.clamp(min=eps, max=1 - eps)


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class Bernoulli(Distribution):
    """torch.distributions.Bernoulli(probs=None, logits=None)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    @cached_property
    def logits(self):
        p = clamp_probs(self.probs)
        return log(p) - log(1 - p)

    @cached_property
    def probs(self):
        return sigmoid(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return (self.probs >= 0.5).type_as(self.probs)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def expand(self, batch_shape, _instance=None):
        shape = Size(batch_shape)
        if "probs" in self.__dict__:
            return Bernoulli(probs=expand(self.probs, shape), validate_args=False)
        return Bernoulli(logits=expand(self.logits, shape), validate_args=False)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(self.probs._data, shape)
        return _leaf((numpy_rng(None).random(shape) < p).astype(self.probs._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -(softplus(logits) - logits * value)      # -BCE-with-logits

    def entropy(self):
        return softplus(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand=True):
        values = _leaf(np.arange(2).astype(self._param._data.dtype))
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values


class Categorical(Distribution):
    """torch.distributions.Categorical(probs=None, logits=None): categories index the last
    dimension of the parameter (probs are normalised, logits shifted to log-probabilities)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            probs = as_param(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            logits = as_param(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    @cached_property
    def logits(self):
        return log(clamp_probs(self.probs))

    @cached_property
    def probs(self):
        return softmax(self.logits, -1)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return _leaf(np.full(self._extended_shape(), np.nan, self._param._data.dtype))

    @property
    def variance(self):
        return self.mean

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def expand(self, batch_shape, _instance=None):
        shape = Size(tuple(batch_shape) + (self._num_events,))
        if "probs" in self.__dict__:
            return Categorical(probs=expand(self.probs, shape), validate_args=False)
        return Categorical(logits=expand(self.logits, shape), validate_args=False)

    def sample(self, sample_shape=Size()):
        """Inverse-CDF draws, int64 as PyTorch's."""
        shape = tuple(self._extended_shape(sample_shape))
        cdf = np.cumsum(self.probs._data.astype(np.float64), -1)
        u = numpy_rng(None).random(shape + (1,)) * cdf[..., -1:]
        idx = (u >= cdf).sum(-1)
        return _leaf(np.minimum(idx, self._num_events - 1).astype(np.int64))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        v = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(v.shape), tuple(self.logits.shape))
        index = expand(v, shape[:-1] + (1,))
        log_pmf = expand(self.logits, shape[:-1] + (self._num_events,))
        return log_pmf.gather(-1, index).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(finfo(self.logits).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = arange(self._num_events).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values


class Poisson(Distribution):
    """torch.distributions.Poisson(rate)."""
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def expand(self, batch_shape, _instance=None):
        return Poisson(expand(self.rate, Size(batch_shape)), validate_args=False)

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        lam = np.broadcast_to(self.rate._data.astype(np.float64), shape)
        return _leaf(numpy_rng(None).poisson(lam).astype(self.rate._data.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - gammaln(value + 1)

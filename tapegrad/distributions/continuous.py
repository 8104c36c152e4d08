"""Normal, Uniform, Laplace and Exponential (torch.distributions' names and formulas): each
rsample is a differentiable function of the parameters and a constant noise draw."""
import math

from .._types import Size
from ..ops.unary import log, log1p, abs, sign
from ..ops.shape import expand
from ..special import erf, erfinv
from . import constraints
from .distribution import Distribution, broadcast_all, noise, finfo, LOG_SQRT_2PI

__all__ = ["Normal", "Uniform", "Laplace", "Exponential"]


class _LocScale(Distribution):
    """A location-scale family with scalar events."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    def expand(self, batch_shape, _instance=None):
        shape = Size(batch_shape)
        return type(self)(expand(self.loc, shape), expand(self.scale, shape),
                          validate_args=False)


class Normal(_LocScale):
    """torch.distributions.Normal(loc, scale)."""

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=Size()):
        eps = noise(self._extended_shape(sample_shape), self.loc,
                    lambda g, s: g.standard_normal(s))
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - log(self.scale) - LOG_SQRT_2PI

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value):
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + log(self.scale)


class Laplace(_LocScale):
    """torch.distributions.Laplace(loc, scale)."""

    @property
    def variance(self):
        return 2 * self.scale ** 2

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=Size()):
        # u in (-1, 1), never -1, so log1p(-|u|) stays finite (as PyTorch draws it)
        lo = float(finfo(self.loc).eps) - 1
        u = noise(self._extended_shape(sample_shape), self.loc, lambda g, s: g.uniform(lo, 1, s))
        return self.loc - self.scale * sign(u) * log1p(-abs(u))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -log(2 * self.scale) - abs(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * sign(z) * (-abs(z) / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * sign(term) * log1p(-2 * abs(term))

    def entropy(self):
        return 1 + log(2 * self.scale)


class Uniform(Distribution):
    """torch.distributions.Uniform(low, high): the half-open interval [low, high)."""
    arg_constraints = {"low": constraints.real, "high": constraints.real}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        if validate_args is not False and (validate_args or self._validate_args):
            if not bool((self.low._data < self.high._data).all()):
                raise ValueError(f"Uniform: expected low < high everywhere, got low "
                                 f"{self.low} and high {self.high}")
        super().__init__(self.low.shape, validate_args=validate_args)

    @property
    def support(self):
        return constraints.half_open_interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.low * float("nan")

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def expand(self, batch_shape, _instance=None):
        shape = Size(batch_shape)
        return Uniform(expand(self.low, shape), expand(self.high, shape), validate_args=False)

    def rsample(self, sample_shape=Size()):
        u = noise(self._extended_shape(sample_shape), self.low, lambda g, s: g.random(s))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (value < self.high)
        return log(inside.type_as(self.low)) - log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return log(self.high - self.low)


class Exponential(Distribution):
    """torch.distributions.Exponential(rate)."""
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate * 0

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate ** -2

    def expand(self, batch_shape, _instance=None):
        return Exponential(expand(self.rate, Size(batch_shape)), validate_args=False)

    def rsample(self, sample_shape=Size()):
        e = noise(self._extended_shape(sample_shape), self.rate,
                  lambda g, s: g.standard_exponential(s))
        return e / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return log(self.rate) - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - log(self.rate)


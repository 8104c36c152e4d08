"""Gamma, Beta and Dirichlet (torch.distributions' names and formulas), with implicit
reparameterisation: a gamma draw z moves with its concentration a as dz/da = -dP(a, z)/da /
p(z; a), P the regularised incomplete gamma function (the CDF), p the density."""
import numpy as np
from scipy import special as sp

from .._tensor import _leaf
from ..autograd.function import Function
from ..grad_mode import is_grad_enabled
from .._types import Size
from ..ops.unary import log
from ..ops.join import stack
from ..ops.shape import expand
from ..special import gammaln, digamma, xlogy, gammainc
from . import constraints
from ..creation import numpy_rng
from .distribution import Distribution, broadcast_all, as_param, finfo

__all__ = ["Gamma", "Beta", "Dirichlet"]


def _dP_da(a, z):
    """d/da of the regularised lower incomplete gamma P(a, z), by Richardson-extrapolated central
    differences in float64 (error ~ h^4; SciPy has no closed form); the upper function Q is
    differenced where P is near 1, so the tail keeps its relative precision."""
    upper = z > a
    f = lambda b: np.where(upper, -sp.gammaincc(b, z), sp.gammainc(b, z))  # noqa: E731
    h = 1e-3 * a
    d1 = (f(a + h) - f(a - h)) / (2 * h)
    d2 = (f(a + h / 2) - f(a - h / 2)) / h
    return (4 * d2 - d1) / 3


def _standard_gamma(alpha, shape):
    """Gamma(alpha, 1) draws of `shape` (alpha expanded to it), differentiable in alpha."""
    a = np.broadcast_to(alpha._data.astype(np.float64), tuple(shape))
    z = np.maximum(numpy_rng(None).standard_gamma(a), np.finfo(alpha._data.dtype).tiny)
    with np.errstate(all="ignore"):
        log_pdf = (a - 1) * np.log(z) - z - sp.gammaln(a)
        dz = -_dP_da(a, z) / np.exp(log_pdf)
    dz = np.where(np.isfinite(dz), dz, 0.0)     # draws that underflowed to 0 do not move
    dt = alpha._data.dtype
    return _ImplicitGamma.apply(expand(alpha, Size(shape)), _leaf(z.astype(dt)),
                                _leaf(dz.astype(dt)))


class _ImplicitGamma(Function):
    """A gamma draw z whose gradient w.r.t. its shape a is dz/da (implicit reparameterisation).
    dz/da is only known numerically, so a second derivative raises (as PyTorch's does)."""

    @staticmethod
    def forward(ctx, a, z, dz_da):
        ctx.save_for_backward(a, dz_da)
        return z.clone()

    @staticmethod
    def backward(ctx, g):
        a, dz_da = ctx.saved_tensors
        grad = g * dz_da
        if is_grad_enabled():
            # create_graph: the gradient stays connected to a (and to g's history) through a
            # node whose own backward refuses, so a second derivative raises, never reads 0
            grad = _NoSecondDerivative.apply(grad, a)
        return grad, None, None


class _NoSecondDerivative(Function):
    @staticmethod
    def forward(ctx, grad, a):
        return grad.clone()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the derivative of a Gamma/Beta/Dirichlet rsample's gradient is not "
                           "implemented (d2z/da2 of an implicitly reparameterised draw)")


class Gamma(Distribution):
    """torch.distributions.Gamma(concentration, rate): density ∝ x^(a-1) e^(-rate x)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def expand(self, batch_shape, _instance=None):
        shape = Size(batch_shape)
        return Gamma(expand(self.concentration, shape), expand(self.rate, shape),
                     validate_args=False)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        return _standard_gamma(self.concentration, shape) / expand(self.rate, shape)

    def log_prob(self, value):
        value = as_param(value, self.rate)
        if self._validate_args:
            self._validate_sample(value)
        a, r = self.concentration, self.rate
        return xlogy(a, r) + xlogy(a - 1, value) - r * value - gammaln(a)

    def cdf(self, value):
        value = as_param(value, self.rate)
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        a = self.concentration
        return a - log(self.rate) + gammaln(a) + (1 - a) * digamma(a)


class Dirichlet(Distribution):
    """torch.distributions.Dirichlet(concentration): distributions over the last dimension's
    simplex."""
    arg_constraints = {"concentration": constraints.independent_positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        concentration = as_param(concentration)
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        a = (self.concentration - 1).clamp(min=0.0)
        return a / a.sum(-1, keepdim=True)

    @property
    def variance(self):
        a = self.concentration
        a0 = a.sum(-1, keepdim=True)
        return a * (a0 - a) / (a0 ** 2 * (a0 + 1))

    def expand(self, batch_shape, _instance=None):
        shape = Size(tuple(batch_shape) + tuple(self.event_shape))
        return Dirichlet(expand(self.concentration, shape), validate_args=False)

    def rsample(self, sample_shape=Size()):
        g = _standard_gamma(self.concentration, self._extended_shape(sample_shape))
        eps = float(finfo(self.concentration).tiny)
        return (g / g.sum(-1, keepdim=True)).clamp(min=eps, max=1 - eps)

    def log_prob(self, value):
        value = as_param(value, self.concentration)
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return xlogy(a - 1, value).sum(-1) + gammaln(a.sum(-1)) - gammaln(a).sum(-1)

    def entropy(self):
        a = self.concentration
        k = a.shape[-1]
        a0 = a.sum(-1)
        return (gammaln(a).sum(-1) - gammaln(a0) - (k - a0) * digamma(a0)
                - ((a - 1) * digamma(a)).sum(-1))


class Beta(Distribution):
    """torch.distributions.Beta(concentration1, concentration0): a two-category Dirichlet on
    (x, 1 - x)."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet.batch_shape, validate_args=validate_args)

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def expand(self, batch_shape, _instance=None):
        shape = Size(batch_shape)
        return Beta(expand(self.concentration1, shape), expand(self.concentration0, shape),
                    validate_args=False)

    def rsample(self, sample_shape=Size()):
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value):
        value = as_param(value, self.concentration1)
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self):
        return self._dirichlet.entropy()

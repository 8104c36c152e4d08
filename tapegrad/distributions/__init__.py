"""tapegrad.distributions: torch.distributions' classes, kl_divergence and constraints."""
from . import constraints  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .continuous import Normal, Uniform, Laplace, Exponential  # noqa: F401
from .discrete import Bernoulli, Categorical, Poisson  # noqa: F401
from .gamma import Gamma, Beta, Dirichlet  # noqa: F401
from .multivariate_normal import MultivariateNormal  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401

__all__ = ["Distribution", "Normal", "Uniform", "Laplace", "Exponential", "Bernoulli",
           "Categorical", "Poisson", "Gamma", "Beta", "Dirichlet", "MultivariateNormal",
           "kl_divergence", "register_kl", "constraints"]

"""torch.distributions.MultivariateNormal, parameterised by a lower Cholesky factor L of the
covariance (given, or from the covariance or precision matrix); everything else is triangular
solves and sums of log diag(L), so it is differentiable in loc and in the matrix given."""
import math
from functools import cached_property

import numpy as np

from .._tensor import _leaf
from .._types import Size
from ..ops.unary import log
from ..ops.linalg import matmul
from ..ops.shape import expand
from ..linalg import cholesky, solve_triangular, inv
from ..linalg.base import diagonal, mT
from . import constraints
from .distribution import Distribution, as_param, noise

__all__ = ["MultivariateNormal"]


def batch_mahalanobis(L, x):
    """x^T (L L^T)^-1 x over the batch: the squared norm of L^-1 x."""
    shape = np.broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1]))
    n = L.shape[-1]
    y = solve_triangular(expand(L, shape + (n, n)), expand(x, shape + (n,)).unsqueeze(-1),
                         upper=False)
    return (y.squeeze(-1) ** 2).sum(-1)


def half_log_det(L):
    return log(diagonal(L)).sum(-1)


class MultivariateNormal(Distribution):
    """torch.distributions.MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None,
    scale_tril=None): exactly one of the three matrices."""
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        loc = as_param(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, matrix = next((n, as_param(m, loc)) for n, m in zip(
            ("covariance_matrix", "precision_matrix", "scale_tril"),
            (covariance_matrix, precision_matrix, scale_tril)) if m is not None)
        if matrix.ndim < 2:
            raise ValueError(f"{name} must be at least two-dimensional, with optional leading "
                             f"batch dimensions")
        try:
            batch_shape = Size(np.broadcast_shapes(tuple(matrix.shape[:-2]),
                                                   tuple(loc.shape[:-1])))
        except ValueError:
            raise ValueError(f"MultivariateNormal: the batch shapes of loc {tuple(loc.shape)} "
                             f"and {name} {tuple(matrix.shape)} do not broadcast") from None
        n = loc.shape[-1]
        if tuple(matrix.shape[-2:]) != (n, n):
            raise ValueError(f"MultivariateNormal: {name} of shape {tuple(matrix.shape)} does "
                             f"not match loc's event size {n}")
        self.loc = expand(loc, batch_shape + (n,))
        setattr(self, name, expand(matrix, batch_shape + (n, n)))
        super().__init__(batch_shape, Size((n,)), validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = cholesky(inv(matrix))

    def _full(self, m):
        n = self._event_shape[0]
        return expand(m, self._batch_shape + (n, n))

    # the two matrices not given are derived from L on first use (PyTorch's lazy properties)
    @cached_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @cached_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return self._full(matmul(L, mT(L)))

    @cached_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        Linv = solve_triangular(L, _leaf(np.eye(L.shape[-1], dtype=L._data.dtype)), upper=False)
        return self._full(matmul(mT(Linv), Linv))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        v = (self._unbroadcasted_scale_tril ** 2).sum(-1)
        return expand(v, self._batch_shape + self._event_shape)

    def expand(self, batch_shape, _instance=None):
        n = self._event_shape[0]
        shape = Size(batch_shape)
        return MultivariateNormal(expand(self.loc, shape + (n,)),
                                  scale_tril=expand(self._unbroadcasted_scale_tril, shape + (n, n)),
                                  validate_args=False)

    def rsample(self, sample_shape=Size()):
        eps = noise(self._extended_shape(sample_shape), self.loc,
                    lambda g, s: g.standard_normal(s))
        return self.loc + matmul(self._unbroadcasted_scale_tril, eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - half_log_det(
            self._unbroadcasted_scale_tril)

    def entropy(self):
        n = self._event_shape[0]
        H = 0.5 * n * (1.0 + math.log(2 * math.pi)) + half_log_det(self._unbroadcasted_scale_tril)
        return expand(H, self._batch_shape) if self._batch_shape else H

"""torch.distributions.constraints: the sets that parameters and values live in.

`check(value)` returns a bool tensor over the batch (event dimensions reduced), as PyTorch's
does; the distributions validate with it and raise ValueError naming what failed.
"""
import numpy as np

from .._tensor import Tensor, _leaf

__all__ = ["Constraint", "boolean", "real", "real_vector", "positive", "nonnegative",
           "unit_interval", "simplex", "independent_positive", "nonnegative_integer",
           "positive_definite", "lower_cholesky", "interval", "half_open_interval",
           "greater_than", "greater_than_eq", "integer_interval", "dependent"]


def _array(value):
    return value._data if isinstance(value, Tensor) else np.asarray(value)


class Constraint:
    """torch.distributions.constraints.Constraint: a region; event_dim trailing dimensions
    form one event, checked together."""
    is_discrete = False
    event_dim = 0

    def _ok(self, v):
        raise NotImplementedError

    def check(self, value):
        ok = np.asarray(self._ok(_array(value)), bool)
        return _leaf(ok)

    def __repr__(self):
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    """A constraint that depends on the distribution's parameters (never checked)."""

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


dependent = _Dependent()


class _Boolean(Constraint):
    is_discrete = True

    def _ok(self, v):
        return (v == 0) | (v == 1)


class _Real(Constraint):
    def _ok(self, v):
        return v == v        # only NaN fails


class _IndependentReal(_Real):
    event_dim = 1

    def _ok(self, v):
        return (v == v).all(-1)

    def __repr__(self):
        return "IndependentConstraint(Real(), 1)"


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _ok(self, v):
        return v > _array(self.lower_bound)

    def __repr__(self):
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _IndependentPositive(_GreaterThan):
    event_dim = 1

    def _ok(self, v):
        return super()._ok(v).all(-1)

    def __repr__(self):
        return "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)"


class _GreaterThanEq(_GreaterThan):
    def _ok(self, v):
        return v >= _array(self.lower_bound)


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _ok(self, v):
        return (_array(self.lower_bound) <= v) & (v <= _array(self.upper_bound))

    def __repr__(self):
        return (f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _HalfOpenInterval(_Interval):
    def _ok(self, v):
        return (_array(self.lower_bound) <= v) & (v < _array(self.upper_bound))


class _IntegerInterval(_Interval):
    is_discrete = True

    def _ok(self, v):
        return (v % 1 == 0) & super()._ok(v)


class _IntegerGreaterThan(_GreaterThanEq):
    is_discrete = True

    def _ok(self, v):
        return (v % 1 == 0) & super()._ok(v)

    def __repr__(self):
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _Simplex(Constraint):
    event_dim = 1

    def _ok(self, v):
        tol = 1e-6 if v.dtype == np.float64 else 1e-4 * max(1, v.shape[-1] if v.ndim else 1)
        return (v >= 0).all(-1) & (np.abs(v.sum(-1) - 1) < tol)


def _symmetric(v):
    return np.isclose(v, np.swapaxes(v, -1, -2), atol=1e-6).all((-2, -1))


class _PositiveDefinite(Constraint):
    event_dim = 2

    def _ok(self, v):
        sym = _symmetric(v)
        # eigvalsh reads one triangle, so only symmetric matrices count
        return sym & (np.linalg.eigvalsh(np.where(sym[..., None, None], v, 0)) > 0).all(-1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def _ok(self, v):
        lower = (np.triu(v, 1) == 0).all((-2, -1))
        return lower & (np.diagonal(v, axis1=-2, axis2=-1) > 0).all(-1)


boolean = _Boolean()
real = _Real()
real_vector = _IndependentReal()
positive = _GreaterThan(0.0)
independent_positive = _IndependentPositive(0.0)
nonnegative = _GreaterThanEq(0.0)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
nonnegative_integer = _IntegerGreaterThan(0)
positive_definite = _PositiveDefinite()
lower_cholesky = _LowerCholesky()
interval = _Interval
half_open_interval = _HalfOpenInterval
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
integer_interval = _IntegerInterval

"""Comparisons and predicates: elementwise, bool results, never recorded on the tape."""
import numpy as np

from ..dtypes import promote
from .._tensor import _leaf, Tensor
from .out import into_plain


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _compare(name, ufunc):
    def compare(input, other, *, out=None):
        if out is not None:
            return into_plain(out, compare, input, other)
        return _leaf(ufunc(*promote(_data(input), _data(other))))
    compare.__name__ = name
    compare.__doc__ = (f"Elementwise {name} of `input` and `other` (broadcast), as "
                       f"torch.{name}.\n\nA bool tensor, never recorded; `out`, if given, "
                       "receives the result.")
    return compare


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
logical_and = _compare("logical_and", np.logical_and)
logical_or = _compare("logical_or", np.logical_or)
logical_xor = _compare("logical_xor", np.logical_xor)
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def logical_not(input, *, out=None):
    """Elementwise logical NOT of `input` (nonzero is True), as torch.logical_not.

    A bool tensor. `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, logical_not, input)
    return _leaf(np.logical_not(_data(input)))


def isnan(input):
    """A bool tensor, True where `input` is NaN, as torch.isnan."""
    return _leaf(np.isnan(_data(input)))


def isinf(input):
    """A bool tensor, True where `input` is +inf or -inf, as torch.isinf."""
    return _leaf(np.isinf(_data(input)))


def isfinite(input):
    """A bool tensor, True where `input` is neither NaN nor infinite, as torch.isfinite."""
    return _leaf(np.isfinite(_data(input)))


def equal(input, other):
    """True if `input` and `other` have the same shape and elements, as torch.equal."""
    return bool(input.shape == other.shape and np.array_equal(_data(input), _data(other)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if every element of `input` is close to `other`'s, as torch.allclose.

    Close means |input - other| <= `atol` + `rtol` * |other|, broadcasting; NaNs compare equal only
    with `equal_nan`.
    """
    return bool(np.allclose(_data(input), _data(other), rtol, atol, equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """A bool tensor, True where `input` is close to `other`, as torch.isclose.

    Close means |input - other| <= `atol` + `rtol` * |other|, broadcasting; NaNs compare equal only
    with `equal_nan`.
    """
    return _leaf(np.isclose(_data(input), _data(other), rtol, atol, equal_nan))


__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal",
           "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "isnan",
           "isinf", "isfinite", "equal", "allclose", "isclose"]

"""In-place fills: Tensor.random_, bernoulli_, exponential_ (every element replaced, through
`_overwrite`, so recorded writes pass no gradient to the old values) and fill_diagonal_
(a masked_fill written in place: the other elements keep their gradient)."""
import numpy as np

from .dtypes import is_floating
from ._tensor import Tensor, _leaf
from .creation import numpy_rng
from .inplace import _inplace, _overwrite
from .ops import indexing


def _int_bound(v, name):
    if isinstance(v, Tensor):
        v = v.item()
    if not isinstance(v, (int, np.integer)):
        raise TypeError(f"random_(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def random_(self, *args, generator=None, **kwargs):
    """Fill the tensor with integers drawn uniformly from [from, to), as torch.Tensor.random_.

    The bounds come by position or keyword (`args`, `kwargs`: from=0, to=None): random_(to) draws
    from [0, to); random_() from [0, 2**mantissa] for floats and [0, dtype max] for integers. The
    values are in the tensor's dtype, drawn from `generator` (the global one by default).
    """
    if len(args) > 2 or set(kwargs) - {"from", "to"}:
        raise TypeError("random_() takes (from=0, to=None, *, generator=None)")
    bounds = dict(zip(("from", "to") if len(args) == 2 else ("to",), args), **kwargs)
    a = self._data
    if is_floating(a.dtype):
        top = 2 ** (np.finfo(a.dtype).nmant + 1) + 1
    elif a.dtype.kind == "b":
        top = 2
    else:
        top = int(np.iinfo(a.dtype).max) + 1
    lo = _int_bound(bounds.get("from", 0), "from")
    hi = top if bounds.get("to") is None else _int_bound(bounds["to"], "to")
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    values = numpy_rng(generator).integers(lo, hi, a.shape, dtype=np.int64, endpoint=False)
    return _overwrite(self, "random_", values.astype(a.dtype))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill the tensor with 1 with probability `p`, else 0, as torch.Tensor.bernoulli_.

    `p` is a number or a tensor that broadcasts to the tensor. Drawn from `generator` (the global
    one by default).
    """
    probs = p._data if isinstance(p, Tensor) else np.asarray(p, np.float64)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("bernoulli_: expected p to be in [0, 1], got values outside it")
    a = self._data
    draw = numpy_rng(generator).random(a.shape) < np.broadcast_to(probs, a.shape)
    return _overwrite(self, "bernoulli_", draw.astype(a.dtype))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill the tensor with exponential samples of rate `lambd`, as torch.Tensor.exponential_.

    Floating point tensors only; drawn from `generator` (the global one by default).
    """
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    a = self._data
    if not is_floating(a.dtype):
        raise RuntimeError(f"exponential_: expected a floating point tensor, got {self.dtype}")
    draw = numpy_rng(generator).exponential(1.0 / lambd, a.shape)
    return _overwrite(self, "exponential_", draw.astype(a.dtype))


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal with `fill_value`, in place, as torch.Tensor.fill_diagonal_.

    With more than 2 dims all must be equal. A tall matrix with `wrap` starts again N+1 rows down,
    as NumPy's fill_diagonal.
    """
    shape = tuple(self.shape)
    if len(shape) < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got shape "
                           f"{list(shape)}")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, "
                           f"got shape {list(shape)}")
    mask = np.zeros(shape, bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return _inplace(self, indexing.masked_fill, _leaf(mask), fill_value, name="fill_diagonal_")

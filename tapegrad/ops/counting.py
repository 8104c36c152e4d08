"""Sets and counts: unique, unique_consecutive, searchsorted, bincount, histc.

None of them is differentiable (as in PyTorch, whose outputs are counts, positions or values
picked by equality); they run in NumPy and return tensors that do not require grad.
"""
import numpy as np

from ..dtypes import is_floating
from .._convert import _dim
from .._tensor import Tensor, _leaf
from .out import into_plain


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _result(out, inverse, counts, return_inverse, return_counts):
    got = [_leaf(out)]
    if return_inverse:
        got.append(_leaf(inverse.astype(np.int64, copy=False)))
    if return_counts:
        got.append(_leaf(counts.astype(np.int64, copy=False)))
    return got[0] if len(got) == 1 else tuple(got)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of `input`, always sorted, as torch.unique.

    With `dim`, the distinct slices along it. `sorted` is accepted (the result is sorted either
    way); `return_inverse` also returns each entry's index into the result, `return_counts` how
    often each occurs.
    """
    a = input._data
    if dim is None:
        out, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        return _result(out, inv.reshape(a.shape), cnt, return_inverse, return_counts)
    d = _dim(dim, a.ndim, "unique")
    out, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d)
    return _result(out, inv.reshape(-1), cnt, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """`input` without the repeats in each run of equal values, as torch.unique_consecutive.

    With `dim`, runs of equal slices along it. `return_inverse` also returns each entry's index
    into the result, `return_counts` the length of each run.
    """
    a = input._data
    d = None if dim is None else _dim(dim, a.ndim, "unique_consecutive")
    rows = a.reshape(-1) if d is None else np.moveaxis(a, d, 0)
    flat = rows.reshape(len(rows), -1)
    new = np.ones(len(rows), bool)
    new[1:] = (flat[1:] != flat[:-1]).any(axis=1)
    out = rows[new] if d is None else np.moveaxis(rows[new], 0, d)
    inv = np.cumsum(new) - 1
    cnt = np.diff(np.append(np.flatnonzero(new), len(rows)))
    return _result(out, inv.reshape(a.shape) if d is None else inv, cnt, return_inverse,
                   return_counts)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Where the values of `input` would go in `sorted_sequence`, as torch.searchsorted.

    `sorted_sequence` is sorted along its last dimension: 1-d, or with the same leading dimensions
    as `input`. The left insertion point by default; `right` (or `side`='right') gives the right
    one. `sorter` gives the order when the sequence is not sorted itself. int64, or int32 with
    `out_int32`. `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, searchsorted, sorted_sequence, input, out_int32=out_int32,
                          right=right, side=side, sorter=sorter)
    if side not in (None, "left", "right"):
        raise RuntimeError(f"searchsorted(): side can only be 'left' or 'right' but got {side!r}")
    if side == "left" and right:
        raise RuntimeError("searchsorted(): side and right can't be set to opposites, got side "
                           "of left while right was True")
    side = "right" if right or side == "right" else "left"
    seq, v = _array(sorted_sequence), _array(input)
    if sorter is not None:
        seq = np.take_along_axis(seq, _array(sorter), -1)
    dtype = np.int32 if out_int32 else np.int64
    if seq.ndim <= 1:
        return _leaf(np.asarray(np.searchsorted(seq.reshape(-1), v, side), dtype))
    if v.ndim != seq.ndim or v.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(f"searchsorted(): boundaries tensor should be 1 dimension or the "
                           f"first N-1 dimensions of boundaries tensor and input value tensor "
                           f"must match, but we got boundaries tensor {list(seq.shape)} and "
                           f"input value tensor {list(v.shape)}")
    out = np.empty(v.shape, dtype)
    for k in np.ndindex(seq.shape[:-1]):
        out[k] = np.searchsorted(seq[k], v[k], side)
    return _leaf(out)


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs in the 1-d `input`, as torch.bincount.

    With `weights`, the sum of the weights instead (float weights keep their dtype, others give
    float64). The result has at least `minlength` bins.
    """
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iub" or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _leaf(np.bincount(a, minlength=minlength).astype(np.int64))
    w = _array(weights)
    if w.shape != a.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, "
                           f"got {list(w.shape)} and {list(a.shape)}")
    dtype = w.dtype if is_floating(w.dtype) else np.float64
    return _leaf(np.bincount(a, w, minlength).astype(dtype))


def histc(input, bins=100, min=0, max=0, *, out=None):
    """A histogram of `input` with `bins` equal bins over [`min`, `max`], as torch.histc.

    The data's range is used when `min` == `max`; values outside are ignored and the top edge
    counts in the last bin. `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, histc, input, bins, min, max)
    a = input._data
    if not is_floating(a.dtype):
        raise NotImplementedError(f'"histogram_cpu" not implemented for {input.dtype}')
    if bins <= 0:
        raise RuntimeError(f"histc(): bins must be > 0, but got {bins}")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc(): max must be larger than min, got min={min} max={max}")
    x = a[(a >= lo) & (a <= hi)].astype(np.float64)
    pos = ((x - lo) * bins / (hi - lo)).astype(np.int64)     # PyTorch's bin formula
    return _leaf(np.bincount(np.minimum(pos, bins - 1), minlength=bins).astype(a.dtype))


__all__ = ["unique", "unique_consecutive", "searchsorted", "bincount", "histc"]

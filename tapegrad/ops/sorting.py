"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
quantile, nanquantile.

The order is found in NumPy (a stable argsort in which NaN is the largest value, as PyTorch's
sort); the values are then gathered through those indices, so their gradient is scattered back
by indexing's rules and no new rule is needed. Only median() and nanmedian() of a whole tensor
are primitives: their gradient is shared evenly by tied entries, as PyTorch's.
"""
from collections import namedtuple

import numpy as np

from ..dtypes import is_floating
from .._convert import _dim
from .._tensor import Tensor, _leaf
from ..primitives import primitive, defvjp
from .indexing import gather
from .out import into
from .reduction import _check_nonempty, _evenly
from .shape import reshape_prim, movedim, squeeze

# torch.return_types.*
sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])


def _argsort(a, d, descending=False):
    """Stable argsort along d with NaN largest; descending keeps ties in their input order."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    # sort the reversed array ascending, then reverse: ties come out in input order
    s = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return np.flip(a.shape[d] - 1 - s, d)


def _pick(input, idx, d, keepdim):
    """(values at the keepdim-shaped idx along d, indices): the gradient goes to idx."""
    idx = idx.astype(np.int64, copy=False)
    if input.ndim == 0:
        return gather(input, 0, idx.reshape(())), _leaf(np.zeros((), np.int64))
    values = gather(input, d, idx)
    if keepdim:
        return values, _leaf(idx)
    return squeeze(values, d), _leaf(idx.squeeze(d))


# ---- sort --------------------------------------------------------------------------------------
def sort(input, dim=-1, descending=False, *, stable=False, out=None):
    """`input` sorted along `dim`, with the indices that sort it, as torch.sort.

    Ascending unless `descending`; always stable (`stable` is accepted), NaN sorts as the largest.
    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, sort, input, dim, descending, stable=stable)
    a = input._data
    d = _dim(dim, a.ndim, "sort")
    idx = _argsort(a, d, descending) if a.ndim else np.zeros((), np.int64)
    values, indices = _pick(input, idx, d, True)
    return sort_result(values, indices)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The indices that sort `input` along `dim` (stably), as torch.argsort.

    Ascending unless `descending`; `stable` is accepted (the sort is always stable).
    """
    a = input._data
    d = _dim(dim, a.ndim, "argsort")
    return _leaf(_argsort(a, d, descending).astype(np.int64, copy=False) if a.ndim
                 else np.zeros((), np.int64))


def msort(input, *, out=None):
    """`input` sorted along its first dimension, values only, as torch.msort.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, msort, input)
    return sort(input, 0).values


def topk(input, k, dim=None, largest=True, sorted=True, *, out=None):
    """The `k` largest values of `input` along `dim` and their indices, as torch.topk.

    `dim` is the last by default; the smallest with `largest`=False. In sorted order (`sorted` is
    accepted); ties keep input order. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, topk, input, k, dim, largest, sorted)
    a = input._data
    d = _dim(-1 if dim is None else dim, a.ndim, "topk")
    n = a.shape[d] if a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k out of range (k={k}, dimension {d} has "
                           f"size {n})")
    if not a.ndim:
        return topk_result(*_pick(input, np.zeros((), np.int64), 0, True))
    idx = np.take(_argsort(a, d, largest), np.arange(k), axis=d)
    return topk_result(*_pick(input, idx, d, True))


def kthvalue(input, k, dim=None, keepdim=False, *, out=None):
    """The `k`-th smallest value of `input` along `dim` and its index, as torch.kthvalue.

    `dim` is the last by default. With `keepdim` the reduced dim stays, with size 1. Among tied
    values the index may differ from PyTorch's, whose choice is unstable. `out`, if given, receives
    the result.
    """
    if out is not None:
        return into(out, kthvalue, input, k, dim, keepdim)
    a = input._data
    d = _dim(-1 if dim is None else dim, a.ndim, "kthvalue")
    n = a.shape[d] if a.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if not a.ndim:
        return kthvalue_result(*_pick(input, np.zeros((), np.int64), 0, keepdim))
    idx = np.take(_argsort(a, d), [k - 1], axis=d)
    return kthvalue_result(*_pick(input, idx, d, keepdim))


# ---- median and mode ---------------------------------------------------------------------------
@primitive("median", uses_out=True, raw=True)
def _median_all(x):
    """The lower median of all entries, NaN if any is NaN."""
    a = x.reshape(-1)
    if a.size == 0 or np.isnan(a).any():
        return np.asarray(np.nan, x.dtype)
    return np.partition(a, (a.size - 1) // 2)[(a.size - 1) // 2]


@primitive("nanmedian", uses_out=True, raw=True)
def _nanmedian_all(x):
    """The lower median of the entries that are not NaN (NaN if there are none)."""
    a = x.reshape(-1)
    a = a[~np.isnan(a)]
    if a.size == 0:
        return np.asarray(np.nan, x.dtype)
    return np.partition(a, (a.size - 1) // 2)[(a.size - 1) // 2]


# tied entries share the gradient evenly, as PyTorch's median() and nanmedian()
defvjp(_median_all, _evenly)
defvjp(_nanmedian_all, _evenly)


def _median_index(a, d, skip_nan):
    """Keepdim-shaped index of the lower median along d: the first NaN if there is one (unless
    `skip_nan`), else the middle of the stable sort (NaNs last)."""
    s = _argsort(a, d)
    nan = np.isnan(a) if is_floating(a.dtype) else np.zeros(a.shape, bool)
    count = a.shape[d] - nan.sum(axis=d, keepdims=True) if skip_nan else a.shape[d]
    mid = np.maximum((np.asarray(count) - 1) // 2, 0)
    idx = np.take_along_axis(s, np.broadcast_to(mid, s.shape[:d] + (1,) + s.shape[d + 1:]), d)
    if not skip_nan:
        idx = np.where(nan.any(axis=d, keepdims=True), nan.argmax(axis=d, keepdims=True), idx)
    return idx


def _median(input, dim, keepdim, skip_nan, op, result):
    a = input._data
    if dim is None:
        return (_nanmedian_all if skip_nan else _median_all)(input)
    d = _dim(dim, a.ndim, op)
    if not a.ndim:
        return result(*_pick(input, np.zeros((), np.int64), 0, keepdim))
    _check_nonempty(a, (d,), op)
    return result(*_pick(input, _median_index(a, d, skip_nan), d, keepdim))


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median of `input`, or its medians along `dim` and indices, as torch.median.

    Without `dim`: a 0-d tensor, ties share the gradient. With `keepdim` the reduced dim stays,
    with size 1. NaN propagates. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, median, input, dim, keepdim)
    return _median(input, dim, keepdim, False, "median", median_result)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """The median of `input` ignoring NaNs, as torch.nanmedian.

    As `median`, over all entries or along `dim` (with indices); NaN where a slice has nothing
    else. With `keepdim` the reduced dim stays, with size 1. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, nanmedian, input, dim, keepdim)
    return _median(input, dim, keepdim, True, "nanmedian", nanmedian_result)


def _mode_index(a, d):
    """Keepdim-shaped index of the most frequent value along d: the smallest of equally
    frequent values, at its last occurrence (as PyTorch)."""
    rows = np.moveaxis(a, d, -1)
    n = rows.shape[-1]
    s = np.sort(rows, axis=-1)
    pos = np.broadcast_to(np.arange(n), s.shape)
    new = np.ones(s.shape, bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    end = np.ones(s.shape, bool)
    end[..., :-1] = new[..., 1:]
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=-1)
    stop = np.flip(np.minimum.accumulate(np.flip(np.where(end, pos, n), -1), axis=-1), -1)
    best = np.argmax(stop - start, axis=-1)[..., None]      # first: the smallest value
    value = np.take_along_axis(s, best, -1)
    last = n - 1 - np.argmax(np.flip(rows == value, -1), axis=-1)[..., None]
    return np.moveaxis(last, -1, d)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value of `input` along `dim` and an index of it, as torch.mode.

    With `keepdim` the reduced dim stays, with size 1. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, mode, input, dim, keepdim)
    a = input._data
    d = _dim(dim, a.ndim, "mode")
    if not a.ndim:
        return mode_result(*_pick(input, np.zeros((), np.int64), 0, keepdim))
    _check_nonempty(a, (d,), "mode")
    return mode_result(*_pick(input, _mode_index(a, d), d, keepdim))


# ---- quantiles ---------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _q_array(q, a, op):
    if isinstance(q, Tensor):
        if q.dtype != a.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        qa = q._data
    else:
        qa = np.asarray(q, a.dtype)
    if qa.size and (qa.min() < 0 or qa.max() > 1):
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {qa}")
    return qa


def _quantile(input, q, dim, keepdim, interpolation, skip_nan, op):
    a = input._data
    if not is_floating(a.dtype):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of {', '.join(_INTERPOLATIONS)}. "
                           f"Got {interpolation!r}")
    qa = _q_array(q, a, op)
    if a.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if dim is None:
        x, shape = reshape_prim(input, (a.size,)), (1,) * a.ndim
    else:
        d = _dim(dim, a.ndim, op)
        x = movedim(input, d, -1) if a.ndim else reshape_prim(input, (1,))
        shape = a.shape[:d] + (1,) + a.shape[d + 1:] if a.ndim else ()
    xs = sort(x, -1).values                  # (B..., n), NaN last; differentiable
    s = xs._data
    n = s.shape[-1]
    nan = np.isnan(s)
    if skip_nan:        # rank 0 where all are NaN: the result is that NaN, as PyTorch's
        ranks = qa.reshape(-1) * np.maximum(n - 1 - nan.sum(axis=-1, keepdims=True), 0)
    else:               # the last rank where there is a NaN: the result is a NaN
        ranks = np.where(nan.any(axis=-1, keepdims=True), n - 1, qa.reshape(-1) * (n - 1))
    ranks = ranks.astype(a.dtype, copy=False)           # (B..., m)
    if interpolation in ("lower", "higher", "nearest"):
        pick = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}[interpolation]
        return _q_layout(gather(xs, -1, pick(ranks).astype(np.int64)), qa, keepdim, shape)
    lo, hi = np.floor(ranks), np.ceil(ranks)
    w = ranks - lo if interpolation == "linear" else np.full(ranks.shape, 0.5, a.dtype)
    below = gather(xs, -1, lo.astype(np.int64))
    above = gather(xs, -1, hi.astype(np.int64))
    return _q_layout(below + _leaf(w) * (above - below), qa, keepdim, shape)


def _q_layout(out, qa, keepdim, shape):
    """(B..., m) quantiles in PyTorch's layout: q's dimension first (none for a number)."""
    out = movedim(out, -1, 0)                                   # (m, B...)
    if keepdim:
        out = reshape_prim(out, (out.shape[0],) + shape)
    return squeeze(out, 0) if qa.ndim == 0 else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The `q`-th quantiles of `input` over `dim` (all entries by default), as torch.quantile.

    `q` is a number or a 1-d tensor, which then leads the result's shape. `interpolation` is
    'linear', 'lower', 'higher', 'midpoint' or 'nearest'. With `keepdim` the reduced dim stays,
    with size 1. NaN if a slice holds a NaN. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, quantile, input, q, dim, keepdim, interpolation=interpolation)
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The `q`-th quantiles of `input` ignoring NaNs, as torch.nanquantile.

    As `quantile` (`dim`, `keepdim`, `interpolation`); NaN where a slice has nothing else. `out`,
    if given, receives the result.
    """
    if out is not None:
        return into(out, nanquantile, input, q, dim, keepdim, interpolation=interpolation)
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
           "quantile", "nanquantile"]

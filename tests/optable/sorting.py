"""Op-table rows for tapegrad/ops/sorting.py and scans.py: sorts, order statistics, quantiles,
running extremes, logcumsumexp and the NaN-skipping reductions.

Inputs are `distinct` (no ties) wherever an index is chosen among equal values, since which
of several tied entries PyTorch picks is not always specified.
"""
import numpy as np
from scipy import special

from .case import OpCase, distinct
from .reduction import fixed

LAST = [((3, 4),), ((2, 3, 4),), ((5,),)]
DIM1 = [((3, 4),), ((2, 3, 4),)]
ALL = [((3, 4),), ((5,),), ((2, 3, 2),)]
SCALAR = [((),)]


def with_nans(rng, shape):
    """Distinct values with NaN at a few fixed places (rows with none, one and two NaNs)."""
    x = distinct(rng, shape)
    flat = x.reshape(-1)
    flat[[1, 9, 10][:max(flat.size - 2, 0)]] = np.nan
    return x


def rows_sorted(x, axis=-1, descending=False):
    i = np.argsort(-x if descending else x, axis=axis, kind="stable")
    return np.take_along_axis(x, i, axis), i


def lower_median(x, axis):
    i = np.argsort(x, axis=axis, kind="stable")
    k = np.take(i, [(x.shape[axis] - 1) // 2], axis=axis)
    return np.take_along_axis(x, k, axis).squeeze(axis), k.squeeze(axis)


def np_quantile(method):
    return lambda x, q, axis=None, keepdims=False: np.quantile(x, q, axis=axis, keepdims=keepdims,
                                                             method=method)


def running(x, axis, ufunc):
    v = ufunc.accumulate(x, axis=axis)
    pos = np.arange(x.shape[axis]).reshape([-1 if k == axis % x.ndim else 1
                                            for k in range(x.ndim)])
    return v, np.maximum.accumulate(np.where(x == v, pos, 0), axis=axis)


def lcse(x, axis):
    """log(cumsum(exp(x))), each prefix through SciPy's stable logsumexp."""
    x = np.moveaxis(x, axis, -1)
    out = np.stack([special.logsumexp(x[..., :i + 1], axis=-1) for i in range(x.shape[-1])], -1)
    return np.moveaxis(out, -1, axis)


ROWS = [
    # ---- sort, argsort, msort, topk, kthvalue
    OpCase("sort", lambda T, x: T.sort(x), rows_sorted, LAST, distinct),
    OpCase("sort_dim0_descending", lambda T, x: T.sort(x, 0, descending=True),
           lambda x: rows_sorted(x, 0, True), DIM1, distinct),
    OpCase("sort_scalar", lambda T, x: x.sort(), lambda x: (x, np.int64(0)), SCALAR),
    OpCase("argsort", lambda T, x: T.argsort(x, dim=1, descending=True),
           lambda x: np.argsort(-x, 1, kind="stable"), DIM1, distinct, grad=False),
    OpCase("msort", lambda T, x: T.msort(x), lambda x: np.sort(x, 0), DIM1, distinct),
    OpCase("topk", lambda T, x: T.topk(x, 2),
           lambda x: tuple(a[..., :2] for a in rows_sorted(x, -1, True)), LAST, distinct),
    OpCase("topk_smallest_dim0", lambda T, x: x.topk(2, dim=0, largest=False),
           lambda x: tuple(a[:2] for a in rows_sorted(x, 0)), DIM1, distinct),
    OpCase("kthvalue", lambda T, x: T.kthvalue(x, 2),
           lambda x: tuple(a[..., 1] for a in rows_sorted(x)), LAST, distinct),
    OpCase("kthvalue_keepdim", lambda T, x: x.kthvalue(3, 1, keepdim=True),
           lambda x: tuple(a[:, 2:3] for a in rows_sorted(x, 1)), DIM1, distinct),
    # ---- median, nanmedian, mode
    OpCase("median_all", lambda T, x: T.median(x),
           lambda x: np.sort(x, None)[(x.size - 1) // 2], ALL, distinct),
    # ties share median()'s gradient evenly: compared with PyTorch through the gradient itself
    OpCase("median_all_ties_grad", lambda T, x: T.autograd.grad(T.median(x), x)[0], None,
           [((2, 3),)], fixed([[1.0, 2, 2], [2, 3, 0.5]]), grad=False),
    OpCase("median_dim", lambda T, x: T.median(x, 1), lambda x: lower_median(x, 1), DIM1,
           distinct),
    OpCase("median_nan", lambda T, x: T.median(x, -1), None, [((3, 4),)], with_nans,
           grad=False),
    OpCase("nanmedian_all", lambda T, x: T.nanmedian(x), lambda x: np.sort(
        x[~np.isnan(x)])[(np.sum(~np.isnan(x)) - 1) // 2], [((3, 4),)], with_nans),
    OpCase("nanmedian_dim", lambda T, x: x.nanmedian(1, keepdim=True), None, [((3, 4),)],
           with_nans),
    OpCase("mode_distinct", lambda T, x: T.mode(x, 1), lambda x: (x.min(1), x.argmin(1)), DIM1,
           distinct),
    OpCase("mode_repeats", lambda T, x: T.mode(x), None, [((2, 5),)],
           fixed([[1.0, 3, 3, 1, 2], [4, 0, 4, 0, 0]]), grad=False),
    # ---- quantiles (NaN-free inputs for the forward and gradient checks)
    OpCase("quantile_all", lambda T, x: T.quantile(x, 0.3), lambda x: np.quantile(x, 0.3),
           ALL, distinct),
    OpCase("quantile_q_dim", lambda T, x: T.quantile(x, T.tensor([0.1, 0.5, 1.0],
                                                                 dtype=T.float64), dim=1),
           lambda x: np.quantile(x, [0.1, 0.5, 1.0], axis=1), DIM1, distinct),
    OpCase("quantile_keepdim", lambda T, x: T.quantile(x, 0.75, dim=0, keepdim=True),
           lambda x: np.quantile(x, 0.75, axis=0, keepdims=True), DIM1, distinct),
    OpCase("quantile_lower", lambda T, x: T.quantile(x, 0.4, -1, interpolation="lower"),
           lambda x: np.quantile(x, 0.4, -1, method="lower"), LAST, distinct),
    OpCase("quantile_higher", lambda T, x: T.quantile(x, 0.4, -1, interpolation="higher"),
           lambda x: np.quantile(x, 0.4, -1, method="higher"), LAST, distinct),
    OpCase("quantile_midpoint", lambda T, x: T.quantile(x, 0.4, -1, interpolation="midpoint"),
           lambda x: np.quantile(x, 0.4, -1, method="midpoint"), LAST, distinct),
    OpCase("quantile_nearest", lambda T, x: T.quantile(x, 0.5, -1, interpolation="nearest"),
           None, LAST, distinct),
    OpCase("quantile_nan", lambda T, x: T.quantile(x, 0.35, 1), None, [((3, 4),)], with_nans,
           grad=False),
    OpCase("nanquantile", lambda T, x: T.nanquantile(x, 0.35, 1),
           lambda x: np.nanquantile(x, 0.35, 1), [((3, 4),)], with_nans),
    # ---- running extremes, logcumsumexp, NaN-skipping sums
    OpCase("cummax", lambda T, x: T.cummax(x, 1), lambda x: running(x, 1, np.maximum), DIM1),
    OpCase("cummin", lambda T, x: x.cummin(-1), lambda x: running(x, -1, np.minimum), LAST),
    OpCase("cummax_scalar", lambda T, x: T.cummax(x, 0), lambda x: (x, np.int64(0)), SCALAR),
    OpCase("cummax_nan", lambda T, x: T.cummax(x, 1), None, [((3, 4),)], with_nans,
           grad=False),
    OpCase("logcumsumexp", lambda T, x: T.logcumsumexp(x, 1), lambda x: lcse(x, 1), DIM1),
    OpCase("logcumsumexp_wide", lambda T, x: T.logcumsumexp(x * 300, -1),
           lambda x: lcse(x * 300, -1), LAST, eps=1e-8, atol=1e-6),
    OpCase("logcumsumexp_scalar", lambda T, x: x.logcumsumexp(0), lambda x: x, SCALAR),
    OpCase("nansum", lambda T, x: T.nansum(x, 1), lambda x: np.nansum(x, 1), [((3, 4),)],
           with_nans),
    OpCase("nansum_all", lambda T, x: x.nansum(), np.sum, ALL),
    OpCase("nanmean", lambda T, x: T.nanmean(x, dim=0, keepdim=True),
           lambda x: np.nanmean(x, 0, keepdims=True), [((3, 4),)], with_nans),
]

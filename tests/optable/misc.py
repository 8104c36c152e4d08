"""Op-table rows for tapegrad/ops/numeric.py, arrange.py, blas.py, tapegrad/linalg/legacy.py,
lu.py and products.py (exp2, nan_to_num and the LU factorization are primitives; the rest are
compositions, checked here to be differentiated right, to second order)."""
import itertools

import numpy as np
import scipy.linalg as sla

from .case import OpCase, away_from_zero
from .elementwise import BINARY, UNARY

MATS = [((3, 3),), ((2, 4, 4),)]


def lu_packed(a):
    out = np.empty_like(a)
    for idx in np.ndindex(a.shape[:-2]):
        out[idx] = sla.lu_factor(a[idx])[0]
    return out


def well_conditioned(rng, shape):
    """Diagonally dominant matrices: no ties among pivots, far from singular."""
    return rng.standard_normal(shape) + 4 * np.eye(shape[-1])


def positive_definite(rng, shape):
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def spd(T, x):
    """A symmetric positive-definite function of any square x (so that finite differences
    stay on symmetric matrices)."""
    return x @ T.swapaxes(x, -1, -2) + 4 * T.eye(x.shape[-1], dtype=T.float64)


def combos(x, r=2):
    return np.array(list(itertools.combinations(x, r)))


ROWS = [
    # ---- ops/numeric.py
    OpCase("exp2", lambda T, x: T.exp2(x), np.exp2, UNARY),
    OpCase("nan_to_num", lambda T, x: T.nan_to_num(x, nan=1.0), np.nan_to_num, UNARY),
    OpCase("sgn", lambda T, x: T.sgn(x) * x, lambda x: np.sign(x) * x, UNARY, away_from_zero),
    OpCase("subtract", lambda T, x, y: T.subtract(x, y, alpha=2), lambda x, y: x - 2 * y, BINARY),
    OpCase("multiply", lambda T, x, y: x.multiply(y), np.multiply, BINARY),
    # ---- ops/arrange.py
    OpCase("fliplr", lambda T, x: T.fliplr(x), np.fliplr, [((3, 4),), ((2, 3, 4),)]),
    OpCase("flipud", lambda T, x: x.flipud(), np.flipud, [((3,),), ((3, 4),)]),
    OpCase("dstack", lambda T, x, y: T.dstack([x, y]), lambda x, y: np.dstack([x, y]),
           [((3,), (3,)), ((3, 4), (3, 4)), ((2, 3, 1), (2, 3, 2))]),
    OpCase("column_stack", lambda T, x, y: T.column_stack([x, y]),
           lambda x, y: np.column_stack([x, y]), [((3,), (3,)), ((3, 2), (3,))]),
    OpCase("tensor_split", lambda T, x: T.tensor_split(x, 3, dim=1),
           lambda x: tuple(np.array_split(x, 3, axis=1)), [((2, 7),), ((3, 5),)]),
    OpCase("tensor_split_indices", lambda T, x: x.tensor_split([1, -1]),
           lambda x: tuple(np.split(x, [1, len(x) - 1])), [((5, 2),)]),
    OpCase("take", lambda T, x: T.take(x, T.tensor([[0, -1], [5, 2]])),
           lambda x: np.take(x, [[0, -1], [5, 2]]), [((2, 3),), ((6,),)]),
    OpCase("diagflat", lambda T, x: T.diagflat(x, -1), lambda x: np.diagflat(x, -1),
           [((3,),), ((2, 2),)]),
    OpCase("combinations", lambda T, x: T.combinations(x), combos, [((4,),)]),
    OpCase("repeat_interleave", lambda T, x: x.repeat_interleave(T.tensor([1, 0, 2]), dim=1),
           lambda x: np.repeat(x, [1, 0, 2], axis=1), [((2, 3),)]),
    OpCase("repeat_interleave_flat", lambda T, x: T.repeat_interleave(x, 2),
           lambda x: np.repeat(x.reshape(-1), 2), [((2, 3),), ((),)]),
    OpCase("broadcast_tensors", lambda T, x, y: T.broadcast_tensors(x, y),
           lambda x, y: tuple(np.broadcast_arrays(x, y)), BINARY),
    # ---- ops/blas.py
    OpCase("addmm", lambda T, i, a, b: T.addmm(i, a, b, beta=0.5, alpha=2),
           lambda i, a, b: 0.5 * i + 2 * a @ b, [((3, 2), (3, 4), (4, 2)), ((2,), (3, 4), (4, 2))]),
    OpCase("addmm_beta0", lambda T, i, a, b: i.addmm(a, b, beta=0), lambda i, a, b: a @ b,
           [((1, 2), (3, 4), (4, 2))]),
    OpCase("addmv", lambda T, i, a, v: T.addmv(i, a, v, alpha=-1),
           lambda i, a, v: i - a @ v, [((3,), (3, 4), (4,)), ((), (3, 4), (4,))]),
    OpCase("addbmm", lambda T, i, a, b: T.addbmm(i, a, b, beta=2),
           lambda i, a, b: 2 * i + (a @ b).sum(0), [((3, 2), (5, 3, 4), (5, 4, 2))]),
    OpCase("baddbmm", lambda T, i, a, b: T.baddbmm(i, a, b),
           lambda i, a, b: i + a @ b, [((5, 3, 2), (5, 3, 4), (5, 4, 2)), ((2,), (5, 3, 4), (5, 4, 2))]),
    # ---- linalg/legacy.py, lu.py, products.py
    OpCase("lu", lambda T, x: T.lu(x)[0], lu_packed, MATS, well_conditioned),
    OpCase("logdet", lambda T, x: T.logdet(x), lambda x: np.linalg.slogdet(x)[1], MATS,
           positive_definite),
    OpCase("svd_legacy", lambda T, x: T.svd(x)[1], lambda x: np.linalg.svd(x)[1],
           [((4, 3),), ((2, 3, 4),)]),
    OpCase("qr_legacy", lambda T, x: (lambda q, r: q @ r)(*T.qr(x)), lambda x: x, [((4, 3),)]),
    OpCase("cholesky_legacy", lambda T, x: T.cholesky(spd(T, x), True),
           lambda x: np.swapaxes(np.linalg.cholesky(spd(np, x)), -1, -2), MATS),
    OpCase("chain_matmul", lambda T, a, b, c: T.chain_matmul(a, b, c),
           lambda a, b, c: a @ b @ c, [((2, 3), (3, 4), (4, 2))]),
    OpCase("multi_dot", lambda T, a, b, c, d: T.linalg.multi_dot([a, b, c, d]),
           lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]),
           [((3,), (3, 5), (5, 2), (2,)), ((2, 3), (3, 6), (6, 1), (1, 4))]),
]

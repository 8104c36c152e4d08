"""torch.lu: the packed LU factorization (A_LU, pivots), LAPACK's getrf batched. The VJP (square
matrices) is written in triangular solves, so it differentiates again."""
import warnings

import numpy as np
import scipy.linalg as sla

from .._tensor import _leaf
from ..primitives import primitive, defvjp
from ..ops.linalg import matmul
from .base import data, check_matrix, const, mT
from .solve import _trisolve


def _factor(a):
    """getrf over a batch: (packed LU, 0-based pivots)."""
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    lu = np.empty(a.shape, a.dtype)
    piv = np.empty(batch + (min(m, n),), np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # singular: LAPACK's info says so, as in PyTorch
        for idx in np.ndindex(batch):
            lu[idx], piv[idx] = sla.lu_factor(a[idx], check_finite=False)
    return lu, piv


def _permutation(piv, m, dtype):
    """P with A = P L U, from LAPACK's sequence of row swaps (batched)."""
    perm = np.broadcast_to(np.arange(m), piv.shape[:-1] + (m,)).copy()
    for idx in np.ndindex(piv.shape[:-1]):
        p = perm[idx]
        for i, j in enumerate(piv[idx]):
            p[i], p[j] = p[j], p[i]
    eye = np.eye(m, dtype=dtype)
    return np.swapaxes(eye[perm], -1, -2)


@primitive("linalg_lu_factor_ex", uses_out=True, raw=True)
def _lu_packed(A):
    return _factor(A)[0]


def _lu_grad(g, out, A):
    """gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T, with gL, gU the parts of g."""
    a = data(A)
    m, n = a.shape[-2:]
    if m != n:
        raise RuntimeError(f"lu backward: only square matrices are supported, got {m}x{n}")
    low = np.tril(np.ones((m, m), a.dtype), -1)
    up = np.triu(np.ones((m, m), a.dtype))
    L = out * const(g, low) + const(g, np.eye(m, dtype=a.dtype))
    U = out * const(g, up)
    phi = matmul(mT(L), g * const(g, low)) * const(g, low) + \
        matmul(g * const(g, up), mT(U)) * const(g, up)
    X = _trisolve(mT(L), phi, upper=True, unitriangular=True)
    Y = mT(_trisolve(U, mT(X), upper=True))
    return matmul(const(g, _permutation(_factor(a)[1], m, a.dtype)), Y)


defvjp(_lu_packed, _lu_grad)


def lu(A, pivot=True, get_infos=False, out=None):
    """The packed LU factorization of `A` and its pivots, as torch.lu.

    Returns (A_LU, pivots) with 1-based int32 pivots, and LAPACK's infos too with `get_infos`.
    `pivot`=False is refused, as on PyTorch's CPU, and so is `out` (not supported here).
    """
    a = check_matrix(A, "lu", square=False)
    if not pivot:
        raise RuntimeError("lu: LU without pivoting is not implemented on the CPU")
    if out is not None:
        raise RuntimeError("lu: out= is not supported by tapegrad")
    packed = _lu_packed(A)
    piv = _factor(a)[1] + 1
    result = (packed, _leaf(piv))
    if not get_infos:
        return result
    diag = np.diagonal(packed._data, axis1=-2, axis2=-1) == 0
    info = np.where(diag.any(-1), np.argmax(diag, -1) + 1, 0).astype(np.int32)
    return result + (_leaf(info),)

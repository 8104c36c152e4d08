"""Cholesky and QR factorizations (torch.linalg.cholesky, cholesky_ex, qr). Forward and VJP side
by side; the rules use triangular solves (solve.py), so they are differentiable again."""
from collections import namedtuple

import numpy as np
from scipy.linalg import lapack

from .._tensor import _leaf
from ..primitives import primitive, defvjp
from ..ops.linalg import matmul
from ..ops.out import into
from ..ops.indexing import slice_prim
from ..ops.join import cat_prim
from .base import LinAlgError, data, check_matrix, not_pd, const, mT
from .solve import _trisolve

cholesky_ex_result = namedtuple("linalg_cholesky_ex", ["L", "info"])
qr_result = namedtuple("linalg_qr", ["Q", "R"])


# ---- Cholesky ----------------------------------------------------------------------------------
@primitive("linalg_cholesky", uses_out=True, raw=True)
def _cholesky(A, check=True):
    """Lower factor L = L L^T of A, read from A's lower triangle. With check=False a matrix that
    is not positive-definite is left partially factored, as LAPACK stops (cholesky_ex)."""
    try:
        return np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        if check:
            raise not_pd(A, "linalg.cholesky") from None
    potrf = lapack.get_lapack_funcs("potrf", (A,))
    out = np.empty_like(A)
    for idx in np.ndindex(A.shape[:-2]):
        out[idx] = potrf(A[idx], lower=1, clean=1)[0]
    return out


def _cholesky_grad(g, out, A, check=True):
    """sym(L^-T phi(L^T g) L^-1), phi = lower triangle with the diagonal halved (the
    gradient is symmetric, as PyTorch's: only symmetric perturbations keep A valid)."""
    n = data(A).shape[-1]
    phi = const(g, (np.tril(np.ones((n, n))) - 0.5 * np.eye(n)).astype(data(A).dtype))
    Lt = mT(out)
    left = _trisolve(Lt, matmul(Lt, g) * phi, upper=True)      # L^-T phi
    St = _trisolve(Lt, mT(left), upper=True)                     # (L^-T phi L^-1)^T
    return (St + mT(St)) * 0.5


defvjp(_cholesky, _cholesky_grad)


def cholesky(A, *, upper=False, out=None):
    """The Cholesky factor L of `A`, with A = L L^T, as torch.linalg.cholesky.

    With `upper`, U with A = U^T U, read from A's upper triangle. A matrix that is not
    positive-definite raises LinAlgError. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, cholesky, A, upper=upper)
    check_matrix(A, "linalg.cholesky")
    return mT(_cholesky(mT(A))) if upper else _cholesky(A)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """The Cholesky factor of `A` and an info code, as torch.linalg.cholesky_ex.

    Returns (L, info): info > 0 is the order of the first leading minor that is not
    positive-definite (L is then partial). `upper` is as in `cholesky`; with `check_errors` it
    raises instead.
    """
    check_matrix(A, "linalg.cholesky_ex")
    L = mT(_cholesky(mT(A), check=check_errors)) if upper else \
        _cholesky(A, check=check_errors)
    # LAPACK stops at the first pivot that is not positive and leaves it unrooted there
    ok = np.diagonal(data(L), axis1=-2, axis2=-1) > 0
    info = np.where(ok.all(axis=-1), 0, np.argmin(ok, axis=-1) + 1).astype(np.int32)
    return cholesky_ex_result(L, _leaf(info))


# ---- QR ----------------------------------------------------------------------------------------
@primitive("linalg_qr", n_out=2, uses_out=True, raw=True)
def _qr(A, mode="reduced"):
    return tuple(np.linalg.qr(A, mode=mode))


def _qr_grad(g, out, A, mode="reduced"):
    """For m >= n: (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q. A wide A = [X | Y]
    with R = [U | V] is X = Q U (the same rule, gQ gaining Y gV^T) and Y = Q V."""
    gQ, gR = g
    Q, R = out
    m, n = data(A).shape[-2:]
    if mode == "complete" and m > n:
        raise RuntimeError("linalg.qr backward: The QR decomposition is not differentiable when "
                           f"mode='complete' and nrows > ncols (A is {m}x{n}); use "
                           "mode='reduced'")
    if np.any(np.diagonal(data(R), axis1=-2, axis2=-1)[..., :min(m, n)] == 0):
        raise LinAlgError("linalg.qr backward: R has a zero on its diagonal (A does not have "
                          f"full rank, shape {list(data(A).shape)}): the derivative of Q is "
                          "undefined")
    if m >= n:
        return _qr_tall(Q, R, gQ, gR)
    nd = R.ndim
    left, right = (Ellipsis, slice(None), slice(0, m)), (Ellipsis, slice(None), slice(m, n))
    gV = slice_prim(gR, right)
    gX = _qr_tall(Q, slice_prim(R, left), gQ + matmul(slice_prim(A, right), mT(gV)),
                  slice_prim(gR, left))
    return cat_prim(gX, matmul(Q, gV), dim=nd - 1, offsets=(0, m, n), dtype=gX.dtype)


def _qr_tall(Q, R, gQ, gR):
    M = matmul(R, mT(gR)) - matmul(mT(gQ), Q)
    k = M.shape[-1]
    low = M * const(gQ, np.tril(np.ones((k, k), M.dtype), -1))
    sym = low + mT(low) + M * const(gQ, np.eye(k, dtype=M.dtype))     # copyltu(M)
    B = gQ + matmul(Q, sym)
    return mT(_trisolve(R, mT(B), upper=True))                           # B R^-T


defvjp(_qr, _qr_grad)


def qr(A, mode="reduced", *, out=None):
    """(Q, R) with `A` = Q R, as torch.linalg.qr.

    `mode` is 'reduced', 'complete' or 'r' (Q empty). `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, qr, A, mode)
    a = check_matrix(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: qr received unrecognized mode '{mode}' but expected one "
                           "of 'reduced' (default), 'r', or 'complete'")
    if mode == "r":
        return qr_result(_leaf(np.empty((0,), a.dtype)), _qr(A)[1])
    return qr_result(*_qr(A, mode=mode))

"""Symmetric eigendecomposition and SVD (torch.linalg.eigh, eigvalsh, svd, svdvals). Forward and
VJP side by side.

The eigenvector/singular-vector parts of the VJPs divide by differences of eigenvalues (squared
singular values). Where two are equal that quotient is 0/0 and the gradient is not determined
by the cotangents: if the loss reaches those vectors, backward raises LinAlgError instead of
returning NaN. Losses of the values alone (eigvalsh, svdvals, norms) never divide.
"""
from collections import namedtuple

import numpy as np

from .._tensor import _leaf
from ..primitives import primitive, defvjp
from ..ops.linalg import matmul
from ..ops.out import into
from ..ops.elementwise import where
from ..ops.indexing import slice_prim
from .base import LinAlgError, data, check_matrix, needs_grad, mT, diag_embed, col, row, nonzero

eigh_result = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
svd_result = namedtuple("linalg_svd", ["U", "S", "Vh"])


def _inverse_gaps(vals, inners, op, what):
    """F[i, j] = 1 / (vals[j] - vals[i]) off the diagonal, 0 on it, differentiable in `vals`.

    Pairs of (numerically) equal values get 0 when the loss does not reach them (every matrix
    in `inners`, e.g. V^T gV, is zero there); otherwise the gradient is undefined and we raise.
    """
    v = data(vals)
    n = v.shape[-1]
    gap = v[..., None, :] - v[..., :, None]
    scale = np.abs(v).max(axis=-1, initial=0.0)[..., None, None]
    tie = np.abs(gap) <= 64 * n * np.finfo(v.dtype).eps * np.maximum(scale, 1e-30)
    tie &= ~np.eye(n, dtype=bool)
    if tie.any():
        for m in inners:
            a = np.abs(data(m))
            if np.any(a[np.broadcast_to(tie, a.shape)] >
                      np.sqrt(np.finfo(v.dtype).eps) * a.max(initial=0.0)):
                raise LinAlgError(
                    f"{op} backward: the input has repeated {what}, and the loss depends on the "
                    f"matching vectors, which are not unique there: the gradient is undefined. "
                    f"Differentiate a function of the {what} only, or perturb the input.")
    skip = tie | np.eye(n, dtype=bool)
    D = col(vals) - row(vals)                                # D[i, j] = vals[j] - vals[i]
    return where(skip, 0.0, 1 / where(skip, 1.0, D))


# ---- eigh ------------------------------------------------------------------------------------
@primitive("linalg_eigh", n_out=2, uses_out=True, raw=True)
def _eigh(A, UPLO="L"):
    w, v = np.linalg.eigh(A, UPLO=UPLO)
    return w, v


def _eigh_grad(g, out, A, UPLO="L"):
    """V (diag(gL) + F o skew(V^T gV)) V^T: symmetric, as PyTorch's."""
    gL, gV = g
    L, V = out
    inner = diag_embed(gL)
    if nonzero(gV):
        M = matmul(mT(V), gV)
        F = _inverse_gaps(L, [M], "linalg.eigh", "eigenvalues")
        inner = inner + F * (M - mT(M)) * 0.5
    return matmul(V, matmul(inner, mT(V)))


defvjp(_eigh, _eigh_grad)


def eigh(A, UPLO="L", *, out=None):
    """(eigenvalues ascending, eigenvectors) of the symmetric `A`, as torch.linalg.eigh.

    A is read from its lower (`UPLO`='L') or upper ('U') triangle. `out`, if given, receives the
    result.
    """
    if out is not None:
        return into(out, eigh, A, UPLO)
    check_matrix(A, "linalg.eigh")
    _uplo(UPLO, "linalg.eigh")
    return eigh_result(*_eigh(A, UPLO=UPLO))


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of the symmetric `A`, ascending, as torch.linalg.eigvalsh.

    A is read from its lower (`UPLO`='L') or upper ('U') triangle. Always differentiable:
    degenerate eigenvalues are fine. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, eigvalsh, A, UPLO)
    a = check_matrix(A, "linalg.eigvalsh")
    _uplo(UPLO, "linalg.eigvalsh")
    if needs_grad(A):
        return _eigh(A, UPLO=UPLO)[0]
    return _leaf(np.linalg.eigvalsh(a, UPLO=UPLO))


def _uplo(UPLO, op):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO!r}")


# ---- svd -------------------------------------------------------------------------------------
@primitive("linalg_svd", n_out=3, uses_out=True, raw=True)
def _svd(A, full_matrices=True):
    u, s, vh = np.linalg.svd(A, full_matrices=full_matrices)
    return u, s, vh


def _svd_grad(g, out, A, full_matrices=True):
    """U [F o skew(U^T gU) S + S F o skew(V^T gV) + diag(gS)] V^T, F = 1/(s_j^2 - s_i^2), plus
    the parts of gU, gV outside the column spaces of U, V (divided by S) for non-square A.
    With full_matrices the extra columns of U or V carry no gradient, as in PyTorch."""
    gU, gS, gVh = g
    U, S, Vh = out
    m, n = data(A).shape[-2:]
    k = min(m, n)
    if full_matrices and m != n:
        cols, rows = (Ellipsis, slice(None), slice(0, k)), (Ellipsis, slice(0, k), slice(None))
        U, gU, Vh, gVh = slice_prim(U, cols), slice_prim(gU, cols), \
            slice_prim(Vh, rows), slice_prim(gVh, rows)
    core = diag_embed(gS)
    want_u, want_v = nonzero(gU), nonzero(gVh)
    if not (want_u or want_v):
        return matmul(U, matmul(core, Vh))
    UgU = matmul(mT(U), gU) if want_u else None
    VgV = matmul(Vh, mT(gVh)) if want_v else None
    F = _inverse_gaps(S * S, [x for x in (UgU, VgV) if x is not None], "linalg.svd",
                      "singular values")
    if want_u:
        core = core + F * (UgU - mT(UgU)) * col(S)
    if want_v:
        core = core + row(S) * (F * (VgV - mT(VgV)))
    gA = matmul(U, matmul(core, Vh))
    if m > k and want_u:
        gA = gA + matmul((gU - matmul(U, UgU)) / col(_invertible(S, "U")), Vh)
    if n > k and want_v:
        gA = gA + matmul(U, (gVh - matmul(mT(VgV), Vh)) / row(_invertible(S, "Vh")))
    return gA


def _invertible(S, name):
    """S, checked: the parts of gU, gV outside the spans of U, V are divided by it."""
    if np.any(data(S) == 0):
        raise LinAlgError(f"linalg.svd backward: A is rank deficient (a singular value is 0) and "
                          f"the loss depends on {name}: the gradient is undefined there")
    return S


defvjp(_svd, _svd_grad)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """(U, S, Vh) with `A` = U diag(S) Vh, S descending, as torch.linalg.svd.

    With `full_matrices` U and Vh are square, else reduced. `driver` is accepted for PyTorch's
    signature (it only matters on CUDA). `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, svd, A, full_matrices, driver=driver)
    check_matrix(A, "linalg.svd", square=False)
    return svd_result(*_svd(A, full_matrices=full_matrices))


def svdvals(A, *, driver=None, out=None):
    """The singular values of `A`, descending, as torch.linalg.svdvals.

    Always differentiable. `driver` is accepted for PyTorch's signature. `out`, if given, receives
    the result.
    """
    if out is not None:
        return into(out, svdvals, A, driver=driver)
    a = check_matrix(A, "linalg.svdvals", square=False)
    if needs_grad(A):
        return _svd(A, full_matrices=False)[1]
    return _leaf(np.linalg.svd(a, compute_uv=False))

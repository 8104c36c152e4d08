"""Linear systems, inverses and determinants (torch.linalg.solve, inv, inv_ex, det, slogdet,
solve_triangular). Forward and VJP side by side.

Four primitives: `linalg_solve`, `linalg_solve_triangular` (left-hand side only; the right-hand
form is its transpose), `linalg_inv` and `linalg_slogdet`. Their rules are written with these
same primitives, so every gradient is differentiable again.
"""
from collections import namedtuple

import numpy as np
from scipy import linalg as sla

from .._tensor import _leaf
from ..primitives import primitive, defvjp
from ..ops.linalg import matmul
from ..ops.out import into
from ..ops.unary import exp
from ..ops.shape import reshape_prim
from .base import (LinAlgError, data, check_matrix, check_same_dtype, lapack_info, singular,
                   const, mT)

inv_ex_result = namedtuple("linalg_inv_ex", ["inverse", "info"])
slogdet_result = namedtuple("linalg_slogdet", ["sign", "logabsdet"])


# ---- solve -----------------------------------------------------------------------------------
def _lu_solve(A, B):
    """np.linalg.solve with B always read as (a batch of) matrices, as NumPy 2 does."""
    if B.ndim < A.ndim:     # NumPy < 2 reads a B with one dimension less as stacked vectors
        B = B.reshape((1,) * (A.ndim - B.ndim) + B.shape)
    return np.linalg.solve(A, B)


@primitive("linalg_solve", uses_out=True, raw=True)
def _solve(A, B):
    """X with A X = B for (batches of) matrices B; batch dimensions broadcast."""
    try:
        return _lu_solve(A, B)
    except np.linalg.LinAlgError:
        raise singular(A, "linalg.solve") from None


# X = A^-1 B: dB = A^-T g, dA = -A^-T g X^T
defvjp(_solve,
       lambda g, out, A, B: -matmul(_solve(mT(A), g), mT(out)),
       lambda g, out, A, B: _solve(mT(A), g))


def solve(A, B, *, left=True, out=None):
    """X with `A` X = `B`, as torch.linalg.solve.

    X A = B with `left`=False. B may be a (batch of) vector(s) of shape A.shape[:-1] or (n,).
    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, solve, A, B, left=left)
    a = check_matrix(A, "linalg.solve")
    b = data(B)
    check_same_dtype(a, b, "linalg.solve")
    n = a.shape[-1]
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector:
        if b.shape[-1] != n:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"AX = B ({n}x{n} and {b.shape[-1]})")
        B = reshape_prim(B, b.shape + (1,))
    elif b.ndim < 2 or b.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX' if left else 'XA'} = B ({n}x{n} and "
                           f"{'x'.join(map(str, b.shape[-2:]))})")
    _batch(a, b.shape[:-1] if vector else b.shape[:-2], "linalg.solve")
    if vector:
        X = _solve(A, B)
        return reshape_prim(X, X.shape[:-1])
    return _solve(A, B) if left else mT(_solve(mT(A), mT(B)))


def _batch(a, b_batch, op):
    try:
        np.broadcast_shapes(a.shape[:-2], b_batch)
    except ValueError:
        raise RuntimeError(f"{op}: the batch dimensions of A {list(a.shape)} and B "
                           f"{list(b_batch)} do not broadcast") from None


# ---- inverse -----------------------------------------------------------------------------------
@primitive("linalg_inv", uses_out=True, raw=True)
def _inv(A, check=True):
    """A^-1; with check=False singular matrices give NaN instead of raising (inv_ex)."""
    try:
        return np.linalg.inv(A)
    except np.linalg.LinAlgError:
        if check:
            raise singular(A, "linalg.inv") from None
    good = lapack_info(A, "getrf") == 0
    out = np.full(A.shape, np.nan, A.dtype)
    out[good] = np.linalg.inv(A[good])
    return out


# d(A^-1) = -A^-1 dA A^-1, so the VJP is -A^-T g A^-T
defvjp(_inv, lambda g, out, A, check=True: -matmul(mT(out), matmul(g, mT(out))))


def inv(A, *, out=None):
    """The inverse of (a batch of) square matrices `A`, as torch.linalg.inv.

    Singular matrices raise. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, inv, A)
    check_matrix(A, "linalg.inv")
    return _inv(A)


def inv_ex(A, *, check_errors=False):
    """The inverse of `A` and an info code, as torch.linalg.inv_ex.

    Returns (inverse, info); info[k] > 0 marks a singular matrix (its inverse is NaN) instead of
    raising, unless `check_errors`.
    """
    a = check_matrix(A, "linalg.inv_ex")
    inverse = _inv(A, check=check_errors)
    info = lapack_info(a, "getrf") if np.isnan(data(inverse)).any() else \
        np.zeros(a.shape[:-2], np.int32)
    return inv_ex_result(inverse, _leaf(info))


# ---- determinants ------------------------------------------------------------------------------
@primitive("linalg_slogdet", n_out=2, uses_out=True, raw=True)
def _slogdet(A):
    sign, logabs = np.linalg.slogdet(A)
    return np.asarray(sign, A.dtype), np.asarray(logabs, A.dtype)


def _slogdet_grad(g, out, A):
    """d log|det A| = tr(A^-1 dA): the VJP is g A^-T (the sign is piecewise constant)."""
    if np.any(data(out[0]) == 0):
        raise singular(data(A), "linalg.slogdet backward (also behind linalg.det)")
    gl = g[1]
    return reshape_prim(gl, tuple(gl.shape) + (1, 1)) * mT(_inv(A))


defvjp(_slogdet, _slogdet_grad)


def slogdet(A, *, out=None):
    """(sign, logabsdet) with det `A` = sign * exp(logabsdet), as torch.linalg.slogdet.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, slogdet, A)
    check_matrix(A, "linalg.slogdet")
    return slogdet_result(*_slogdet(A))


def det(A, *, out=None):
    """The determinant of `A`, as torch.linalg.det.

    Computed as sign * exp(logabsdet); its gradient is det(A) A^-T, and a singular matrix raises in
    backward rather than returning NaN. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, det, A)
    check_matrix(A, "linalg.det")
    sign, logabs = _slogdet(A)
    return sign * exp(logabs)


# ---- triangular systems ------------------------------------------------------------------------
def _triangle(a, upper, unit):
    """The part of `a` a triangular solve reads: its triangle, without the diagonal if unit."""
    mask = np.triu(np.ones(a.shape[-2:], bool), 1 if unit else 0) if upper else \
        np.tril(np.ones(a.shape[-2:], bool), -1 if unit else 0)
    return mask.astype(a.dtype)


@primitive("linalg_solve_triangular", uses_out=True, raw=True)
def _trisolve(A, B, upper, unitriangular=False):
    """X with A X = B reading only A's upper/lower triangle; batch dimensions broadcast."""
    shape = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    n = A.shape[-1]
    try:
        if n <= 64:
            # small matrices: one vectorised LU solve of the triangle beats a SciPy call per
            # matrix (the LU of a triangular matrix is back substitution)
            T = A * _triangle(A, upper, unitriangular)
            if unitriangular:
                T = T + np.eye(n, dtype=A.dtype)
            return _lu_solve(T, B)
        A = np.broadcast_to(A, shape + A.shape[-2:])
        B = np.broadcast_to(B, shape + B.shape[-2:])
        out = np.empty(B.shape, np.result_type(A, B))
        for idx in np.ndindex(shape):    # large matrices: the loop's cost is negligible
            out[idx] = sla.solve_triangular(A[idx], B[idx], lower=not upper,
                                            unit_diagonal=unitriangular, check_finite=False)
        return out
    except np.linalg.LinAlgError:
        raise _tri_singular(np.broadcast_to(A, shape + A.shape[-2:]), shape) from None


def _tri_singular(A, shape):
    d = np.diagonal(A, axis1=-2, axis2=-1).reshape(-1, A.shape[-1])
    k, i = np.argwhere(d == 0)[0]
    where = f"(Batch element {k}): " if shape else ""
    return LinAlgError(f"linalg.solve_triangular: {where}the diagonal element {i + 1} is zero: "
                       f"the triangular matrix (shape {list(A.shape)}) is singular")


def _trisolve_grad_A(g, out, A, B, upper, unitriangular=False):
    gB = _trisolve(mT(A), g, upper=not upper, unitriangular=unitriangular)
    return -matmul(gB, mT(out)) * const(g, _triangle(data(A), upper, unitriangular))


defvjp(_trisolve,
       _trisolve_grad_A,
       lambda g, out, A, B, upper, unitriangular=False:
           _trisolve(mT(A), g, upper=not upper, unitriangular=unitriangular))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with `A` X = `B` for triangular `A`, as torch.linalg.solve_triangular.

    X A = B with `left`=False. Only the upper (`upper`=True) or lower triangle of A is read;
    `unitriangular` assumes ones on the diagonal.
    """
    a = check_matrix(A, "linalg.solve_triangular")
    b = check_matrix(B, "linalg.solve_triangular", square=False, name="B")
    check_same_dtype(a, b, "linalg.solve_triangular")
    n = a.shape[-1]
    if b.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation {'AX' if left else 'XA'} = B ({n}x{n} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    _batch(a, b.shape[:-2], "linalg.solve_triangular")
    if left:
        return _trisolve(A, B, upper=upper, unitriangular=unitriangular)
    return mT(_trisolve(mT(A), mT(B), upper=not upper, unitriangular=unitriangular))

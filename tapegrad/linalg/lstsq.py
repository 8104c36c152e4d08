"""Pseudo-inverse and least squares (torch.linalg.pinv, lstsq). Forward and VJP side by side.

One primitive, `linalg_pinv` (from an SVD, or an eigendecomposition for hermitian input);
lstsq's solution is pinv(A) B, the minimum-norm least-squares solution every LAPACK driver of
PyTorch's returns for full-rank A (and gelsy/gelsd/gelss for any A).
"""
from collections import namedtuple

import numpy as np

from .._tensor import _leaf
from ..primitives import primitive, defvjp
from ..ops.linalg import matmul
from ..ops.out import into
from ..ops.reduction import sum as _sum
from ..ops.shape import reshape_prim
from .base import data, check_matrix, check_same_dtype, mT

lstsq_result = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])

_DRIVERS = (None, "gels", "gelsy", "gelsd", "gelss")


@primitive("linalg_pinv", uses_out=True, raw=True)
def _pinv(A, atol=0.0, rtol=0.0, hermitian=False):
    """Values below max(atol, rtol * largest) count as zero (atol, rtol: numbers or per-matrix
    arrays shaped like the batch plus one trailing 1)."""
    if hermitian:
        w, v = np.linalg.eigh(A)
        s = np.abs(w)
        keep = s > np.maximum(atol, rtol * s.max(axis=-1, keepdims=True, initial=0.0))
        d = np.divide(1, w, out=np.zeros_like(w), where=keep)
        return (v * d[..., None, :]) @ np.swapaxes(v, -1, -2)
    u, s, vh = np.linalg.svd(A, full_matrices=False)
    keep = s > np.maximum(atol, rtol * s[..., :1])
    d = np.divide(1, s, out=np.zeros_like(s), where=keep)
    return (np.swapaxes(vh, -1, -2) * d[..., None, :]) @ np.swapaxes(u, -1, -2)


def _pinv_grad(g, out, A, atol=0.0, rtol=0.0, hermitian=False):
    """-P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A), for A of locally constant rank."""
    P, Pt, gt = out, mT(out), mT(g)
    X = matmul(gt, matmul(P, Pt))
    Y = matmul(matmul(Pt, P), gt)
    return (-matmul(Pt, matmul(g, Pt)) + X - matmul(A, matmul(P, X))
            + Y - matmul(matmul(Y, P), A))


defvjp(_pinv, _pinv_grad)


def _tolerance(t):
    """A tolerance as the primitive takes it: a float, or an array with a trailing 1."""
    if t is None:
        return None
    a = data(t)
    return float(a) if a.ndim == 0 else a[..., None]


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse of `A`, as torch.linalg.pinv.

    Singular values (|eigenvalues| with `hermitian`) at most max(`atol`, `rtol` * largest) are
    treated as zero. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, pinv, A, atol=atol, rtol=rtol, hermitian=hermitian)
    a = check_matrix(A, "linalg.pinv", square=hermitian)
    atol, rtol = _tolerance(atol), _tolerance(rtol)
    if rtol is None:
        rtol = 0.0 if atol is not None and np.any(np.asarray(atol) > 0) else \
            np.finfo(a.dtype).eps * max(a.shape[-2:])
    return _pinv(A, atol=0.0 if atol is None else atol, rtol=rtol, hermitian=hermitian)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of min ||`A` X - `B`||, as torch.linalg.lstsq.

    Returns (solution, residuals, rank, singular_values). `rcond` is the relative cutoff for small
    singular values (the dtype's eps * max(m, n) by default). As on PyTorch's CPU: rank for every
    `driver` but 'gels', singular values for 'gelsd' and 'gelss', squared residuals for m > n,
    full-rank A and a driver other than 'gelsy'.
    """
    a = check_matrix(A, "linalg.lstsq", square=False)
    b = data(B)
    check_same_dtype(a, b, "linalg.lstsq")
    if driver not in _DRIVERS:
        raise RuntimeError("linalg.lstsq: parameter `driver` should be one of (gels, gelsy, "
                           "gelsd, gelss)")
    driver = driver or "gelsy"     # PyTorch's default on the CPU
    vector = b.ndim == a.ndim - 1
    if b.ndim < 1 or b.shape[-1 if vector else -2] != a.shape[-2]:
        raise RuntimeError(f"linalg.lstsq: A {list(a.shape)} and B {list(b.shape)} need the same "
                           f"number of rows (A.size(-2) == B.size(-2))")
    if vector:
        B = reshape_prim(B, b.shape + (1,))
    m, n = a.shape[-2:]
    if rcond is None:
        rcond = np.finfo(a.dtype).eps * max(m, n)
    X = matmul(_pinv(A, rtol=rcond), B)
    s = np.linalg.svd(a, compute_uv=False)
    rank = (s > rcond * s[..., :1]).sum(axis=-1)
    empty = _leaf(np.empty((0,), a.dtype))
    residuals = empty
    if m > n and driver != "gelsy" and (rank == n).all():
        residuals = _sum((matmul(A, X) - B) ** 2, -2)
    return lstsq_result(reshape_prim(X, X.shape[:-1]) if vector else X, residuals,
                        _leaf(rank.astype(np.int64)) if driver != "gels" else
                        _leaf(np.empty((0,), np.int64)),
                        _leaf(s) if driver in ("gelsd", "gelss") else empty)

"""The matrix exponential (torch.linalg.matrix_exp). Forward and VJP side by side."""
import numpy as np
from scipy import linalg as sla

from ..primitives import primitive, defvjp
from ..ops.indexing import slice_prim
from ..ops.join import cat_prim
from .base import check_matrix, const, mT


@primitive("linalg_matrix_exp", raw=True)
def _expm(A):
    return sla.expm(A) if A.size else A.copy()


def _expm_grad(g, out, A):
    """The adjoint of the Frechet derivative: the top-right block of expm([[A^T, g], [0, A^T]]).
    It is written with expm itself, so gradients of every order follow."""
    n, nd = A.shape[-1], A.ndim
    At = mT(A)
    zero = const(g, np.zeros(g.shape, g.dtype))
    top = cat_prim(At, g, dim=nd - 1, offsets=(0, n, 2 * n), dtype=g.dtype)
    bottom = cat_prim(zero, At, dim=nd - 1, offsets=(0, n, 2 * n), dtype=g.dtype)
    block = cat_prim(top, bottom, dim=nd - 2, offsets=(0, n, 2 * n), dtype=g.dtype)
    return slice_prim(_expm(block), (Ellipsis, slice(0, n), slice(n, 2 * n)))


defvjp(_expm, _expm_grad)


def matrix_exp(A):
    """torch.linalg.matrix_exp: exp(A) = sum A^k / k! of (a batch of) square matrices."""
    check_matrix(A, "linalg.matrix_exp")
    return _expm(A)

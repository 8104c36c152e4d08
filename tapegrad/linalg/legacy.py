"""PyTorch's older top-level spellings of linalg functions: torch.svd (returns V, not Vh),
torch.qr(some=), torch.cholesky(upper=), torch.logdet and torch.chain_matmul, built on
tapegrad.linalg (so they differentiate as those do)."""
from collections import namedtuple

import numpy as np

from .._tensor import _leaf
from ..ops.linalg import matmul
from .base import check_matrix, mT
from .factor import cholesky as _cholesky, qr as _qr
from .solve import slogdet
from .spectral import svd as _svd, svdvals

svd_result = namedtuple("svd", ["U", "S", "V"])
qr_result = namedtuple("qr", ["Q", "R"])


def svd(input, some=True, compute_uv=True, *, out=None):
    """(U, S, V) with `input` = U diag(S) V^T, as torch.svd.

    With `some` (the default) the reduced factors; without `compute_uv`, U and V are zero-filled
    (m, m) and (n, n) matrices, as in PyTorch. `out`, if given, receives the result.
    """
    a = check_matrix(input, "svd", square=False)
    if out is not None:
        raise RuntimeError("svd: out= is not supported by tapegrad")
    if not compute_uv:
        m, n = a.shape[-2:]
        zeros = lambda k: _leaf(np.zeros(a.shape[:-2] + (k, k), a.dtype))  # noqa: E731
        return svd_result(zeros(m), svdvals(input), zeros(n))
    U, S, Vh = _svd(input, full_matrices=not some)
    return svd_result(U, S, mT(Vh))


def qr(input, some=True, *, out=None):
    """(Q, R) with `input` = Q R, as torch.qr.

    `some`=False gives the complete Q. `out`, if given, receives the result.
    """
    if out is not None:
        raise RuntimeError("qr: out= is not supported by tapegrad")
    return qr_result(*_qr(input, "reduced" if some else "complete"))


def cholesky(input, upper=False, *, out=None):
    """The lower Cholesky factor of a positive-definite `input`, as torch.cholesky.

    The upper factor with `upper`. `out`, if given, receives the result.
    """
    if out is not None:
        raise RuntimeError("cholesky: out= is not supported by tapegrad")
    return _cholesky(input, upper=upper)


def logdet(input):
    """torch.logdet: log(det(input)); NaN where det < 0 and -inf where det == 0."""
    sign, logabsdet = slogdet(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        return logabsdet + _leaf(np.log(sign._data))       # 0 where det > 0


def chain_matmul(*matrices, out=None):
    """The product of 2-d `matrices`, left to right, as torch.chain_matmul.

    linalg.multi_dot's older spelling. `out`, if given, receives the result.
    """
    if out is not None:
        raise RuntimeError("chain_matmul: out= is not supported by tapegrad")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        if m.ndim != 2:
            raise RuntimeError(f"chain_matmul(): Tensor dimension is {m.ndim}, expected 2 "
                               f"instead (matrix {i}).")
    result = matrices[0]
    for m in matrices[1:]:
        result = matmul(result, m)
    return result if len(matrices) > 1 else result.clone()

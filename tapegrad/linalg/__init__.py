"""tapegrad.linalg: torch.linalg's functions, differentiable (to second order) on the tape.

Forwards are NumPy/SciPy's LAPACK-backed routines, batched over leading dimensions; VJPs are
the standard adjoint formulas written in tapegrad ops. Where a VJP is undefined (repeated
eigenvalues reached through eigenvectors, singular matrices) backward raises LinAlgError.
"""
from .base import LinAlgError
from .solve import solve, inv, inv_ex, det, slogdet, solve_triangular
from .factor import cholesky, cholesky_ex, qr
from .spectral import eigh, eigvalsh, svd, svdvals
from .lstsq import pinv, lstsq
from .vector import vector_norm, cross
from .norms import matrix_norm, norm
from .expm import matrix_exp
from .products import multi_dot, matrix_rank

__all__ = ["LinAlgError", "solve", "inv", "inv_ex", "det", "slogdet", "solve_triangular",
           "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "lstsq",
           "vector_norm", "cross", "matrix_norm", "norm", "matrix_exp",
           "multi_dot", "matrix_rank"]

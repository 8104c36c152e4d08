"""What the tapegrad.linalg modules share: `LinAlgError`, input checks, locating the batch
element a LAPACK routine failed on, and batched-matrix helpers that work in a VJP rule's form
(bare arrays in a plain backward, tensors under create_graph)."""
import numpy as np
from scipy.linalg import lapack

from .._state import state
from .._tensor import _leaf, Tensor
from ..ops.einsum import einsum
from ..ops.shape import permute_prim, reshape_prim


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix is singular or not positive-definite."""


# ---- inputs ----------------------------------------------------------------------------------
def data(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def check_float(a, op, name="A"):
    """PyTorch's dtype rules for linalg: float32/float64 only (no integers, no half)."""
    if a.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {a.dtype} for {name}")
    if a.dtype.itemsize < 4:
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got {a.dtype}")


def check_matrix(A, op, square=True, name="A"):
    """The array of A after checking it is a (batch of) float (square) matrices."""
    a = data(A)
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions, "
                           f"got shape {list(a.shape)}")
    check_float(a, op, name)
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    return a


def check_same_dtype(a, b, op):
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{a.dtype} and B of type {b.dtype} instead")


def needs_grad(*xs):
    """Whether an op on xs would be recorded (lets value-only ops skip the eigenvectors)."""
    return state.grad_enabled and any(isinstance(x, Tensor) and x._requires_grad for x in xs)


# ---- LAPACK failures -------------------------------------------------------------------------
def lapack_info(a, routine):
    """Per-matrix LAPACK `info` of getrf/potrf over a batch: 0 where it succeeded, else the
    1-based order of the zero pivot / non-positive leading minor. Only run on error paths."""
    batch = a.shape[:-2]
    info = np.zeros(batch, np.int32)
    fn = lapack.get_lapack_funcs(routine, (a,))
    for idx in np.ndindex(batch):
        info[idx] = fn(a[idx])[-1] if routine == "getrf" else fn(a[idx], lower=1)[1]
    return info


def first_failure(a, routine, op, what):
    """A LinAlgError naming the first failing batch element, in PyTorch's words."""
    info = lapack_info(a, routine)
    bad = np.flatnonzero(info.reshape(-1))
    k = int(bad[0]) if bad.size else 0
    where = f"(Batch element {k}): " if a.ndim > 2 else ""
    order = int(info.reshape(-1)[k]) if bad.size else 0
    return LinAlgError(f"{op}: {where}{what(order)}")


def singular(a, op):
    return first_failure(a, "getrf", op, lambda i: (
        f"The diagonal element {i} of its LU factorization is zero: the input matrix "
        f"(shape {list(a.shape)}) is singular."))


def not_pd(a, op):
    return first_failure(a, "potrf", op, lambda i: (
        "The factorization could not be completed because the input is not positive-definite "
        f"(the leading minor of order {i} is not positive-definite)."))


# ---- batched matrices in a rule's form ---------------------------------------------------------
def const(like, a):
    """A constant in the form `like` is in: the bare array in a plain backward, else a tensor."""
    return a if type(like) is np.ndarray else _leaf(a)


def mT(x):
    """Transpose of the last two dimensions."""
    n = x.ndim
    return permute_prim(x, tuple(range(n - 2)) + (n - 1, n - 2))


def diagonal(x):
    return einsum("...ii->...i", x)


def diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal."""
    n = v.shape[-1]
    return reshape_prim(v, tuple(v.shape) + (1,)) * const(v, np.eye(n, dtype=v.dtype))


def col(v):
    """(..., n) -> (..., 1, n): scales the columns of a matrix."""
    return reshape_prim(v, tuple(v.shape[:-1]) + (1, v.shape[-1]))


def row(v):
    """(..., n) -> (..., n, 1): scales the rows of a matrix."""
    return reshape_prim(v, tuple(v.shape) + (1,))


def nonzero(g):
    """Whether a cotangent can contribute: nonzero values, or a tensor a second-order pass
    differentiates with respect to."""
    return bool(g._requires_grad or np.any(g._data)) if isinstance(g, Tensor) else bool(np.any(g))

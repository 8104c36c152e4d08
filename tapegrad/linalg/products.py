"""torch.linalg.multi_dot and torch.linalg.matrix_rank."""
import numpy as np

from .._tensor import _leaf
from ..ops.linalg import matmul
from ..ops.shape import reshape
from .base import check_matrix


def multi_dot(tensors, *, out=None):
    """The product of the 2-d matrices `tensors`, as torch.linalg.multi_dot.

    The first may be 1-d (a row) and the last 1-d (a column); they are multiplied in the order that
    costs the fewest flops. `out`, if given, receives the result.
    """
    if out is not None:
        raise RuntimeError("linalg.multi_dot: out= is not supported by tapegrad")
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first, last = ts[0].ndim == 1, ts[-1].ndim == 1
    if first:
        ts[0] = reshape(ts[0], (1, -1))
    if last:
        ts[-1] = reshape(ts[-1], (-1, 1))
    for i, t in enumerate(ts):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D (or 1D first/last) but got "
                               f"{t.ndim}D")
    result = _chain(ts, _order([t.shape[0] for t in ts] + [ts[-1].shape[1]]), 0, len(ts) - 1)
    shape = tuple(result.shape)
    return reshape(result, shape[1 if first else 0: 1 if last else 2]) if first or last \
        else result


def _order(dims):
    """The classic dynamic programme: split[i][j], the best place to split product i..j."""
    n = len(dims) - 1
    cost = np.zeros((n, n))
    split = np.zeros((n, n), int)
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i, j] = np.inf
            for k in range(i, j):
                c = cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i, j]:
                    cost[i, j], split[i, j] = c, k
    return split


def _chain(ts, split, i, j):
    if i == j:
        return ts[i]
    k = split[i, j]
    return matmul(_chain(ts, split, i, k), _chain(ts, split, k + 1, j))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The numerical rank of `A`, as torch.linalg.matrix_rank.

    The number of singular values (|eigenvalues| with `hermitian`) above max(`atol`, `rtol` * the
    largest); `rtol` defaults to eps * max(m, n) unless `atol` alone is given. `out`, if given,
    receives the result.
    """
    a = check_matrix(A, "linalg.matrix_rank", square=False)
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    top = s.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    atol = 0.0 if atol is None else np.asarray(getattr(atol, "_data", atol))[..., None]
    if rtol is None:
        rtol = 0.0 if np.any(atol > 0) else np.finfo(a.dtype).eps * max(a.shape[-2:])
    else:
        rtol = np.asarray(getattr(rtol, "_data", rtol))[..., None]
    tol = np.maximum(atol, rtol * top)
    return _leaf((s > tol).sum(-1).astype(np.int64))

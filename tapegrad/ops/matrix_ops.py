"""Matrix-shaped and geometric ops: diagonal, diag, diag_embed, triu, tril, trace, kron,
tensordot, cross, roll, rot90, meshgrid, cartesian_prod, dist, cdist.

All are compositions of existing primitives (indexing's `index`/`unindex`, `where`, reshapes,
flips, einsum, the p-norm), so their gradients come from those rules, to any order.
"""
import string

import numpy as np

from .._convert import _dim
from .._tensor import Tensor
from ..primitives import primitive, defvjp
from .elementwise import where
from .indexing import index_prim, unindex
from .join import stack
from .einsum import einsum
from .out import into, into_named
from .reduction import sum as _sum
from .shape import broadcast_to, flip, movedim, reshape_prim, transpose, unsqueeze
from .statistics import norm


# ---- diagonals and triangles -------------------------------------------------------------------
def _diag_key(n, offset):
    """Rows and columns of the first n entries of diagonal `offset`."""
    i = np.arange(n)
    return (Ellipsis, i + max(-offset, 0), i + max(offset, 0))


def _diag_view(x, offset, dim1, dim2):
    """The `offset` diagonal of x's (dim1, dim2) planes as a last dimension: a view that is
    writable when x is (NumPy's own diagonal views are read-only)."""
    y = np.moveaxis(x, (dim1, dim2), (-2, -1))
    y = y[..., max(-offset, 0):, max(offset, 0):]
    m = max(0, min(y.shape[-2], y.shape[-1]))
    return np.lib.stride_tricks.as_strided(
        y, y.shape[:-2] + (m,), y.strides[:-2] + (y.strides[-2] + y.strides[-1],),
        writeable=x.flags.writeable)


@primitive("diagonal", reads_inputs=False, view=True, raw=True)
def diagonal_prim(x, offset=0, dim1=0, dim2=1):
    return _diag_view(x, offset, dim1, dim2)


@primitive("diagonal_backward", reads_inputs=False, raw=True)
def diagonal_backward(g, shape, offset=0, dim1=0, dim2=1):
    """Zeros of `shape` with g on the diagonal that `diagonal` takes (its VJP)."""
    out = np.zeros(shape, g.dtype)
    _diag_view(out, offset, dim1, dim2)[...] = g
    return out


defvjp(diagonal_prim, lambda g, out, x, offset=0, dim1=0, dim2=1:
       diagonal_backward(g, tuple(x.shape), offset, dim1, dim2))
defvjp(diagonal_backward, lambda g, out, g0, shape, offset=0, dim1=0, dim2=1:
       diagonal_prim(g, offset, dim1, dim2))


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The `offset` diagonal of the (`dim1`, `dim2`) planes of `input`, as torch.diagonal.

    The diagonal becomes the last dimension; a view (writes through it reach `input`).
    """
    n = input.ndim
    if n < 2:
        raise RuntimeError(f"diagonal(): expected a tensor with at least 2 dimensions, got "
                           f"{list(input.shape)}")
    d1, d2 = _dim(dim1, n, "diagonal"), _dim(dim2, n, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return diagonal_prim(input, offset, d1, d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """`input`'s last dimension as the `offset` diagonal of new planes, as torch.diag_embed.

    The new planes are dimensions (`dim1`, `dim2`) of the result, zeros off the diagonal.
    """
    n = input.ndim + 1
    d1, d2 = _dim(dim1, n, "diag_embed"), _dim(dim2, n, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = tuple(input.shape)
    k = shape[-1] if shape else 1
    v = input if shape else reshape_prim(input, (1,))
    m = k + abs(offset)
    out = unindex(v, _diag_key(k, offset), tuple(v.shape[:-1]) + (m, m), False)
    return out if (d1, d2) == (n - 2, n - 1) else movedim(out, (-2, -1), (d1, d2))


def diag(input, diagonal=0, *, out=None):
    """A matrix with 1-d `input` on a diagonal, or a diagonal of 2-d `input`, as torch.diag.

    `diagonal` selects the diagonal (0 the main one, > 0 above, < 0 below). `out`, if given,
    receives the result.
    """
    if out is not None:
        return into(out, diag, input, diagonal)
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        r, c = input.shape       # a copy, not a view, as PyTorch's diag
        m = max(0, min(r - max(-diagonal, 0), c - max(diagonal, 0)))
        return index_prim(input, _diag_key(m, diagonal))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def _triangle(input, diagonal, keep, op):
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    r, c = input.shape[-2:]
    mask = keep(np.ones((r, c), bool), diagonal)
    return where(mask, input, False if input._data.dtype == np.bool_ else 0)


def triu(input, diagonal=0, *, out=None):
    """`input` with zeros below the `diagonal` of its last two dimensions, as torch.triu.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, triu, input, diagonal)
    return _triangle(input, diagonal, np.triu, "triu")


def tril(input, diagonal=0, *, out=None):
    """`input` with zeros above the `diagonal` of its last two dimensions, as torch.tril.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, tril, input, diagonal)
    return _triangle(input, diagonal, np.tril, "tril")


def trace(input):
    """The sum of the main diagonal of the matrix `input`, as torch.trace.

    Integers sum to int64.
    """
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return _sum(diagonal_prim(input, 0, 0, 1))


# ---- products ----------------------------------------------------------------------------------
def kron(input, other, *, out=None):
    """The Kronecker product of `input` and `other`, as torch.kron.

    The shorter shape gets leading 1s. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, kron, input, other)
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = reshape_prim(input, tuple(v for n in sa for v in (n, 1)))
    b = reshape_prim(other, tuple(v for n in sb for v in (1, n)))
    return reshape_prim(a * b, tuple(x * y for x, y in zip(sa, sb)))


def _tensordot_dims(dims, na, nb):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(na, nb):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(na - dims, na)), list(range(dims))
    da, db = dims
    da, db = ([da], [db]) if isinstance(da, (int, np.integer)) else (list(da), list(db))
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {da} and {db}")
    return [_dim(d, na, "tensordot") for d in da], [_dim(d, nb, "tensordot") for d in db]


def tensordot(a, b, dims=2, out=None):
    """Contract dimensions of `a` with dimensions of `b`, as torch.tensordot.

    `dims` is an int (a's last and b's first `dims` dimensions) or a pair of lists of dims;
    computed through einsum. `out`, if given, receives the result.
    """
    if out is not None:
        return into_named(out, "tensordot", tensordot, a, b, dims)
    da, db = _tensordot_dims(dims, a.ndim, b.ndim)
    if a.ndim + b.ndim - len(da) > 52:
        raise RuntimeError("tensordot: too many dimensions")
    letters = iter(string.ascii_letters)
    ta = [next(letters) for _ in range(a.ndim)]
    tb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in "
                               f"dim {j}")
        tb[j] = ta[i]
    rhs = [c for i, c in enumerate(ta) if i not in da] + \
          [c for j, c in enumerate(tb) if j not in db]
    return einsum(f"{''.join(ta)},{''.join(tb)}->{''.join(rhs)}", a, b)


def cross(input, other, dim=None, *, out=None):
    """The cross product of 3-vectors in `input` and `other` along `dim`, as torch.cross.

    `dim` defaults to the first dimension of size 3; the inputs broadcast. `out`, if given,
    receives the result.
    """
    if out is not None:
        return into(out, cross, input, other, dim)
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    except ValueError:
        raise RuntimeError(f"cross: the shapes {list(input.shape)} and {list(other.shape)} do "
                           f"not broadcast") from None
    if dim is None:
        if 3 not in shape:
            raise RuntimeError("no dimension of size 3 in input")
        d = shape.index(3)
    else:
        d = _dim(dim, len(shape), "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                           f"{list(input.shape)} and {list(other.shape)}")
    a = input if tuple(input.shape) == shape else broadcast_to(input, shape)
    b = other if tuple(other.shape) == shape else broadcast_to(other, shape)

    def turn(x, order):
        return index_prim(x, (slice(None),) * d + (np.array(order),))
    # c_i = a_(i+1) b_(i+2) - a_(i+2) b_(i+1), indices mod 3
    return turn(a, [1, 2, 0]) * turn(b, [2, 0, 1]) - turn(a, [2, 0, 1]) * turn(b, [1, 2, 0])


# ---- rearranging -------------------------------------------------------------------------------
def roll(input, shifts, dims=None):
    """`input` with entries shifted cyclically by `shifts` along `dims`, as torch.roll.

    With `dims` None the flattened tensor is rolled and the shape restored.
    """
    shifts = [shifts] if isinstance(shifts, (int, np.integer)) else list(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims: 0")
        flat = roll(reshape_prim(input, (input.numel(),)), shifts, 0)
        return reshape_prim(flat, tuple(input.shape))
    dims = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    x = input
    for s, dim in zip(shifts, dims):
        d = _dim(dim, input.ndim, "roll")
        n = x.shape[d] if x.ndim else 1
        key = (slice(None),) * d + ((np.arange(n) - int(s)) % max(n, 1),)
        x = index_prim(x if x.ndim else reshape_prim(x, (1,)), key)
    return x if input.ndim else reshape_prim(x, ())


def rot90(input, k=1, dims=(0, 1)):
    """`input` rotated by 90 degrees `k` times in the plane `dims`, as torch.rot90.

    The rotation goes from the first of `dims` toward the second.
    """
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    n = input.ndim
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    d0, d1 = _dim(dims[0], n, "rot90"), _dim(dims[1], n, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return transpose(flip(input, [d1]), d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return transpose(flip(input, [d0]), d0, d1)
    return flip(input, [])      # a copy, as PyTorch's


def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-d/1-d `tensors`, as torch.meshgrid.

    `indexing` is 'ij' by default ('xy' swaps the first two dimensions); the grids are expanded
    views.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {list(t.shape)}")
    sizes = [t.numel() for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    grids = []
    for i, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[order.index(i)] = sizes[i]
        grids.append(broadcast_to(reshape_prim(t, tuple(view)), shape))
    return tuple(grids)


def cartesian_prod(*tensors):
    """torch.cartesian_prod: the rows of every combination of the 1-d tensors' entries."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape_prim(g, (g.numel(),)) for g in grids], dim=1)


# ---- distances ---------------------------------------------------------------------------------
def dist(input, other, p=2):
    """torch.dist: the p-norm of input - other (broadcast)."""
    return norm(input - other, p)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The `p`-norm distances between the rows of `x1` and of `x2`, as torch.cdist.

    `x1` is (..., P, M) and `x2` (..., R, M); the result is (..., P, R). Computed directly, never
    through matmul, whatever `compute_mode` says; the gradient is 0 where a distance is 0, as in
    PyTorch.
    """
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 "
                           f"got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return norm(unsqueeze(x1, -2) - unsqueeze(x2, -3), p, dim=-1)


__all__ = ["diagonal", "diag_embed", "diag", "triu", "tril", "trace", "kron", "tensordot",
           "cross", "roll", "rot90", "meshgrid", "cartesian_prod", "dist", "cdist"]

"""Rearrangements built from views, cat and index_select (so their gradients are theirs):
torch.fliplr, flipud, dstack, column_stack, tensor_split, take, diagflat, combinations,
repeat_interleave, broadcast_tensors, broadcast_shapes; and the index makers tril_indices,
triu_indices and bucketize."""
import itertools

import numpy as np

from .._convert import _dim
from .._tensor import Tensor, _leaf
from .._types import Size
from ..dtypes import as_dtype
from .indexing import index_select
from .join import cat, narrow
from .matrix_ops import diag
from .shape import flip, reshape, broadcast_to


def _indices(a):
    return _leaf(np.asarray(a, dtype=np.int64).reshape(-1))


def fliplr(input):
    """`input` with its columns (dim 1) reversed, as torch.fliplr; at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: Input must be >= 2-d, got shape {list(input.shape)}")
    return flip(input, 1)


def flipud(input):
    """`input` with its rows (dim 0) reversed, as torch.flipud; at least 1 dim."""
    if input.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d, got a 0-d tensor")
    return flip(input, 0)


def _atleast(t, shape_of):
    want = shape_of(tuple(t.shape))
    return t if want == tuple(t.shape) else reshape(t, want)


def dstack(tensors):
    """Stack `tensors` along dim 2, as torch.dstack.

    1-d (n,) counts as (1, n, 1), 2-d (m, n) as (m, n, 1).
    """
    def three(s):
        return {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
    return cat([_atleast(t, three) for t in tensors], 2)


def column_stack(tensors):
    """torch.column_stack: 0-d and 1-d tensors become columns, then cat along dim 1."""
    def two(s):
        return (max(1, int(np.prod(s))), 1) if len(s) < 2 else s
    return cat([_atleast(t, two) for t in tensors], 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Views of `input` split along `dim`, as torch.tensor_split.

    `indices_or_sections` is an int n (n near-equal parts) or the split indices (a list or a 1-d
    tensor).
    """
    d = _dim(dim, input.ndim, "tensor_split")
    size = input.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec._data.dtype.kind not in "iu" or spec.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-"
                               f"dimensional or one-dimensional tensor of integers, got "
                               f"{spec.dtype} of {spec.ndim} dims")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, (int, np.integer)):
        if spec <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {spec}")
        q, r = divmod(size, int(spec))
        bounds = list(itertools.accumulate([q + 1] * r + [q] * (int(spec) - r), initial=0))
    else:
        bounds = [0] + [min(max(int(i) + (size if i < 0 else 0), 0), size) for i in spec] + [size]
    return tuple(narrow(input, d, a, max(b, a) - a) for a, b in zip(bounds, bounds[1:]))


def take(input, index):
    """torch.take: input read as 1-d at `index` (negative counts from the end); index's shape."""
    n = input.numel()
    idx = np.asarray(index._data if isinstance(index, Tensor) else index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {idx.dtype}")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise IndexError(f"take(): index {bad} out of range for tensor of size "
                         f"{list(input.shape)}.")
    flat = index_select(reshape(input, (-1,)), 0, _indices(np.where(idx < 0, idx + n, idx)))
    return reshape(flat, idx.shape)


def diagflat(input, offset=0):
    """torch.diagflat: a 2-d tensor with input, flattened, on its `offset` diagonal."""
    return diag(reshape(input, (-1,)), offset)


def _tri_indices(which):
    def fn(row, col, offset=0, *, dtype=None, device=None, layout=None):
        rows, cols = which(row, offset, col)
        out = np.stack([rows, cols]) if row and col else np.zeros((2, 0), np.int64)
        return _leaf(out.astype(np.int64 if dtype is None else as_dtype(dtype)))
    fn.__name__ = fn.__qualname__ = which.__name__
    fn.__doc__ = (f"The (2, N) coordinates of the {which.__name__[:4]} triangle of a matrix, as "
                  f"torch.{which.__name__}.\n\nThe matrix has `row` rows and `col` columns; "
                  "`offset` moves the diagonal (> 0 up). The coordinates go row by row, int64 "
                  "unless `dtype` says otherwise; `device` and `layout` are accepted for "
                  "PyTorch's signature.")
    return fn


tril_indices = _tri_indices(np.tril_indices)
triu_indices = _tri_indices(np.triu_indices)


def combinations(input, r=2, with_replacement=False):
    """The length-`r` combinations of the 1-d `input`'s entries, as rows, as torch.combinations.

    With `with_replacement` an entry may repeat within a combination.
    """
    if input.ndim != 1:
        raise RuntimeError(f"combinations: Expect a 1D vector, but got shape {list(input.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    if r == 0:
        return _leaf(np.empty((0,), input._data.dtype))
    out = reshape(index_select(input, 0, _indices(idx)), idx.shape)
    return reshape(out, (-1,)) if r == 1 else out


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each entry of `input` repeated `repeats` times, as torch.repeat_interleave.

    Entries along `dim`, or of the flattened input when `dim` is None; `repeats` is an int or a
    tensor of per-entry counts. repeat_interleave(repeats) alone gives each index i repeated
    repeats[i] times. `output_size` (PyTorch's hint of the total length, to avoid a device sync) is
    accepted and not needed here.
    """
    if repeats is None:
        reps = input._data
        if reps.ndim > 1 or reps.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim integer tensor")
        return _leaf(np.repeat(np.arange(reps.size), reps.reshape(-1)).astype(np.int64))
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    d = _dim(dim, max(input.ndim, 1), "repeat_interleave")
    reps = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats).reshape(-1)
    n = input.shape[d] if input.ndim else 1
    if reps.size not in (1, n):
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along "
                           f"dim {d}, but got repeats.size(0) = {reps.size} and input.size({d})"
                           f" = {n}")
    if (reps < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    if input.ndim == 0:
        input = reshape(input, (1,))
    return index_select(input, d, _indices(np.repeat(np.arange(n), reps)))


def broadcast_shapes(*shapes):
    """torch.broadcast_shapes: the shape that tensors of these shapes broadcast to."""
    sizes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*sizes))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{[list(s) for s in sizes]}") from None


def broadcast_tensors(*tensors):
    """Read-only views of all `tensors` expanded to one shape, as torch.broadcast_tensors."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if tuple(t.shape) == tuple(shape) else broadcast_to(t, shape)
                 for t in tensors)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value of `input` among 1-d `boundaries`, as torch.bucketize.

    boundaries[i-1] < x <= boundaries[i]; with `right`, boundaries[i-1] <= x < boundaries[i].
    int64, or int32 with `out_int32`.
    """
    b = boundaries._data
    if b.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim "
                           f"{b.ndim}")
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    out = np.searchsorted(b, x, side="right" if right else "left")
    return _leaf(np.asarray(out, np.int32 if out_int32 else np.int64))


__all__ = ["fliplr", "flipud", "dstack", "column_stack", "tensor_split", "take", "diagflat",
           "tril_indices", "triu_indices", "combinations", "repeat_interleave",
           "broadcast_shapes", "broadcast_tensors", "bucketize"]

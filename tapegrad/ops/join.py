"""Joining and splitting: cat/stack and split/chunk/narrow/unbind. Forward and VJP side by side.

One primitive, `cat` (variadic); splitting is basic slicing (indexing.py's `slice`).
"""
from itertools import count

import numpy as np

from ..dtypes import _pair
from ..primitives import primitive
from .._convert import _dim
from .._tensor import Tensor
from .indexing import slice_prim
from .out import into
from .out import into_named
from .shape import reshape_prim, atleast_1d, atleast_2d


@primitive("cat", reads_inputs=False, raw=True)
def cat_prim(*arrays, dim, offsets, dtype):
    """Concatenate along `dim`; `offsets` are where each input starts (and the total size).

    The result is contiguous, as PyTorch's (NumPy lays it out in Fortran order when every input
    is, and `view` would then fail on it).
    """
    out = np.concatenate(arrays, axis=dim, dtype=dtype, casting="unsafe")
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


class _PerInput:
    """Rules of a variadic primitive: an endless sequence whose i-th item is `rule_for(i)`."""

    def __init__(self, rule_for):
        self.rule_for = rule_for

    def __iter__(self):
        return map(self.rule_for, count())


def _cat_rule(i):
    return lambda g, out, *xs, dim, offsets, dtype: _narrow(g, dim, offsets[i], offsets[i + 1])


cat_prim.prim.rules = _PerInput(_cat_rule)     # one rule per input, however many are joined


def _narrow(x, dim, start, stop):
    return slice_prim(x, (slice(None),) * dim + (slice(start, stop), Ellipsis))


# ---- joining ---------------------------------------------------------------------------------
def _cat(tensors, dim, op):
    """Concatenate a non-empty list of tensors along `dim`, promoting dtypes as PyTorch."""
    first = tensors[0]._data
    nd = first.ndim
    if nd == 0:
        raise RuntimeError(f"{op}: zero-dimensional tensor (at position 0) cannot be "
                           "concatenated")
    d = _dim(dim, nd, op)
    rest = first.shape[:d] + first.shape[d + 1:]
    offsets = [0]
    dt = first.dtype
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
        a = t._data
        if a.ndim != nd:
            raise RuntimeError(f"{op}: Tensors must have same number of dimensions: got {nd} "
                               f"and {a.ndim}")
        if a.shape[:d] + a.shape[d + 1:] != rest:
            j = next(j for j in range(nd) if j != d and a.shape[j] != first.shape[j])
            raise RuntimeError(f"{op}: Sizes of tensors must match except in dimension {d}. "
                               f"Expected size {first.shape[j]} but got size {a.shape[j]} for "
                               f"tensor number {i} in the list.")
        offsets.append(offsets[-1] + a.shape[d])
        if a.dtype != dt:
            dt = _pair(dt, False, a.dtype, False)
    return cat_prim(*tensors, dim=d, offsets=tuple(offsets), dtype=dt)


def cat(tensors, dim=0, *, out=None):
    """Join `tensors` along the existing dimension `dim`, as torch.cat (alias `concat`).

    1-d empty tensors are skipped, as in PyTorch. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, cat, tensors, dim)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    kept = [t for t in tensors if not (isinstance(t, Tensor) and t._data.shape == (0,))]
    return _cat(kept or tensors, dim, "cat")


concat = cat


def concatenate(tensors, axis=0, out=None):
    """Join `tensors` along `axis`, as torch.concatenate (cat with NumPy's name).

    `out`, if given, receives the result.
    """
    if out is not None:
        return into_named(out, "cat", cat, list(tensors), axis)
    return cat(tensors, axis)


def stack(tensors, dim=0, *, out=None):
    """Join equally shaped `tensors` along a new dimension `dim`, as torch.stack.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, stack, tensors, dim)
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(x.shape)} at entry {i}")
    d = _dim(dim, len(shape) + 1, "stack")
    if d < len(shape):
        # cat along d lays the tensors out block by block: split that axis into (k, n)
        out = _cat(tensors, d, "stack")
        return reshape_prim(out, shape[:d] + (len(tensors),) + shape[d:])
    return _cat([reshape_prim(x, shape + (1,)) for x in tensors], d, "stack")


def hstack(tensors, *, out=None):
    """Join `tensors` along dim 1 (dim 0 for 1-d tensors), as torch.hstack.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, hstack, tensors)
    tensors = atleast_1d(list(tensors))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors, *, out=None):
    """Join `tensors` along dim 0 after making each at least 2-d, as torch.vstack.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, vstack, tensors)
    return cat(atleast_2d(list(tensors)), 0)


# ---- splitting: basic slices of the input ----------------------------------------------------
def _split_dim(input, dim, op):
    if input.ndim == 0:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")
    d = _dim(dim, input.ndim, op)
    return d, input._data.shape[d]


def split(tensor, split_size_or_sections, dim=0):
    """Split `tensor` into views along `dim`, as torch.split.

    `split_size_or_sections` is an int (pieces of that size, the last may be smaller) or a list of
    the pieces' sizes.
    """
    d, n = _split_dim(tensor, dim, "split")
    s = split_size_or_sections
    if isinstance(s, (list, tuple)):
        sizes = [int(k) for k in s]
        if sum(sizes) != n or min(sizes, default=0) < 0:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    else:
        s = int(s)
        if s < 0 or (s == 0 and n):
            raise RuntimeError(f"split: split_size can only be 0 if dimension size is 0, and "
                               f"never negative, but got split_size={s} for dimension size {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s else []
        sizes = sizes or [n]
    bounds = np.cumsum([0] + sizes).tolist()
    return tuple(_narrow(tensor, d, a, b) for a, b in zip(bounds, bounds[1:]))


def chunk(input, chunks, dim=0):
    """Split `input` into `chunks` views along `dim`, as torch.chunk.

    Each piece has ceil(size / chunks) entries, fewer when the size runs out (so there may be fewer
    than `chunks` pieces).
    """
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d, n = _split_dim(input, dim, "chunk")
    if n == 0:
        return tuple(_narrow(input, d, 0, 0) for _ in range(chunks))
    return split(input, -(-n // chunks), d)


def narrow(input, dim, start, length):
    """The slice `start`:`start` + `length` of `input` along `dim`, as torch.narrow.

    A view; `start` may be negative.
    """
    d, n = _split_dim(input, dim, "narrow")
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-n}, {n}], "
                         f"but got {start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    return _narrow(input, d, start, start + length)


def unbind(input, dim=0):
    """The slices of `input` along `dim`, that dimension removed, as torch.unbind."""
    if input.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    d = _dim(dim, input.ndim, "unbind")
    pre = (slice(None),) * d
    return tuple(slice_prim(input, pre + (i, Ellipsis)) for i in range(input._data.shape[d]))


__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "split", "chunk",
           "narrow", "unbind"]

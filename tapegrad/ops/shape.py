"""Shape ops: broadcasting, reshaping, permuting, tiling. Forward and VJP side by side.

All of them are linear, so their rules never read input values. Six primitives (sum_to,
broadcast_to, reshape, permute, flip, repeat); joining and splitting live in join.py.
"""
import math

import numpy as np

from ..primitives import primitive, defvjp
from .._convert import _dim


# ---- primitives ------------------------------------------------------------------------------
@primitive("sum_to", reads_inputs=False, raw=True)
def sum_to(x, shape):
    """Sum x over the dimensions that broadcasting added or stretched, down to `shape`."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and x.shape[i + lead] != 1)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape) if lead else out


defvjp(sum_to, lambda g, out, x, shape: broadcast_to(g, x.shape))


@primitive("broadcast_to", reads_inputs=False, view=True, raw=True)
def broadcast_to(input, shape, writable=False):
    """A read-only view of `input` expanded to `shape`, as torch.broadcast_to.

    A -1 in `shape` keeps that size. `writable` (Tensor.expand's case): an expansion that stretches
    nothing (same shape, or leading size-1 dims) is a plain view that in-place ops may write, as in
    PyTorch.
    """
    try:
        out = np.broadcast_to(input, shape)
    except ValueError:      # -1 entries, or sizes that do not match: torch's checks and errors
        out = np.broadcast_to(input, _expanded(input.shape, tuple(shape), "broadcast_to"))
    if writable and out.size == input.size and out.shape[out.ndim - input.ndim:] == input.shape:
        return input.reshape(out.shape)
    return out


defvjp(broadcast_to, lambda g, out, x, shape, writable=False: sum_to(g, x.shape))


@primitive("reshape", reads_inputs=False, view=True, raw=True)
def reshape_prim(x, shape):
    return x.reshape(shape)


defvjp(reshape_prim, lambda g, out, x, shape: reshape_prim(g, x.shape))


@primitive("permute", reads_inputs=False, view=True, raw=True)
def permute_prim(x, dims):
    return x.transpose(dims)


defvjp(permute_prim, lambda g, out, x, dims: permute_prim(g, tuple(np.argsort(dims))))


@primitive("flip", reads_inputs=False, raw=True)
def flip_prim(x, dims):
    return np.flip(x, dims).copy()     # torch.flip returns a copy, not a view


defvjp(flip_prim, lambda g, out, x, dims: flip_prim(g, dims))


@primitive("repeat", reads_inputs=False, raw=True)
def repeat_prim(x, reps):
    return np.tile(x, reps)


def _repeat_grad(g, out, x, reps):
    # axis i of g is reps[i] copies of x's axis i: split it in two and sum the copies away
    split = tuple(v for r, n in zip(reps, x.shape) for v in (r, n))
    ones = tuple(v for n in x.shape for v in (1, n))
    return reshape_prim(sum_to(reshape_prim(g, split), ones), tuple(x.shape))


defvjp(repeat_prim, _repeat_grad)


# ---- reshaping -------------------------------------------------------------------------------
def _sizes(args):
    """`f(x, 2, 3)` and `f(x, (2, 3))` both give (2, 3), as PyTorch's size arguments."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return tuple(args[0])
    return args


def _ints(dims):
    """One int or a sequence of them, as a tuple."""
    return (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)


def _infer_shape(shape, size, op):
    """Fill in the one -1 of `shape` so it holds `size` elements, with PyTorch's errors."""
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {list(shape)}")
    bad = [s for s in shape if s < -1]
    if bad:
        raise RuntimeError(f"{op}: invalid shape dimension {bad[0]} in {list(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape and known and size % known == 0:
        return tuple(size // known if s == -1 else s for s in shape)
    if -1 not in shape and known == size:
        return tuple(shape)
    raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {size}")


def reshape(input, *shape):
    """`input` with a new `shape`, as torch.reshape.

    A view when NumPy can make one, else a copy; one size may be -1. `shape` is given as separate
    ints or as one sequence.
    """
    shape = _sizes(shape)
    if math.prod(shape) != input._data.size or (shape and min(shape) < 0):
        shape = _infer_shape(shape, input._data.size, "reshape")
    return reshape_prim(input, shape)


def view(input, *shape):
    """`input` with a new `shape`, never copying, as torch.Tensor.view.

    Raises, as PyTorch does, where the strides do not allow it (a transposed or expanded tensor
    flattened): use reshape there. One size may be -1.
    """
    a = input._data
    if not a.flags.c_contiguous:
        shape = _sizes(shape)
        try:
            np.reshape(a, _infer_shape(shape, a.size, "view"), copy=False)
        except ValueError:
            raise RuntimeError(f"view size is not compatible with input tensor's size and stride "
                               f"(at least one dimension spans across two contiguous subspaces): "
                               f"view{tuple(shape)} of shape {list(a.shape)} with strides "
                               f"{[st // a.itemsize for st in a.strides]}. Use .reshape(...) "
                               f"instead.") from None
    return reshape(input, *shape)


def view_as(input, other):
    """`input` reshaped to the shape of `other`, as torch.Tensor.view_as (and reshape_as)."""
    return reshape(input, other.shape)


reshape_as = view_as


def flatten(input, start_dim=0, end_dim=-1):
    """`input` with dimensions `start_dim`..`end_dim` merged into one, as torch.flatten.

    A 0-d tensor becomes 1-d.
    """
    shape = input._data.shape
    nd = len(shape)
    s, e = _dim(start_dim, nd, "flatten"), _dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if nd == 0:
        return reshape_prim(input, (1,))
    if s == e:
        return input        # nothing to merge: the tensor itself, as in torch
    return reshape_prim(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dimension `dim` of `input` into `sizes` (one may be -1), as torch.unflatten."""
    shape = input._data.shape
    d = _dim(dim, input.ndim, "unflatten")
    sizes = tuple(sizes)
    try:
        sizes = _infer_shape(sizes, shape[d], "unflatten")
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {d} ({shape[d]}) in the input tensor") from None
    return reshape_prim(input, shape[:d] + sizes + shape[d + 1:])


def squeeze(input, dim=None):
    """`input` without its size-1 dimensions, as torch.squeeze.

    All of them, or only those among `dim` (an int or a tuple).
    """
    shape = input._data.shape
    if dim is None:
        return reshape_prim(input, tuple(n for n in shape if n != 1))
    drop = {_dim(d, len(shape), "squeeze") for d in _ints(dim)}
    return reshape_prim(input, tuple(n for i, n in enumerate(shape) if n != 1 or i not in drop))


def unsqueeze(input, dim):
    """`input` with a size-1 dimension inserted at `dim`, as torch.unsqueeze.

    `dim` is in [-ndim-1, ndim].
    """
    shape = input._data.shape
    d = _dim(dim, len(shape) + 1, "unsqueeze")
    return reshape_prim(input, shape[:d] + (1,) + shape[d:])


def atleast_1d(*tensors):
    """torch.atleast_1d: 0-d tensors become 1-d; several tensors (or a list) give a tuple."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """torch.atleast_2d: 0-d and 1-d tensors get leading size-1 dimensions."""
    return _atleast(tensors, 2)


def _atleast(tensors, n):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast((t,), n) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(_atleast((t,), n) for t in tensors)
    t = tensors[0]
    nd = t.ndim
    return t if nd >= n else reshape_prim(t, (1,) * (n - nd) + t._data.shape)


# ---- permuting -------------------------------------------------------------------------------
def permute(input, *dims):
    """A view of `input` with its dimensions reordered as `dims`, as torch.permute.

    `dims` is given as separate ints or as one sequence.
    """
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _sizes(dims)
    n = input.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute: number of dims don't match in permute: input has {n} "
                           f"dimensions but {len(dims)} were given")
    dims = tuple(_dim(d, n, "permute") for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {list(dims)}")
    return permute_prim(input, dims)


def transpose(input, dim0, dim1):
    """A view of `input` with dimensions `dim0` and `dim1` swapped, as torch.transpose."""
    n = input.ndim
    d0, d1 = _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
    dims = list(range(n))
    if n:
        dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute_prim(input, tuple(dims))


swapdims = transpose


def swapaxes(input, axis0, axis1):
    """A view of `input` with `axis0` and `axis1` swapped, as torch.swapaxes."""
    return transpose(input, axis0, axis1)


def adjoint(input, name="adjoint()"):
    """A view of `input` with its last two dimensions swapped, as torch.adjoint.

    Also Tensor.mT and Tensor.mH (the same for real tensors). A 0-d tensor is returned as it is and
    a 1-d one raises, as in PyTorch; `name` names the caller in that error.
    """
    n = input.ndim
    if n == 1:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of "
                           f"matrices. Got 1-D tensor.")
    return transpose(input, -2, -1) if n else input      # torch returns a 0-d tensor itself


def t(input):
    """The transpose of a 2-d `input`, as torch.t.

    0-d and 1-d tensors are returned as they are.
    """
    n = input.ndim
    if n > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return permute_prim(input, (1, 0) if n == 2 else tuple(range(n)))


def movedim(input, source, destination):
    """A view of `input` with dims `source` moved to `destination`, as torch.movedim.

    `source` and `destination` are ints or sequences of ints; the other dimensions keep their
    order. Alias `moveaxis`.
    """
    n = input.ndim
    src, dst = _ints(source), _ints(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = tuple(_dim(d, n, "movedim") for d in src)
    dst = tuple(_dim(d, n, "movedim") for d in dst)
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    if n == 0:
        return permute_prim(input, ())
    perm = [None] * n
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(n) if i not in src)
    return permute_prim(input, tuple(next(rest) if p is None else p for p in perm))


moveaxis = movedim


# ---- broadcasting and tiling -----------------------------------------------------------------
def _expanded(shape, sizes, op):
    """The shape `sizes` asks to expand `shape` to (-1 keeps a size), with PyTorch's errors."""
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"{op}: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)})")
    out = []
    for i, s in enumerate(sizes):
        n = 1 if i < lead else shape[i - lead]
        if s == -1 and i >= lead:
            s = n
        elif s < 0:
            where = "a leading, non-existing dimension" if i < lead else "dimension"
            raise RuntimeError(f"{op}: The expanded size of the tensor ({s}) isn't allowed in "
                               f"{where} {i}")
        elif n != 1 and s != n:
            raise RuntimeError(f"{op}: The expanded size of the tensor ({s}) must match the "
                               f"existing size ({n}) at non-singleton dimension {i}.  Target "
                               f"sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")
        out.append(s)
    return tuple(out)


def expand(input, *sizes):
    """A view of `input` with size-1 dims stretched to `sizes`, as torch.Tensor.expand.

    -1 keeps a size; new dimensions lead. `sizes` is given as separate ints or one sequence.
    """
    return broadcast_to(input, _sizes(sizes), writable=True)


def expand_as(input, other):
    """`input` expanded to the shape of `other`, as torch.Tensor.expand_as."""
    return broadcast_to(input, tuple(other.shape), writable=True)


def sum_to_size(input, *size):
    """`input` summed over broadcast dims down to shape `size`, as torch.Tensor.sum_to_size."""
    size = _sizes(size)
    shape = input._data.shape
    if tuple(size) == shape:
        return input
    if len(size) > len(shape) or any(s != 1 and s != n for s, n in zip(size[::-1], shape[::-1])):
        raise RuntimeError(f"sum_to_size: size {list(size)} is not expandable to size "
                           f"{list(shape)}.")
    return sum_to(input, tuple(size))


def repeat(input, *sizes):
    """`input` tiled sizes[i] times along dimension i, as torch.Tensor.repeat.

    Extra leading entries of `sizes` add dimensions.
    """
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = _sizes(sizes)
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"repeat: Number of dimensions of repeat dims ({len(sizes)}) can not "
                           f"be smaller than number of dimensions of tensor ({len(shape)})")
    if sizes and min(sizes) < 0:
        raise RuntimeError(f"repeat: Trying to create tensor with negative dimension, got "
                           f"repeats {list(sizes)}")
    x = reshape_prim(input, (1,) * lead + shape) if lead else input
    return repeat_prim(x, tuple(sizes))


def tile(input, *dims):
    """`input` repeated `dims` times, as torch.tile.

    Like `repeat`, with missing leading repeats taken as 1.
    """
    dims = _sizes(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + tuple(dims))


def flip(input, *dims):
    """A copy of `input` reversed along `dims`, as torch.flip."""
    dims = _sizes(dims)
    n = input.ndim
    wrapped = tuple(_dim(d, n, "flip") for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"flip: dim appears multiple times in the list of dims {list(dims)}")
    # a 0-d tensor accepts dim 0 or -1, as in PyTorch, and has nothing to reverse
    return flip_prim(input, wrapped if n else ())


__all__ = ["reshape", "view", "view_as", "reshape_as", "flatten", "unflatten", "squeeze",
           "unsqueeze", "atleast_1d", "atleast_2d", "permute", "transpose", "swapaxes", "adjoint",
           "swapdims", "t", "movedim", "moveaxis", "broadcast_to", "expand", "expand_as",
           "sum_to_size", "repeat", "tile", "flip"]


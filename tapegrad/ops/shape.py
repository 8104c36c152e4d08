"""Shape ops: broadcasting, reshaping, permuting, joining and splitting. Forward and VJP side by side.

All of them are linear, so their rules never read input values; most return NumPy views.
"""
import numpy as np

from ..tape import primitive, defvjp
from ..tensor import Tensor
from ..tensor import _dim


@primitive(linear=True)
def sum_to(x, shape):
    """Sum x over the dimensions that broadcasting added or stretched, down to `shape`."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and x.shape[i + lead] != 1)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape) if lead else out


defvjp(sum_to, lambda g, out, x, shape: broadcast_to(g, x.shape))


@primitive(linear=True, view=True)
def broadcast_to(x, shape):
    return np.broadcast_to(x, shape)


defvjp(broadcast_to, lambda g, out, x, shape: sum_to(g, x.shape))


@primitive(linear=True, view=True)
def reshape_prim(x, shape):
    return x.reshape(shape)


defvjp(reshape_prim, lambda g, out, x, shape: reshape_prim(g, x.shape))


def reshape(input, *shape):
    """torch.reshape / Tensor.reshape: one dimension may be -1."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        target = _infer_shape(input, shape)
    except ValueError as err:
        raise RuntimeError(f"reshape: shape '{list(shape)}' is invalid for input of size "
                           f"{input.numel()} ({err})") from None
    if target == input._data.shape:
        return reshape_prim(input, target)
    return reshape_prim(input, target)


def _infer_shape(input, shape):
    shape = tuple(int(s) for s in shape)
    size = input._data.size
    if shape.count(-1) > 1:
        raise ValueError("only one dimension can be inferred")
    known = int(np.prod([s for s in shape if s != -1]))
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError("the sizes do not divide")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise ValueError("the number of elements differs")
    return shape


view = reshape


@primitive(linear=True, view=True)
def permute_prim(x, dims):
    return x.transpose(dims)


defvjp(permute_prim, lambda g, out, x, dims: permute_prim(g, tuple(np.argsort(dims))))


def permute(input, *dims):
    """torch.permute: reorder dimensions."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    n = input.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute: number of dims don't match in permute: input has {n} "
                           f"dimensions but {len(dims)} were given")
    dims = tuple(_dim(d, n, "permute") for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError(f"permute: repeated dim in {list(dims)}")
    return permute_prim(input, dims)


def transpose(input, dim0, dim1):
    """torch.transpose: swap two dimensions."""
    n = input.ndim
    d0, d1 = _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return permute_prim(input, tuple(dims))

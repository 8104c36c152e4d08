"""Reductions: sum, mean, prod, max/min, logsumexp, all/any (var/std and norm: statistics.py;
cumulative ops: cumulative.py).

Public functions take PyTorch's signatures and normalise `dim` (None, an int or a sequence;
negative dims wrapped) into `dims`: None for every dimension, else a sorted tuple. Primitives
take `dims` and `keepdim`. Their rules run on tensors, or on bare arrays in a plain backward,
so they use only tapegrad ops, operators, and constant masks made with `_const`.
"""
import math
from collections import namedtuple

import numpy as np

from ..dtypes import as_dtype, get_default_dtype, is_floating, wide
from .._convert import _dim
from .._state import own_counter
from .._tensor import _leaf, Tensor
from ..primitives import primitive, defvjp
from .elementwise import where, maximum, minimum
from .out import into, into_plain
from .shape import broadcast_to, reshape_prim
from .unary import exp


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _const(like, a):
    """A constant (mask) in the rule's form: a tensor when `like` is one, else the bare array."""
    return _leaf(a) if isinstance(like, Tensor) else a


def _dims(dim, ndim, op):
    """None (all dims) or a sorted tuple of wrapped dims; an empty sequence means all dims."""
    if dim is None:
        return None
    if not isinstance(dim, (tuple, list)):
        d = _dim(dim, ndim, op)
        return (d,) if ndim else ()
    dims = [_dim(d, ndim, op) for d in dim]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"{op}: dim {d} appears multiple times in the list of dims")
    if not dims:
        return None
    return tuple(sorted(dims)) if ndim else ()


def _count(shape, dims):
    """How many entries each reduced slice has."""
    return math.prod(shape) if dims is None else math.prod(shape[d] for d in dims)


def _keep(t, shape, dims, keepdim):
    """A reduced tensor (or array) reshaped to broadcast against the input's `shape`."""
    if keepdim or not dims:
        return t
    return reshape_prim(t, tuple(1 if i in dims else n for i, n in enumerate(shape)))


def _acc(x, dtype):
    """Integer and bool tensors reduce to int64 unless a dtype is given, as in PyTorch."""
    return np.int64 if dtype is None and x.dtype.kind in "biu" else dtype


def _check_nonempty(a, dims, op):
    if a.size == 0:
        for d in range(a.ndim) if dims is None else dims:
            if a.shape[d] == 0:
                raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


# ---- sum and mean ------------------------------------------------------------------------------
@primitive("sum", reads_inputs=False, raw=True)
def _sum(x, dims=None, keepdim=False, dtype=None):
    if x.dtype.kind == "V" and dtype is None:   # bfloat16 accumulates in float32, as in PyTorch
        return x.sum(axis=dims, dtype=wide(x.dtype), keepdims=keepdim).astype(x.dtype)
    return x.sum(axis=dims, dtype=_acc(x, dtype), keepdims=keepdim)


defvjp(_sum, lambda g, out, x, dims=None, keepdim=False, dtype=None:
       broadcast_to(_keep(g, _data(x).shape, dims, keepdim), _data(x).shape))


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of `input` over `dim` (every dim by default), as torch.sum.

    `dim` is an int or a sequence of ints. With `keepdim` the reduced dims stay, with size 1.
    Integer and bool tensors sum to int64 unless `dtype` is given (the input is cast to it first).
    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, sum, input, dim, keepdim, dtype=dtype)
    return _sum(input, dims=_dims(dim, input._data.ndim, "sum"), keepdim=keepdim,
                dtype=as_dtype(dtype))


@primitive("mean", reads_inputs=False, raw=True)
def _mean(x, dims=None, keepdim=False, dtype=None):
    if x.dtype.kind == "V" and dtype is None:   # bfloat16, as _sum
        return x.mean(axis=dims, dtype=wide(x.dtype), keepdims=keepdim).astype(x.dtype)
    return x.mean(axis=dims, dtype=dtype, keepdims=keepdim)


def _mean_grad(g, out, x, dims=None, keepdim=False, dtype=None):
    shape = _data(x).shape
    n = _count(shape, dims)
    return broadcast_to(_keep(g, shape, dims, keepdim) * (1.0 / n if n else math.nan), shape)


defvjp(_mean, _mean_grad)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of `input` over `dim` (every dim by default), as torch.mean.

    With `keepdim` the reduced dims stay, with size 1. Integer tensors need a floating `dtype`, as
    in PyTorch. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, mean, input, dim, keepdim, dtype=dtype)
    dtype = as_dtype(dtype)
    if dtype is None and not is_floating(input._data.dtype):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype}")
    return _mean(input, dims=_dims(dim, input._data.ndim, "mean"), keepdim=keepdim, dtype=dtype)


# ---- max and min -------------------------------------------------------------------------------
@primitive("amax", uses_out=True, raw=True)
def _amax(x, dims=None, keepdim=False):
    return x.max(axis=dims, keepdims=keepdim)


@primitive("amin", uses_out=True, raw=True)
def _amin(x, dims=None, keepdim=False):
    return x.min(axis=dims, keepdims=keepdim)


def _extreme_grad(g, out, x, dims=None, keepdim=False):
    """Tied entries share the gradient evenly, as in PyTorch's amax/amin and max()/min()."""
    a = _data(x)
    hit = a == _keep(_data(out), a.shape, dims, keepdim)
    share = (hit / hit.sum(axis=dims, keepdims=True)).astype(a.dtype, copy=False)
    return _keep(g, a.shape, dims, keepdim) * _const(g, share)


defvjp(_amax, _extreme_grad)
defvjp(_amin, _extreme_grad)


def _evenly(g, out, x):
    """max()/min() of a whole tensor: g shared by the entries equal to the result (the NaNs,
    if it is NaN), exactly 0 elsewhere even for an inf cotangent, as PyTorch's CPU rule."""
    a, v = _data(x), _data(out)
    hit = np.isnan(a) if np.isnan(v) else a == v
    return where(hit, g / int(hit.sum()), 0.0)


@primitive("max_all", uses_out=True, raw=True, grad_fn="MaxBackward1")
def _max_all(x):
    return x.max()


@primitive("min_all", uses_out=True, raw=True, grad_fn="MinBackward1")
def _min_all(x):
    return x.min()


defvjp(_max_all, _evenly)
defvjp(_min_all, _evenly)
_max_all.prim.grad_fn_name = "MaxBackward1"     # PyTorch's names
_min_all.prim.grad_fn_name = "MinBackward1"


def _extremes(input, dim, keepdim, op, op_name):
    if input._data.size == 0 and dim in ((), None, []):
        raise RuntimeError(f"{op_name}(): Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
    dims = _dims(dim, input._data.ndim, op_name)
    _check_nonempty(input._data, dims, op_name)
    return op(input, dims=dims, keepdim=keepdim)


def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest values of `input` over `dim` (every dim by default), as torch.amax.

    With `keepdim` the reduced dims stay, with size 1. Ties share the gradient equally. `out`, if
    given, receives the result.
    """
    if out is not None:
        return into(out, amax, input, dim, keepdim)
    return _extremes(input, dim, keepdim, _amax, "amax")


def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest values of `input` over `dim` (every dim by default), as torch.amin.

    With `keepdim` the reduced dims stay, with size 1. Ties share the gradient equally. `out`, if
    given, receives the result.
    """
    if out is not None:
        return into(out, amin, input, dim, keepdim)
    return _extremes(input, dim, keepdim, _amin, "amin")


def _pick_grad(g, out, x, index, dim=0, keepdim=False):
    """All of the gradient goes to the returned index (the first of ties), as in PyTorch."""
    a = _data(x)
    if a.ndim == 0:
        return g
    pos = np.arange(a.shape[dim]).reshape([-1 if d == dim else 1 for d in range(a.ndim)])
    # selected, not multiplied: the other entries get exactly 0 even from an inf cotangent
    return where(pos == _data(index), _keep(g, a.shape, (dim,), keepdim), 0.0)


def _along_dim(name, reduce):
    """max/min along one dim: the values at `index` (the arg-reduction's, keepdim-shaped)."""
    def forward(x, index, dim=0, keepdim=False):
        return reduce(x, axis=dim if x.ndim else None, keepdims=keepdim)
    forward.__doc__ = f"torch.{name} along a dim: the values; the gradient goes to `index`."
    # the rule reads only the index (and x's shape): x may change after the op
    return defvjp(primitive(name, raw=True)(forward), _pick_grad, None, reads=((1,), ()))


# named like PyTorch's grad_fn of max/min along a dim (MaxBackward0, MinBackward0)
_max_at = _along_dim("max", np.ndarray.max)
_min_at = _along_dim("min", np.ndarray.min)

max_result = namedtuple("max", ["values", "indices"])     # torch.return_types.max
min_result = namedtuple("min", ["values", "indices"])     # torch.return_types.min


def _along(input, dim, keepdim, argfn, op, result, op_name):
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op_name}(): dim must be an int, got {dim}; amax/amin take several")
    a = input._data
    d = _dim(dim, a.ndim, op_name)
    _check_nonempty(a, (d,), op_name)
    idx = argfn(a, axis=d, keepdims=True) if a.ndim else np.zeros((), np.int64)
    index = _leaf(idx)
    values = op(input, index, dim=d, keepdim=keepdim)
    if keepdim or a.ndim == 0:
        return result(values, index)
    # the returned indices share the saved index's version counter: writing to them is caught
    indices = _leaf(idx.squeeze(d))
    indices._counter = own_counter(index)
    return result(values, indices)


def _whole(input, op, op_name):
    if input._data.size == 0:
        raise RuntimeError(f"{op_name}(): Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
    return op(input)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    """The largest value of `input`, or its maxima along `dim`, as torch.max.

    Without `dim`: a 0-d tensor, ties share the gradient. With an int `dim`: a named tuple of the
    values and their int64 indices (the gradient goes to the index); with `keepdim` the reduced
    dims stay, with size 1. With a tensor `other` (positionally in place of `dim`, or by keyword):
    `maximum(input, other)`. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, max, input, dim, keepdim, other=other)
    if isinstance(dim, Tensor) or other is not None:
        return maximum(input, dim if other is None else other)
    if dim is None:
        return _whole(input, _max_all, "max")
    return _along(input, dim, keepdim, np.argmax, _max_at, max_result, "max")


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    """The smallest value of `input`, or its minima along `dim`, as torch.min.

    Without `dim`: a 0-d tensor, ties share the gradient. With an int `dim`: a named tuple of the
    values and their int64 indices; with `keepdim` the reduced dims stay, with size 1. With a
    tensor `other`: `minimum(input, other)`. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, min, input, dim, keepdim, other=other)
    if isinstance(dim, Tensor) or other is not None:
        return minimum(input, dim if other is None else other)
    if dim is None:
        return _whole(input, _min_all, "min")
    return _along(input, dim, keepdim, np.argmin, _min_at, min_result, "min")


def _arg(input, dim, keepdim, argfn, op_name):
    a = input._data
    if a.dtype == np.bool_:
        raise RuntimeError(f"{op_name}(): does not support bool input")
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{op_name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        return _leaf(np.asarray(argfn(a), np.int64).reshape((1,) * a.ndim if keepdim else ()))
    d = _dim(dim, a.ndim, op_name)
    if a.ndim == 0:
        return _leaf(np.zeros((), np.int64))
    _check_nonempty(a, (d,), op_name)
    return _leaf(argfn(a, axis=d, keepdims=keepdim).astype(np.int64, copy=False))


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the first largest value of `input` along `dim`, as torch.argmax.

    With `dim` None the index is into the flattened input. With `keepdim` the reduced dims stay,
    with size 1. `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, argmax, input, dim, keepdim)
    return _arg(input, dim, keepdim, np.argmax, "argmax")


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the first smallest value of `input` along `dim`, as torch.argmin.

    With `dim` None the index is into the flattened input. With `keepdim` the reduced dims stay,
    with size 1. `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, argmin, input, dim, keepdim)
    return _arg(input, dim, keepdim, np.argmin, "argmin")


# ---- prod --------------------------------------------------------------------------------------
@primitive("prod", uses_out=True, raw=True)
def _prod(x, dims=None, keepdim=False, dtype=None):
    return x.prod(axis=dims, dtype=_acc(x, dtype), keepdims=keepdim)


def _prod_grad(g, out, x, dims=None, keepdim=False, dtype=None):
    """g times the product of the other entries: out / x, unless x has zeros."""
    a = _data(x)
    g = _keep(g, a.shape, dims, keepdim)
    zero = a == 0
    if not zero.any():
        return g * (_keep(out, a.shape, dims, keepdim) / x)
    return g * _prod_others(x, zero, dims)


def _prod_others(x, zero, dims):
    """Products leaving each entry out, without dividing by zero. With P the product of a
    slice's nonzero entries and c its number of zeros: P/x if c=0; P at the zero and P*z/x
    elsewhere if c=1; P*z' at each zero if c=2 (z, z': the zero entries, kept as terms so that
    second derivatives are exact too); 0 if c>2."""
    dt = _data(x).dtype
    c = zero.sum(axis=dims, keepdims=True)
    none, one, two = (_const(x, (c == k).astype(dt)) for k in (0, 1, 2))
    zmask = _const(x, zero)
    safe = where(zmask, 1.0, x)
    p = _prod(safe, dims=dims, keepdim=True)
    zsum = _sum(where(zmask, x, 0.0), dims=dims, keepdim=True)
    return p * where(zmask, one + two * (zsum - x), (none + one * zsum) / safe)


defvjp(_prod, _prod_grad)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of `input` over `dim` (every dim by default), as torch.prod.

    `dim` may also be a sequence of dims. With `keepdim` the reduced dims stay, with size 1.
    Integer and bool tensors multiply in int64 unless `dtype` is given. The gradient is exact where
    `input` has zeros. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, prod, input, dim, keepdim, dtype=dtype)
    return _prod(input, dims=_dims(dim, input._data.ndim, "prod"), keepdim=keepdim,
                 dtype=as_dtype(dtype))


# ---- logsumexp ---------------------------------------------------------------------------------
@primitive("logsumexp", uses_out=True, raw=True)
def _logsumexp(x, dims=None, keepdim=False):
    if not is_floating(x.dtype):
        x = x.astype(get_default_dtype())
    with np.errstate(divide="ignore"):     # log(0) = -inf for slices that are all -inf
        if x.size == 0:
            return np.log(np.exp(x).sum(axis=dims, keepdims=keepdim))
        m = x.max(axis=dims, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)     # shift by the max, unless it is infinite
        s = np.log(np.exp(x - m).sum(axis=dims, keepdims=True)) + m
    if keepdim:
        return s
    return s.reshape(()) if dims is None else s.squeeze(dims)


# the gradient is the softmax over dims
defvjp(_logsumexp, lambda g, out, x, dims=None, keepdim=False:
       _keep(g, _data(x).shape, dims, keepdim) * exp(x - _keep(out, _data(x).shape, dims, keepdim)))


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(`input`))) over `dim`, shifted by the max for stability, as torch.logsumexp.

    With `keepdim` the reduced dims stay, with size 1. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, logsumexp, input, dim, keepdim)
    return _logsumexp(input, dims=_dims(dim, input._data.ndim, "logsumexp"), keepdim=keepdim)


# ---- predicates and counts: never recorded -----------------------------------------------------
def _truth(input, dim, keepdim, name):
    a = input._data
    r = getattr(a, name)(axis=_dims(dim, a.ndim, name), keepdims=keepdim)
    return _leaf(r.astype(np.uint8) if a.dtype == np.uint8 else r)   # uint8 stays uint8


def all(input, dim=None, keepdim=False, *, out=None):
    """Whether every element of `input` (along `dim`) is nonzero, a bool tensor, as torch.all.

    With `keepdim` the reduced dims stay, with size 1. `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, all, input, dim, keepdim)
    return _truth(input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False, *, out=None):
    """Whether some element of `input` (along `dim`) is nonzero, a bool tensor, as torch.any.

    With `keepdim` the reduced dims stay, with size 1. `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, any, input, dim, keepdim)
    return _truth(input, dim, keepdim, "any")


def count_nonzero(input, dim=None):
    """The number of nonzero elements of `input`, as torch.count_nonzero.

    Counts over `dim` (an int or a tuple; every dim by default), as int64.
    """
    a = input._data
    return _leaf(np.asarray(np.count_nonzero(a, axis=_dims(dim, a.ndim, "count_nonzero")),
                            np.int64))


__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp",
           "all", "any", "count_nonzero"]

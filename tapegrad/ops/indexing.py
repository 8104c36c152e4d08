"""Indexing ops: `x[key]`, `x[key] = v`, gather/scatter and masks. Forward and VJP side by side.

Four primitives, all linear: `slice` (basic indexing, a NumPy view), `index` (advanced
indexing, a copy), `unindex` (the adjoint of both: g scattered into zeros, repeated indices
adding up) and `index_put` (an out-of-place write, behind `x[key] = v`, scatter and index_add).
Everything else builds the right key and calls one of them.
"""
import numpy as np

from .._convert import _dim
from .._tensor import Tensor, _leaf
from ..primitives import primitive, defvjp
from .elementwise import where
from .out import into, into_plain
from .shape import reshape_prim, broadcast_to

_BASIC = (int, slice, type(None), type(Ellipsis))


def _torch_words(err):
    """NumPy's indexing errors name axes and arrays; PyTorch's name dimensions and tensors."""
    return str(err).replace("axis", "dimension").replace("array", "tensor")


# ---- primitives ------------------------------------------------------------------------------
@primitive("slice", reads_inputs=False, view=True, raw=True)
def slice_prim(x, key):
    """x[key] for a basic key (ints, slices, None, Ellipsis): a view."""
    try:
        return x[key]
    except IndexError as err:
        raise IndexError(_torch_words(err)) from None


defvjp(slice_prim, lambda g, out, x, key: unindex(g, key, x.shape, False))


@primitive("index", reads_inputs=False, raw=True)
def index_prim(x, key):
    """x[key] for an advanced key (integer or boolean arrays among the items): a copy."""
    try:
        return x[key]
    except IndexError as err:
        raise IndexError(_torch_words(err)) from None


defvjp(index_prim, lambda g, out, x, key: unindex(g, key, x.shape, True))


@primitive("unindex", reads_inputs=False, raw=True)
def unindex(g, key, shape, accumulate):
    """Zeros of `shape` with g written at key; `accumulate` adds instead, so that an index
    repeated in the key collects every cotangent sent to it."""
    out = np.zeros(shape, g.dtype)
    if accumulate:
        np.add.at(out, key, g)
    else:
        out[key] = g
    return out


defvjp(unindex, lambda g, out, g0, key, shape, accumulate: _take(g, key))


@primitive("index_put", reads_inputs=False, raw=True)
def index_put_prim(x, value, key, accumulate=False):
    """A copy of x with value (broadcast) written at key, or added there with `accumulate`."""
    out = x.copy()
    try:
        if accumulate:
            np.add.at(out, key, value)
        else:
            out[key] = value
    except IndexError as err:
        raise IndexError(_torch_words(err)) from None
    except ValueError as err:
        raise RuntimeError(f"index_put: {_torch_words(err)}") from None
    return out


def _value_grad(g, out, x, value, key, accumulate=False):
    gv = _take(g, key)
    extra = np.ndim(value) - gv.ndim    # values may carry extra leading size-1 dimensions
    return reshape_prim(gv, (1,) * extra + tuple(gv.shape)) if extra > 0 else gv


# overwritten positions pass no gradient to x; accumulated ones pass it through
defvjp(index_put_prim,
       lambda g, out, x, value, key, accumulate=False:
           g if accumulate else index_put_prim(g, 0.0, key),
       _value_grad)
# `x[1:3] = v` (a basic key) is a write through a view in PyTorch: its node is CopySlices
index_put_prim.prim.grad_fn_for = lambda entry: "torch::autograd::CopySlices" if all(
    type(k) in _BASIC for k in entry.inputs[2]) else "IndexPutBackward0"


def _take(g, key):
    for k in key:
        if type(k) not in _BASIC:
            return index_prim(g, key)
    return slice_prim(g, key)


# ---- keys ------------------------------------------------------------------------------------
def _key(key):
    """(key as a tuple NumPy indexes with, whether it is basic): tensors and lists in it become
    index arrays, 0-d integer ones plain ints."""
    if type(key) is not tuple:
        key = (key,)
    items = []
    basic = True
    for k in key:
        if type(k) is slice and k.step is not None:
            _check_step(k.step)
        elif type(k) not in _BASIC:
            if isinstance(k, np.integer):
                k = int(k)
            else:
                k = _index_array(k)
                if k.ndim == 0 and k.dtype.kind in "iu":
                    k = int(k)
                else:
                    basic = False
        items.append(k)
    if basic and Ellipsis not in items:
        items.append(Ellipsis)     # so that a full integer index gives a 0-d view, not a scalar
    return tuple(items), basic


def _check_step(step):
    """PyTorch has no negative (or zero) slice steps: x[::-1] raises (use flip)."""
    if step <= 0:
        raise ValueError("step must be greater than zero (x[::-1] is torch.flip(x, [0]))"
                         if step else "slice step cannot be zero")


def _index_array(k):
    # a tensor's array is copied: the key outlives this call (backward reads it), and the
    # tensor may be modified in place before then
    a = k._data.copy() if isinstance(k, Tensor) else np.asarray(k)
    if a.dtype == np.uint8:
        return a.astype(bool)      # PyTorch's (deprecated) byte masks
    if a.dtype.kind in "biu":
        return a
    if a.size == 0:
        return a.astype(np.int64)  # x[[]] selects nothing
    raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got "
                     f"{a.dtype}")


def getitem(input, key):
    """Tensor.__getitem__: ints, slices (any step), None and Ellipsis give a view; integer and
    boolean tensors, lists or arrays index as in PyTorch (a copy; repeated indices accumulate)."""
    if type(key) is int or type(key) is slice and key.step is None:
        return slice_prim(input, (key, Ellipsis))
    key, basic = _key(key)
    return slice_prim(input, key) if basic else index_prim(input, key)


def _one_mask(key):
    """Whether the key's only advanced item is one boolean mask."""
    advanced = [k for k in key if type(k) not in _BASIC]
    return len(advanced) == 1 and advanced[0].dtype == np.bool_


def index_put(input, indices, values, accumulate=False):
    """A copy of `input` with `values` written at `indices`, as torch.index_put.

    `indices` is a tuple of index tensors.

    With `accumulate` the values are added instead (repeated indices then add up).
    """
    key, _ = _key(tuple(indices))
    return index_put_prim(input, values, key, bool(accumulate))


def select(input, dim, index):
    """The slice of `input` at `index` along `dim`, that dim removed (a view), as torch.select."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim, "select")
    n = input._data.shape[d]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return slice_prim(input, (slice(None),) * d + (index, Ellipsis))


# ---- gather and scatter: advanced keys along one dimension -----------------------------------
def _int_index(index, op, int32=True):
    # copied from a tensor: backward reads the index after the tensor may have changed
    a = index._data.copy() if isinstance(index, Tensor) else np.asarray(index)
    if a.dtype != np.int64 and not (int32 and a.dtype == np.int32):
        want = "int32/int64" if int32 else "int64 (Long)"
        raise RuntimeError(f"{op}(): Expected dtype {want} for index, got {a.dtype}")
    return a


def _in_range(idx, n, dim, op, exc=RuntimeError):
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= n:
            raise exc(f"{op}(): index {lo if lo < 0 else hi} is out of bounds for dimension "
                      f"{dim} with size {n}")


def _along(index, dim):
    """The advanced key that picks index[i, j, ...] along `dim` and i, j, ... elsewhere."""
    nd = index.ndim
    key = [np.arange(n).reshape((n,) + (1,) * (nd - 1 - d)) for d, n in enumerate(index.shape)]
    key[dim] = index
    return tuple(key)


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """Values of `input` picked along `dim` by `index`, as torch.gather.

    out[i][j] = input[index[i][j]][j] for dim=0 (likewise for other dims); `index` may be smaller
    than `input` along the other dimensions. `sparse_grad` is accepted for PyTorch's signature (the
    gradient is dense). `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, gather, input, dim, index, sparse_grad=sparse_grad)
    idx = _int_index(index, "gather")
    shape = input._data.shape
    d = _dim(dim, len(shape), "gather")
    if max(idx.ndim, 1) != max(len(shape), 1):
        raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as "
                           f"input tensor, got index {list(idx.shape)} and input {list(shape)}")
    if not shape or not idx.ndim:     # a 0-d input or index: gather on 1-d, then reshape
        x = input if shape else reshape_prim(input, (1,))
        return reshape_prim(gather(x, 0, idx.reshape(-1)), idx.shape)
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > shape[k]:
            raise RuntimeError(f"gather(): Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(shape)} apart "
                               f"from dimension {d}")
    _in_range(idx, shape[d], d, "gather")
    return index_prim(input, _along(idx, d))


def _scatter_key(input, dim, index, src, op):
    """Check a scatter's arguments; return its key and src cut to the index's shape."""
    idx = _int_index(index, op)
    shape = input._data.shape
    if not shape:
        raise RuntimeError(f"{op}(): expects a tensor with at least one dimension; reshape the "
                           "0-d input to 1-d first")
    d = _dim(dim, len(shape), op)
    if idx.ndim != len(shape):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"self tensor, got index {list(idx.shape)} and self {list(shape)}")
    ss = src._data.shape if isinstance(src, Tensor) else idx.shape
    if isinstance(src, Tensor) and src.dtype != input.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype, got "
                           f"{input.dtype} and {src.dtype}")
    if len(ss) != len(shape) or any(i > s for i, s in zip(idx.shape, ss)) or \
            any(i > n for k, (i, n) in enumerate(zip(idx.shape, shape)) if k != d):
        raise RuntimeError(f"{op}(): Expected index {list(idx.shape)} to be no larger than self "
                           f"{list(shape)} apart from dimension {d} and to be no larger size "
                           f"than src {list(ss)}")
    _in_range(idx, shape[d], d, op)
    if ss != idx.shape:
        src = slice_prim(src, tuple(slice(0, n) for n in idx.shape) + (Ellipsis,))
    return _along(idx, d), src


def scatter_add(input, dim, index, src):
    """A copy of `input` with `src` added at `index` along `dim`, as torch.scatter_add.

    For dim=0, src[i][j] is added at [index[i][j]][j]; repeated indices add up.
    """
    key, src = _scatter_key(input, dim, index, src, "scatter_add")
    return index_put_prim(input, src, key, True)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of `input` with `src` written at `index` along `dim`, as torch.scatter.

    `src` is a tensor, or give a number as `value`. With `reduce`='add' the values are added
    instead of written (other reductions are refused). With repeated indices the written value is
    one of them.
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    if reduce not in (None, "add"):
        raise RuntimeError(f"scatter(): reduce={reduce!r} is not supported by tapegrad; "
                           "use reduce='add' or scatter_add")
    key, src = _scatter_key(input, dim, index, src, "scatter")
    return index_put_prim(input, src, key, reduce == "add")


def index_select(input, dim, index, *, out=None):
    """The entries of `input` along `dim` listed by the 1-d `index`, as torch.index_select.

    Repeats are allowed.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, index_select, input, dim, index)
    idx = _int_index(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if input.ndim == 0:
        _dim(dim, 0, "index_select")
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        _in_range(idx, 1, 0, "index_select", IndexError)
        return slice_prim(input, (Ellipsis,))
    d = _dim(dim, input.ndim, "index_select")
    _in_range(idx, input._data.shape[d], d, "index_select", IndexError)
    return index_prim(input, (slice(None),) * d + (idx.reshape(-1),))


def index_add(input, dim, index, source, *, alpha=1):
    """torch.index_add: a copy of input with alpha * source[k] added at index[k] along dim."""
    idx = _int_index(index, "index_add")
    if idx.ndim > 1:
        raise IndexError("index_add(): Index is supposed to be a vector")
    shape = input._data.shape
    if not shape:
        raise RuntimeError("index_add(): expects a tensor with at least one dimension; reshape "
                           "the 0-d input to 1-d first")
    d = _dim(dim, len(shape), "index_add")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_add(): self ({input.dtype}) and source ({source.dtype}) must "
                           "have the same scalar type")
    if source._data.shape != shape[:d] + (idx.size,) + shape[d + 1:]:
        raise RuntimeError(f"index_add(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension, where it must be the number of "
                           f"indices ({idx.size}). Got self.shape = {list(shape)} source.shape = "
                           f"{list(source.shape)}")
    _in_range(idx, shape[d], d, "index_add", IndexError)
    src = source if alpha == 1 else source * alpha
    return index_put_prim(input, src, (slice(None),) * d + (idx.reshape(-1),), True)


def take_along_dim(input, indices, dim=None, *, out=None):
    """Values of `input` picked by `indices` along `dim`, as torch.take_along_dim.

    Like gather, with `input` and `indices` broadcast against each other along the other
    dimensions; with `dim` None, picks from the flattened input. `out`, if given, receives the
    result.
    """
    if out is not None:
        return into(out, take_along_dim, input, indices, dim)
    idx = _int_index(indices, "take_along_dim", int32=False)
    if dim is None:
        return gather(reshape_prim(input, (input._data.size,)), 0, idx.reshape(-1))
    shape = input._data.shape
    d = _dim(dim, len(shape), "take_along_dim")
    if idx.ndim != len(shape):
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {len(shape)} dimensions for input, and "
                           f"{idx.ndim} dimensions for indices")
    if not shape:
        return gather(input, d, idx)
    xs, ks = list(shape), list(idx.shape)
    xs[d] = ks[d] = 1
    try:
        both = np.broadcast_shapes(tuple(xs), tuple(ks))
    except ValueError:
        raise RuntimeError(f"take_along_dim(): input {list(shape)} and indices "
                           f"{list(idx.shape)} do not broadcast apart from dimension {d}") from None
    xs = both[:d] + (shape[d],) + both[d + 1:]
    ks = both[:d] + (idx.shape[d],) + both[d + 1:]
    x = input if xs == shape else broadcast_to(input, xs)
    return gather(x, d, np.broadcast_to(idx, ks))


# ---- masks -----------------------------------------------------------------------------------
def _bool_mask(mask, op):
    # copied from a tensor, as index arrays are: backward reads it after the tensor may change
    m = mask._data.copy() if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {m.dtype}")
    return m


def masked_fill(input, mask, value):
    """A copy of `input` with `value` where `mask` is True, as torch.masked_fill.

    `mask` broadcasts against `input`.

    `value` is a number or a 0-d tensor.
    """
    m = _bool_mask(mask, "masked_fill")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    out = where(m, value, input)
    return out if out.dtype == input.dtype else out.to(input.dtype)


def masked_select(input, mask, *, out=None):
    """The 1-d tensor of the entries of `input` where `mask` is True, as torch.masked_select.

    `mask` broadcasts against `input`.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, masked_select, input, mask)
    m = _bool_mask(mask, "masked_select")
    shape = input._data.shape
    try:
        both = np.broadcast_shapes(shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: the mask {list(m.shape)} does not broadcast with the "
                           f"input {list(shape)}") from None
    x = input if both == shape else broadcast_to(input, both)
    return index_prim(x, (np.broadcast_to(m, both),))


def nonzero(input, *, as_tuple=False, out=None):
    """The int64 indices of the nonzero entries of `input`, as torch.nonzero.

    An (N, ndim) tensor, or with `as_tuple` one 1-d tensor per dimension. Never differentiable.
    `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, nonzero, input, as_tuple=as_tuple)
    a = input._data if isinstance(input, Tensor) else np.asarray(input)
    if as_tuple:
        return tuple(_leaf(i) for i in np.nonzero(np.atleast_1d(a)))
    return _leaf(np.argwhere(a))


def argwhere(input):
    """torch.argwhere: nonzero(input)."""
    return nonzero(input)


__all__ = ["index_put", "select", "gather", "scatter_add", "scatter", "index_select",
           "index_add", "take_along_dim", "masked_fill", "masked_select", "nonzero", "argwhere"]

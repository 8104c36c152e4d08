"""In-place ops (`add_`, `relu_`, `copy_`, `x[key] = v`, ...), Tensor methods by `_methods.py`.

Writes go into the tensor's own array and bump its version counter, so that backward refuses
to use a value that changed after it was saved. While recording, the op is taped out of place
on a snapshot of the old value and the tensor takes the new entry as its history (PyTorch's
rebase). A write through a view rebases the view's base instead (`copy_slices`: the base's
old value with the view's new value written in); every view of that base then takes its
history again from the base when next used (`_tensor.fresh`), so views and bases never
disagree about what they hold.
"""
import numpy as np

from ._state import own_counter, state
from ._tensor import Tensor, _leaf, fresh, region, snapshot, take_history
from .primitives import primitive, defvjp
from .tape import bump_version, record
from .creation import numpy_rng
from .ops import conversion, elementwise, indexing, unary
from .ops import bitwise, pointwise, trig
from .ops import matrix_ops
from .ops.indexing import index_put_prim, _key, _one_mask, _torch_words


# ---- the write through a view, as primitives ---------------------------------------------------
def _flat_region(shape, chain):
    """Flat C-order positions, in the base, of the elements of the view that `chain` makes."""
    return region(np.arange(int(np.prod(shape))).reshape(shape), chain)


@primitive("copy_slices", reads_inputs=False, raw=True, grad_fn="torch::autograd::CopySlices")
def copy_slices(base, value, chain):
    """`base` with `value` written where the view `chain` of it lies (PyTorch's CopySlices)."""
    out = np.array(base, order="C")
    out.reshape(-1)[_flat_region(base.shape, chain)] = value
    return out


@primitive("fill_region", reads_inputs=False, raw=True)
def fill_region(x, chain):
    """`x` with zeros where the view `chain` of it lies: what the base keeps of a cotangent."""
    out = np.array(x, order="C")
    out.reshape(-1)[_flat_region(x.shape, chain)] = 0
    return out


defvjp(copy_slices, lambda g, out, base, value, chain: fill_region(g, chain),
       lambda g, out, base, value, chain: region(g, chain))
defvjp(fill_region, lambda g, out, x, chain: fill_region(g, chain))


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


# ---- history ---------------------------------------------------------------------------------
def _rebase(t, r):
    """After t's memory took r's values (recorded as r = op(old t, ...)), give t, or its base
    if t is a view, the new history; the family's views take theirs again when next used."""
    root = t._base
    if root is None:
        take_history(t, r)
    else:
        whole = record(copy_slices.prim, (snapshot(root), r), {"chain": t._view}, root._data)
        take_history(root, whole)
    own_counter(t).generation += 1    # a new generation: every view of the family is stale
    fresh(t)            # except the one just written (its retained grad moves on now)


# ---- in-place methods ------------------------------------------------------------------------
def _write_check(self, op):
    """Writes PyTorch refuses while grad mode is on: to a leaf that requires grad, or to a
    view of one."""
    if not state.grad_enabled:
        return
    fresh(self)
    if self._requires_grad and self._entry is None and not self._nograd_view:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                           "in-place operation. Wrap it in tapegrad.no_grad() or use "
                           "out-of-place ops.")
    base = self._base
    if base is not None and base._requires_grad and base._entry is None and not self._nograd_view:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used "
                           "in an in-place operation.")


def _recording(self, args):
    if not state.grad_enabled:
        return False
    if not (self._requires_grad or any(isinstance(a, Tensor) and fresh(a)._requires_grad for a in args)):
        return False
    if self._nograd_view:
        raise RuntimeError("A view was created in no_grad mode and is being modified inplace "
                           "with grad mode enabled. Given that this use case is ambiguous and "
                           "error-prone, it is forbidden. You can clarify your code by moving "
                           "both the view and the inplace either both inside the no_grad block "
                           "(if you don't want the inplace to be tracked) or both outside (if "
                           "you want the inplace to be tracked).")
    return True


def _reads_self(fn, self, args):
    """Whether the recorded rules of fn(self, *args) read self's old value."""
    prim = getattr(fn, "prim", None)
    if prim is None:
        return True       # a composite: assume it does
    if prim.reads is None:
        return prim.reads_inputs
    xs = (self,) + args
    return any(0 in r for x, r in zip(xs, prim.reads) if isinstance(x, Tensor) and x._requires_grad)


def _inplace(self, fn, *args, name=None, **params):
    """Run fn(self, *args) and write the result into self's array.

    While recording, fn is taped out of place on a snapshot of the old value (a copy only
    when its rules read that value), and the write rebases self's history.
    """
    name = name or fn.prim.name + "_"
    _write_check(self, name)
    if not _recording(self, args):
        if hasattr(fn, "prim"):     # bare arrays in: no recording, NumPy errors translated
            arrays = [a._data if isinstance(a, Tensor) else a for a in args]
            if not params and _into_self(self, fn.prim, arrays):
                return self
            out = fn(self._data, *arrays, **params)
        else:
            out = fn(self, *args, **params)._data
        _store(self, out, name)
        return self
    r = fn(snapshot(self, copy=_reads_self(fn, self, args)), *args, **params)
    _store(self, r._data, name)
    _rebase(self, r)
    return self


# Arithmetic that NumPy can compute straight into the tensor's memory when nothing records it
# (an optimizer's `p -= lr * p.grad` under no_grad): no temporary the size of the tensor, and
# one pass over it instead of two.
_UFUNCS = {elementwise.add.prim: np.add, elementwise.sub.prim: np.subtract,
           elementwise.mul.prim: np.multiply}


def _into_self(self, prim, arrays):
    """Run a binary arithmetic primitive in place with its NumPy ufunc when the result would
    have self's dtype and shape anyway (then it equals the out-of-place result, element for
    element); False, having changed nothing, when another path must decide."""
    ufunc = _UFUNCS.get(prim)
    if ufunc is None or len(arrays) != 1:
        return False
    a, y = self._data, arrays[0]
    if a.dtype.kind not in "fiu" or not a.flags.writeable:
        return False
    if type(y) is np.ndarray:
        if y.dtype != a.dtype or y.shape != a.shape and not _fits(y.shape, a.shape):
            return False
    elif not (type(y) in (float, int) and a.dtype.kind == "f"):
        return False
    ufunc(a, y, out=a)
    bump_version(self)
    return True


def _fits(shape, into):
    """Whether an operand of `shape` broadcasts to `into` without making it larger."""
    try:
        return len(shape) <= len(into) and np.broadcast_shapes(into, shape) == into
    except ValueError:
        return False


def _store(self, out, name):
    a = self._data
    out = np.asarray(out)
    if out.shape != a.shape:
        raise RuntimeError(f"{name}: output with shape {list(a.shape)} doesn't match the "
                           f"broadcast shape {list(out.shape)}")
    if not np.can_cast(out.dtype, a.dtype, "same_kind"):
        raise RuntimeError(f"{name}: result type {out.dtype} can't be cast to the desired "
                           f"output type {a.dtype}")
    if not a.flags.writeable:
        raise RuntimeError(f"{name}: the tensor's memory is read-only (it was expanded or "
                           "shares memory with a read-only array); clone() it first")
    np.copyto(a, out, casting="same_kind")
    bump_version(self)


def _overwrite(self, name, values):
    """Replace every element by `values` (no dependence on the old ones): fill_, uniform_..."""
    _write_check(self, name)
    if _recording(self, (values,)):
        if not isinstance(values, Tensor):
            values = _leaf(np.asarray(values))
        return _inplace(self, conversion.copy_from, values, name=name)
    _store(self, values._data if isinstance(values, Tensor) else values, name)
    return self


def zero_(self):
    """Fill the tensor with zeros, in place, as torch.Tensor.zero_."""
    return self.fill_(0)


def fill_(self, value):
    """Fill the tensor with `value`, in place, as torch.Tensor.fill_.

    `value` is a number or a 0-d tensor (then differentiable).
    """
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return _overwrite(self, "fill_", value)
    _write_check(self, "fill_")
    if state.grad_enabled and self._requires_grad:
        return _overwrite(self, "fill_", np.full(self._data.shape, value, self._data.dtype))
    if not self._data.flags.writeable:
        return _store(self, np.full(self._data.shape, value, self._data.dtype), "fill_")
    self._data.fill(value)        # the common case (zeroing a buffer): no temporary
    bump_version(self)
    return self


def copy_(self, src, non_blocking=False):
    """Copy `src` into the tensor, in place, as torch.Tensor.copy_.

    `src` is broadcast to the tensor's shape and cast to its dtype; gradients flow to `src`.
    `non_blocking` is accepted for PyTorch's signature.
    """
    src = src if isinstance(src, Tensor) else _leaf(np.asarray(src))
    return _inplace(self, conversion.copy_from, src)


def add_(self, other, alpha=1):
    """Add `alpha` * `other` to the tensor, in place, as torch.Tensor.add_."""
    return _inplace(self, elementwise.add, other if alpha == 1 else other * alpha)


def sub_(self, other, alpha=1):
    """Subtract `alpha` * `other` from the tensor, in place, as torch.Tensor.sub_."""
    return _inplace(self, elementwise.sub, other if alpha == 1 else other * alpha)


def mul_(self, other):
    """Multiply the tensor by `other`, in place, as torch.Tensor.mul_."""
    return _inplace(self, elementwise.mul, other)


def div_(self, other, *, rounding_mode=None):
    """Divide the tensor by `other`, in place, as torch.Tensor.div_.

    `rounding_mode` is as in `div` (None, 'trunc' or 'floor'). Aliases `divide_` and
    `true_divide_`.
    """
    if rounding_mode is None:
        return _inplace(self, elementwise.div, other)
    return _inplace(self, elementwise.div, other, rounding_mode=rounding_mode)


def pow_(self, exponent):
    """Raise the tensor to the power `exponent`, in place, as torch.Tensor.pow_."""
    return _inplace(self, elementwise.pow, exponent)


def clamp_(self, min=None, max=None):
    """Clamp the tensor into [`min`, `max`], in place, as torch.Tensor.clamp_.

    Numbers or None; alias `clip_`.
    """
    return _inplace(self, elementwise.clamp_prim, lo=_num(min), hi=_num(max))

clip_ = clamp_


def neg_(self):
    """Negate the tensor, in place, as torch.Tensor.neg_.

    Alias `negative_`.
    """
    return _inplace(self, elementwise.neg)


def exp_(self):
    """Replace the tensor by its exponential, in place, as torch.Tensor.exp_."""
    return _inplace(self, unary.exp)


def relu_(self):
    """Replace negative entries by 0, in place, as torch.Tensor.relu_."""
    return _inplace(self, elementwise.relu)


def sigmoid_(self):
    """Replace the tensor by its logistic sigmoid, in place, as torch.Tensor.sigmoid_."""
    return _inplace(self, unary.sigmoid)


def tanh_(self):
    """Replace the tensor by its hyperbolic tangent, in place, as torch.Tensor.tanh_."""
    return _inplace(self, unary.tanh)


def sqrt_(self):
    """Replace the tensor by its square root, in place, as torch.Tensor.sqrt_."""
    return _inplace(self, unary.sqrt)


def abs_(self):
    """Replace the tensor by its absolute value, in place, as torch.Tensor.abs_.

    Alias `absolute_`.
    """
    return _inplace(self, unary.abs)


# in-place forms of out-of-place ops: the op runs on a snapshot, so writing self afterwards
# cannot spoil what the op's rules read

def masked_fill_(self, mask, value):
    """Write `value` where `mask` (broadcast) is True, in place, as torch.Tensor.masked_fill_."""
    return _inplace(self, indexing.masked_fill, mask, value, name="masked_fill_")


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    """Write `src` at `index` along `dim`, in place, as torch.Tensor.scatter_.

    Or the number `value` instead of `src`. With `reduce`='add' the values are added instead of
    written (other reductions are refused); see `scatter`.
    """
    return _inplace(self, indexing.scatter, dim, index, src, value, reduce=reduce, name="scatter_")


def scatter_add_(self, dim, index, src):
    """Add `src` at `index` along `dim`, in place, as torch.Tensor.scatter_add_.

    Repeated indices add up.
    """
    return _inplace(self, indexing.scatter_add, dim, index, src, name="scatter_add_")


def index_add_(self, dim, index, source, *, alpha=1):
    """Add `alpha` * `source` at `index` along `dim`, in place, as torch.Tensor.index_add_."""
    return _inplace(self, indexing.index_add, dim, index, source, alpha=alpha, name="index_add_")


def index_put_(self, indices, values, accumulate=False):
    """Write `values` at `indices`, in place, as torch.Tensor.index_put_.

    `indices` is a tuple of index tensors. With `accumulate` the values are added instead.
    """
    return _inplace(self, indexing.index_put, indices, values, accumulate, name="index_put_")


def uniform_(self, *bounds, generator=None, **from_to):
    """Fill the tensor with numbers drawn uniformly from [from, to), as torch.Tensor.uniform_.

    `from` is a Python keyword, so the `bounds` come by position or as `**{"from": a, "to": b}`
    (`from_to`); they default to 0 and 1. Drawn from `generator` (the global one by default).
    """
    lo, hi = _uniform_bounds(bounds, from_to)
    return _overwrite(self, "uniform_", numpy_rng(generator).uniform(lo, hi, self._data.shape)
                           .astype(self._data.dtype))


def _uniform_bounds(bounds, named):
    if len(bounds) > 2:
        raise TypeError(f"uniform_() takes at most 2 positional bounds (from, to), got "
                        f"{len(bounds)}")
    unknown = set(named) - {"from", "to"}
    if unknown:
        raise TypeError(f"uniform_() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    got = dict(zip(("from", "to"), bounds))
    for name in named:
        if name in got:
            raise TypeError(f"uniform_() got multiple values for argument {name!r}")
    got.update(named)
    lo, hi = got.get("from", 0.0), got.get("to", 1.0)
    if lo > hi:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={lo} > to={hi}")
    return lo, hi


def normal_(self, mean=0.0, std=1.0, generator=None):
    """Fill the tensor with normal samples, in place, as torch.Tensor.normal_.

    Their mean is `mean` and their standard deviation `std`. Drawn from `generator` (the global one
    by default).
    """
    return _overwrite(self, "normal_", numpy_rng(generator).normal(mean, std, self._data.shape)
                           .astype(self._data.dtype))


def setitem(input, key, value):
    """Tensor.__setitem__: write value (broadcast) at key, in place; differentiable w.r.t. the
    tensor's other entries and w.r.t. value."""
    key, basic = _key(key)
    if state.grad_enabled:
        fresh(input)
        if isinstance(value, Tensor):
            fresh(value)
    if isinstance(value, Tensor):
        if not basic and value._data.dtype != input._data.dtype and not (
                value._data.size == 1 and _one_mask(key)):    # torch's masked_fill path
            raise RuntimeError(f"index_put_: Index put requires the source and destination "
                               f"dtypes match, got {input.dtype} for the destination and "
                               f"{value.dtype} for the source.")
        grad = value._requires_grad
    else:
        grad = False
        if not isinstance(value, (int, float, bool)):
            value = np.asarray(value)
    if state.grad_enabled and (input._requires_grad or grad):
        _inplace(input, index_put_prim, value, key)
        return
    a = input._data
    if not a.flags.writeable:
        raise RuntimeError("index_put_: the tensor's memory is read-only (it was expanded or "
                           "shares memory with a read-only array); clone() it first")
    try:
        a[key] = value._data if isinstance(value, Tensor) else value
    except IndexError as err:
        raise IndexError(_torch_words(err)) from None
    except ValueError as err:
        raise RuntimeError(f"index_put_: {_torch_words(err)}") from None
    bump_version(input)


# ---- in-place forms of elementwise math: fn(self, ...) written into self -----------------------
def _inplace_form(fn, name):
    """Tensor.<name>: fn's result written into self (its dtype must hold it, as in PyTorch)."""
    def method(self, *args, **params):
        return _inplace(self, fn, *args, name=name, **params)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"{fn.__name__} of the tensor written into it, in place, as "
                      f"torch.Tensor.{name}.\n\nThe arguments after self (`args`, keyword "
                      f"`params`) are those of tapegrad.{fn.__name__}; the result must fit the "
                      "tensor's dtype, as in PyTorch.")
    return method


sin_, cos_, tan_ = (_inplace_form(f, f.__name__ + "_") for f in (unary.sin, unary.cos, unary.tan))
log_, log1p_, log2_, log10_, expm1_, rsqrt_ = (
    _inplace_form(f, f.__name__ + "_") for f in (unary.log, unary.log1p, unary.log2, unary.log10,
                                                 unary.expm1, unary.rsqrt))
floor_, ceil_, round_, trunc_, frac_, sign_ = (
    _inplace_form(f, f.__name__ + "_") for f in (unary.floor, unary.ceil, unary.round, unary.trunc,
                                                 unary.frac, unary.sign))
reciprocal_ = _inplace_form(elementwise.reciprocal, "reciprocal_")
square_ = _inplace_form(elementwise.square, "square_")
asin_, acos_, atan_, sinh_, cosh_, asinh_, acosh_, atanh_, atan2_ = (
    _inplace_form(f, f.__name__ + "_") for f in (trig.asin, trig.acos, trig.atan, trig.sinh,
                                                 trig.cosh, trig.asinh, trig.acosh, trig.atanh,
                                                 trig.atan2))
arcsin_, arccos_, arctan_, arctan2_ = asin_, acos_, atan_, atan2_
arcsinh_, arccosh_, arctanh_ = asinh_, acosh_, atanh_
hypot_ = _inplace_form(pointwise.hypot, "hypot_")
copysign_ = _inplace_form(pointwise.copysign, "copysign_")
clamp_min_ = _inplace_form(pointwise.clamp_min, "clamp_min_")
clamp_max_ = _inplace_form(pointwise.clamp_max, "clamp_max_")
floor_divide_ = _inplace_form(elementwise.floor_divide, "floor_divide_")
remainder_ = _inplace_form(elementwise.remainder, "remainder_")
fmod_ = _inplace_form(elementwise.fmod, "fmod_")
lerp_ = _inplace_form(elementwise.lerp, "lerp_")
true_divide_ = divide_ = div_
negative_, absolute_ = neg_, abs_
bitwise_and_ = _inplace_form(bitwise.bitwise_and, "bitwise_and_")
bitwise_or_ = _inplace_form(bitwise.bitwise_or, "bitwise_or_")
bitwise_xor_ = _inplace_form(bitwise.bitwise_xor, "bitwise_xor_")
bitwise_not_ = _inplace_form(bitwise.bitwise_not, "bitwise_not_")
bitwise_left_shift_ = _inplace_form(bitwise.bitwise_left_shift, "bitwise_left_shift_")
bitwise_right_shift_ = _inplace_form(bitwise.bitwise_right_shift, "bitwise_right_shift_")
triu_ = _inplace_form(matrix_ops.triu, "triu_")
tril_ = _inplace_form(matrix_ops.tril, "tril_")

"""Tensor's in-place methods (`add_`, `relu_`, `copy_`, ...), bound onto Tensor by tensor.py.

Writes go into the tensor's own array and bump its version counter, so that backward refuses
to use a value that changed after it was saved. While recording, the op is taped out of place
on a snapshot of the old value and the tensor takes the new entry as its history (PyTorch's
rebase). A write through a view rebases the view's base instead (`copy_slices`: the base's
old value with the view's new value written in); every view of that base then takes its
history again from the base when next used (`tape.fresh`), so views and bases never
disagree about what they hold.
"""
import numpy as np

from .ops import elementwise as _ew, indexing as _idx
from .tape import (_state, _leaf, _record, bump_version, primitive, defvjp, region, snapshot,
                   take_history, fresh)
from .tensor import Tensor, _num


# ---- the write through a view, as primitives ---------------------------------------------------
def _flat_region(shape, chain):
    """Flat C-order positions, in the base, of the elements of the view that `chain` makes."""
    return region(np.arange(int(np.prod(shape))).reshape(shape), chain)


@primitive("copy_slices", linear=True, raw=True)
def copy_slices(base, value, chain):
    """`base` with `value` written where the view `chain` of it lies (PyTorch's CopySlices)."""
    out = np.array(base, order="C")
    out.reshape(-1)[_flat_region(base.shape, chain)] = value
    return out


@primitive("fill_region", linear=True, raw=True)
def fill_region(x, chain):
    """`x` with zeros where the view `chain` of it lies: what the base keeps of a cotangent."""
    out = np.array(x, order="C")
    out.reshape(-1)[_flat_region(x.shape, chain)] = 0
    return out


defvjp(copy_slices, lambda g, out, base, value, chain: fill_region(g, chain),
       lambda g, out, base, value, chain: region(g, chain))
defvjp(fill_region, lambda g, out, x, chain: fill_region(g, chain))


# ---- history ---------------------------------------------------------------------------------
def _rebase(t, r):
    """After t's memory took r's values (recorded as r = op(old t, ...)), give t, or its base
    if t is a view, the new history; the family's views take theirs again when next used."""
    root = t._base
    if root is None:
        take_history(t, r)
    else:
        whole = _record(copy_slices.prim, (snapshot(root), r), {"chain": t._view}, root._data)
        take_history(root, whole)
    t._vc[2] += 1       # a new generation: every view of the family is now stale
    fresh(t)            # except the one just written (its retained grad moves on now)


# ---- in-place methods ------------------------------------------------------------------------
def _write_check(self, op):
    """Writes PyTorch refuses while grad mode is on: to a leaf that requires grad, or to a
    view of one."""
    if not _state.grad_enabled:
        return
    fresh(self)
    if self._rg and self._entry is None and not self._nograd_view:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                           "in-place operation. Wrap it in tapegrad.no_grad() or use "
                           "out-of-place ops.")
    base = self._base
    if base is not None and base._rg and base._entry is None and not self._nograd_view:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used "
                           "in an in-place operation.")


def _recording(self, args):
    if not _state.grad_enabled:
        return False
    if not (self._rg or any(isinstance(a, Tensor) and fresh(a)._rg for a in args)):
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
    return any(0 in r for x, r in zip(xs, prim.reads) if isinstance(x, Tensor) and x._rg)


def _inplace(self, fn, *args, name=None, **params):
    """Run fn(self, *args) and write the result into self's array.

    While recording, fn is taped out of place on a snapshot of the old value (a copy only
    when its rules read that value), and the write rebases self's history.
    """
    name = name or fn.prim.name + "_"
    self._write_check(name)
    if not _recording(self, args):
        if hasattr(fn, "prim"):     # bare arrays in: no recording, NumPy errors translated
            out = fn(self._data, *[a._data if isinstance(a, Tensor) else a for a in args],
                     **params)
        else:
            out = fn(self, *args, **params)._data
        self._store(out, name)
        return self
    r = fn(snapshot(self, copy=_reads_self(fn, self, args)), *args, **params)
    self._store(r._data, name)
    _rebase(self, r)
    return self


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
    self._write_check(name)
    if _recording(self, (values,)):
        if not isinstance(values, Tensor):
            values = _leaf(np.asarray(values))
        return self._inplace(_ew.copy_from, values, name=name)
    self._store(values._data if isinstance(values, Tensor) else values, name)
    return self


def zero_(self):
    return self.fill_(0)


def fill_(self, value):
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return self._overwrite("fill_", value)
    self._write_check("fill_")
    if _state.grad_enabled and self._rg:
        return self._overwrite("fill_", np.full(self._data.shape, value, self._data.dtype))
    if not self._data.flags.writeable:
        return self._store(np.full(self._data.shape, value, self._data.dtype), "fill_")
    self._data.fill(value)        # the common case (zeroing a buffer): no temporary
    bump_version(self)
    return self


def copy_(self, src, non_blocking=False):
    src = src if isinstance(src, Tensor) else _leaf(np.asarray(src))
    return self._inplace(_ew.copy_from, src)


def add_(self, other, alpha=1):
    return self._inplace(_ew.add, other if alpha == 1 else other * alpha)


def sub_(self, other, alpha=1):
    return self._inplace(_ew.sub, other if alpha == 1 else other * alpha)


def mul_(self, other):
    return self._inplace(_ew.mul, other)


def div_(self, other):
    return self._inplace(_ew.div, other)


def pow_(self, exponent):
    return self._inplace(_ew.pow, exponent)


def clamp_(self, min=None, max=None):
    return self._inplace(_ew.clamp_prim, lo=_num(min), hi=_num(max))

clip_ = clamp_


def neg_(self):
    return self._inplace(_ew.neg)


def exp_(self):
    return self._inplace(_ew.exp)


def relu_(self):
    return self._inplace(_ew.relu)


def sigmoid_(self):
    return self._inplace(_ew.sigmoid)


def tanh_(self):
    return self._inplace(_ew.tanh)


def sqrt_(self):
    return self._inplace(_ew.sqrt)


def abs_(self):
    return self._inplace(_ew.abs)


# in-place forms of out-of-place ops: the op runs on a snapshot, so writing self afterwards
# cannot spoil what the op's rules read

def masked_fill_(self, mask, value):
    return self._inplace(_idx.masked_fill, mask, value, name="masked_fill_")


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    return self._inplace(_idx.scatter, dim, index, src, value, reduce=reduce, name="scatter_")


def scatter_add_(self, dim, index, src):
    return self._inplace(_idx.scatter_add, dim, index, src, name="scatter_add_")


def index_add_(self, dim, index, source, *, alpha=1):
    return self._inplace(_idx.index_add, dim, index, source, alpha=alpha, name="index_add_")


def index_put_(self, indices, values, accumulate=False):
    return self._inplace(_idx.index_put, indices, values, accumulate, name="index_put_")


def uniform_(self, a=0.0, b=1.0, generator=None):
    from .creation import _gen
    return self._overwrite("uniform_", _gen(generator).uniform(a, b, self._data.shape)
                           .astype(self._data.dtype))


def normal_(self, mean=0.0, std=1.0, generator=None):
    from .creation import _gen
    return self._overwrite("normal_", _gen(generator).normal(mean, std, self._data.shape)
                           .astype(self._data.dtype))


__iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_


# bound onto Tensor by tensor.py
METHODS = ("zero_ fill_ _write_check _inplace _store _overwrite copy_ add_ sub_ mul_ div_ pow_ "
           "clamp_ clip_ neg_ exp_ relu_ sigmoid_ tanh_ sqrt_ abs_ masked_fill_ scatter_ "
           "scatter_add_ index_add_ index_put_ uniform_ normal_ "
           "__iadd__ __isub__ __imul__ __itruediv__ __ipow__").split()

"""Tensor's in-place methods (`add_`, `relu_`, `copy_`, ...), bound onto Tensor by tensor.py.

Writes go into the tensor's own array and bump its version counter, so that backward refuses
to use a value that changed after it was saved. While recording, the op is taped out of place
and the tensor takes the new entry as its history (PyTorch's rebase).
"""
import numpy as np

from .ops import elementwise as _ew, indexing as _idx
from .tape import _state, _leaf, bump_version
from .tensor import Tensor, _num


def zero_(self):
    return self.fill_(0)


def fill_(self, value):
    value = value.item() if isinstance(value, Tensor) else value
    self._write_check("fill_")
    self._data.fill(value)
    bump_version(self)
    return self


def _write_check(self, op):
    """In-place ops on leaves that require grad are refused while grad mode is on."""
    if self._rg and self._entry is None and _state.grad_enabled:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                           "in-place operation. Wrap it in tapegrad.no_grad() or use "
                           "out-of-place ops.")


def _inplace(self, op, *args, **params):
    """Run prim(self, *args) and write the result into self's array.

    While recording, the op is taped out of place on a snapshot of the old value, and self
    takes the new entry as its grad_fn (PyTorch's history rebase); a copy is taken only
    when the rule needs the old values.
    """
    prim = op.prim
    name = prim.name + "_"
    self._write_check(name)
    recording = _state.grad_enabled and (self._rg or any(isinstance(a, Tensor) and a._rg
                                                     for a in args))
    if not recording:
        out = op(self._data, *[a._data if isinstance(a, Tensor) else a for a in args],
                 **params)      # bare arrays in: no recording, NumPy errors translated
        self._store(out, name)
        return self
    if self._base is not None and (self._base._rg or self._rg):
        raise RuntimeError(f"{name}: in-place modification of a view of a tensor that "
                           "requires grad is not supported; clone() the view first")
    keep = prim.reads_inputs     # the rule reads the old value: snapshot it
    old = _leaf(self._data.copy() if keep else self._data)
    if not keep:
        old._vc = self._vc
    old._rg, old._entry, old._index = self._rg, self._entry, self._index
    r = op(old, *args, **params)
    self._store(r._data, name)
    self._rg, self._entry, self._index = True, r._entry, r._index
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


def copy_(self, src):
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


# in-place forms of out-of-place ops: copy_ records the write and rebases history

def masked_fill_(self, mask, value):
    return self.copy_(_idx.masked_fill(self, mask, value))


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    return self.copy_(_idx.scatter(self, dim, index, src, value, reduce=reduce))


def scatter_add_(self, dim, index, src):
    return self.copy_(_idx.scatter_add(self, dim, index, src))


def index_add_(self, dim, index, source, *, alpha=1):
    return self.copy_(_idx.index_add(self, dim, index, source, alpha=alpha))


def index_put_(self, indices, values, accumulate=False):
    return self.copy_(_idx.index_put(self, indices, values, accumulate))


def uniform_(self, a=0.0, b=1.0, generator=None):
    from .creation import _gen
    return self._fill_random("uniform_", _gen(generator).uniform(a, b, self._data.shape))


def normal_(self, mean=0.0, std=1.0, generator=None):
    from .creation import _gen
    return self._fill_random("normal_", _gen(generator).normal(mean, std, self._data.shape))


def _fill_random(self, name, values):
    self._write_check(name)
    self._store(values, name)
    return self

__iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_


# bound onto Tensor by tensor.py
METHODS = ("zero_ fill_ _write_check _inplace _store copy_ add_ sub_ mul_ div_ pow_ clamp_ "
           "clip_ neg_ exp_ relu_ sigmoid_ tanh_ sqrt_ abs_ masked_fill_ scatter_ scatter_add_ "
           "index_add_ index_put_ uniform_ normal_ _fill_random "
           "__iadd__ __isub__ __imul__ __itruediv__ __ipow__").split()

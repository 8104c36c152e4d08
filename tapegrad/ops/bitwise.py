"""Bitwise ops on integer and bool tensors (`&`, `|`, `^`, `~`, `<<`, `>>`): integer results,
so never recorded; floating operands raise, as in PyTorch (on bools they are the logical ops).
"""
import numpy as np

from ..dtypes import promote
from .._tensor import _leaf
from .out import into_plain
from .unary import _data


def _integer_only(name, *arrays):
    for a in arrays:
        kind = a.dtype.kind if isinstance(a, np.ndarray) else ("f" if isinstance(a, float) else "i")
        if kind not in "biu":
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"{getattr(a, 'dtype', type(a).__name__)} operands")


def _bitwise(name, ufunc):
    def op(input, other, *, out=None):
        if out is not None:
            return into_plain(out, op, input, other)
        x, y = promote(_data(input), _data(other))
        _integer_only(name, x, y)
        return _leaf(np.asarray(ufunc(x, y)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Elementwise {name} of `input` and `other`, as torch.{name}.\n\n"
                  "Integer and bool tensors only (broadcast); never recorded. `out`, if given, "
                  "receives the result.")
    return op


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)
bitwise_left_shift = _bitwise("bitwise_left_shift", np.left_shift)
bitwise_right_shift = _bitwise("bitwise_right_shift", np.right_shift)


def bitwise_not(input, *, out=None):
    """Elementwise ~`input` (logical NOT on bools), as torch.bitwise_not.

    Integer and bool tensors only; never recorded. `out`, if given, receives the result.
    """
    if out is not None:
        return into_plain(out, bitwise_not, input)
    a = _data(input)
    _integer_only("bitwise_not", a)
    return _leaf(np.invert(a))


def invert(input):
    """Tensor.__invert__ (`~`): bitwise_not, a TypeError on floats as PyTorch's operator."""
    a = _data(input)
    if a.dtype.kind not in "biu":
        raise TypeError(f"~ (operator.invert) is only implemented on integer and Boolean-type "
                        f"tensors (got {a.dtype})")
    return _leaf(np.invert(a))


__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift"]

"""Questions about dtypes and tensors: torch.finfo, iinfo, promote_types, result_type,
can_cast, is_floating_point, is_complex, is_nonzero, with PyTorch's promotion rules."""
import numpy as np

from . import dtypes
from ._tensor import Tensor


class finfo:
    """torch.finfo(type=None): the limits of a floating point dtype (default: the default dtype)."""

    def __init__(self, type=None):      # noqa: A002 (PyTorch's name)
        dt = dtypes.as_dtype(type if type is not None else dtypes.get_default_dtype())
        if not dtypes.is_floating(dt):
            raise TypeError(f"torch.finfo() requires a floating point input type, got "
                            f"{dtypes.public(dt)}; use torch.iinfo to handle 'torch.iinfo'")
        info = np.finfo(dt)     # (ml_dtypes teaches np.finfo bfloat16)
        self.bits, self.dtype = info.bits, str(dt)
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)    # torch: 10**-digits, exactly

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo(type): the limits of an integer (or bool) dtype."""

    def __init__(self, type):      # noqa: A002 (PyTorch's name)
        dt = dtypes.as_dtype(type)
        if dt.kind not in "iub":
            raise TypeError(f"torch.iinfo() requires an integer input type, got "
                            f"{dtypes.public(dt)}; use torch.finfo to handle 'torch.finfo'")
        info = np.iinfo(np.uint8 if dt.kind == "b" else dt)
        self.bits, self.dtype = info.bits, str(dt)
        self.min, self.max = (0, 1) if dt.kind == "b" else (int(info.min), int(info.max))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def _promote(a, b):
    """PyTorch's promotion of two dtypes: the higher category wins outright (int16 with float16
    is float16, where NumPy says float32); within one category, NumPy's rule agrees."""
    ca, cb = dtypes.category(a), dtypes.category(b)
    return a if ca > cb else b if cb > ca else np.promote_types(a, b)


def promote_types(type1, type2):
    """The smallest dtype both `type1` and `type2` cast to, as torch.promote_types.

    The higher category wins outright (int16 with float16 is float16, where NumPy says float32).
    """
    return dtypes.public(_promote(dtypes.as_dtype(type1), dtypes.as_dtype(type2)))


def can_cast(from_, to):
    """Whether a cast from dtype `from_` to dtype `to` is allowed, as torch.can_cast.

    False for a cast to a lower category (float to int, int to bool).
    """
    return dtypes.category(dtypes.as_dtype(from_)) <= dtypes.category(dtypes.as_dtype(to))


def _combine(higher, lower):
    """PyTorch's combine_categories: a lower-priority operand only decides the dtype when its
    category is higher (a float scalar makes an int tensor float, an int scalar does not)."""
    if higher is None:
        return lower
    if lower is None or dtypes.is_floating(higher):
        return higher
    if higher.kind == "b" or dtypes.is_floating(lower):
        return _promote(higher, lower)
    return higher


def _scalar_dtype(x):
    if isinstance(x, (bool, np.bool_)):
        return dtypes.bool
    if isinstance(x, (int, np.integer)):
        return dtypes.int64
    if isinstance(x, (float, np.floating)):
        return dtypes.as_dtype(dtypes.get_default_dtype())
    raise TypeError(f"result_type: expected a Tensor or a Python number, got {type(x).__name__}")


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op on `tensor1` and `tensor2` computes in, as torch.result_type.

    Tensors with dimensions decide first, then 0-d tensors, then Python numbers.
    """
    found = {2: None, 1: None, 0: None}     # by priority: dimensioned, 0-d, number
    for x in (tensor1, tensor2):
        if isinstance(x, Tensor):
            prio, dt = (2 if x.ndim else 1), x._data.dtype
        else:
            prio, dt = 0, _scalar_dtype(x)
        found[prio] = dt if found[prio] is None else _promote(found[prio], dt)
    return dtypes.public(_combine(found[2], _combine(found[1], found[0])))


def is_floating_point(input):
    """Whether the dtype of `input` is a floating point one, as torch.is_floating_point."""
    return dtypes.is_floating(input._data.dtype)


def is_complex(input):
    """Whether `input` is complex, as torch.is_complex: False for every dtype tapegrad has."""
    return input._data.dtype.kind == "c"


def is_nonzero(input):
    """The truth of the one-element tensor `input`, as torch.is_nonzero.

    Raises for any other size.
    """
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()))

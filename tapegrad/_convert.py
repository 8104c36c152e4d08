"""Python data to NumPy arrays with PyTorch's dtype rules, shared by `tensor()` and `Tensor()`.

Callers unwrap tensors first (this layer knows only NumPy).
"""
import numpy as np

from . import dtypes


def infer(data):
    """`data` as an array of the dtype PyTorch gives it: Python floats -> the default float
    dtype, Python ints -> int64; arrays and NumPy scalars keep theirs."""
    a = np.asarray(data)
    from_python = not isinstance(data, np.ndarray) and not _holds_numpy(data)
    if a.dtype.kind == "f" and from_python and a.dtype != np.float16:
        return a.astype(dtypes.get_default_dtype())
    if a.dtype.kind in "iu" and from_python:
        return a.astype(np.int64)
    if a.dtype.kind == "O":
        raise TypeError(f"tensor: could not infer dtype of {type(data).__name__}")
    return a


def _holds_numpy(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return isinstance(data, (np.ndarray, np.generic))


def size_of(size, op):
    """A shape from `*size` or one tuple/list, with PyTorch's error for negative dimensions."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension: {list(size)}")
    return size


_INTS = (int, np.integer)


def legacy_array(args, dtype, name):
    """The array of PyTorch's legacy constructors `Tensor(...)`, `FloatTensor(...)`: from a
    sequence, an ndarray (shared when its dtype already fits), or `*size` (zeros; the caller
    spreads a `Size` argument into `args`)."""
    if not args:
        return np.zeros(0, dtype)
    first = args[0]
    if all(isinstance(a, _INTS) for a in args):
        return np.zeros(size_of(args, name), dtype)
    if len(args) > 1 or not isinstance(first, (list, tuple, np.ndarray)):
        raise TypeError(f"{name}(): data must be a sequence (got "
                        f"{', '.join(type(a).__name__ for a in args)})")
    try:
        return np.asarray(first, dtype=dtype) if isinstance(first, np.ndarray) \
            else np.array(first, dtype=dtype)
    except ValueError as err:
        raise TypeError(f"{name}(): could not convert the data to {dtype}: {err}") from None


def _dim(dim, ndim, op):
    """Wrap a possibly negative dim into range, with PyTorch's IndexError otherwise."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n

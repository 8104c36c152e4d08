"""Dtypes (NumPy's dtype objects under PyTorch's names) and PyTorch's type promotion."""
import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001  (PyTorch's name)

_DEFAULT = [float32]
_KNOWN = {float16, float32, float64, int8, uint8, int16, int32, int64, bool}


def get_default_dtype():
    return _DEFAULT[0]


def set_default_dtype(d):
    """torch.set_default_dtype: the dtype of tensors made from Python floats."""
    d = as_dtype(d)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating point types are supported, got {d}")
    _DEFAULT[0] = d


def as_dtype(d):
    """Accept a NumPy dtype, a NumPy scalar type, a PyTorch-style name, or Python's bool/int/float."""
    if d is None:
        return None
    if d is _py_float:
        return _DEFAULT[0]
    if d is _py_int:
        return int64
    if d is _py_bool:
        return bool
    try:
        dt = np.dtype(d)
    except TypeError:
        raise TypeError(f"invalid dtype {d!r}") from None
    if dt not in _KNOWN:
        raise TypeError(f"unsupported dtype {dt}; tapegrad supports "
                        + ", ".join(sorted(str(k) for k in _KNOWN)))
    return dt


_py_float, _py_int, _py_bool = type(1.0), type(1), type(True)
_ndarray = np.ndarray


def is_floating(dt):
    return dt.kind == "f"


def _category(dt):
    return {"b": 0, "u": 1, "i": 1, "f": 2}[dt.kind]


_pair_cache = {}


def _pair(dx, zx, dy, zy):
    """Result dtype of two tensors; zx/zy: whether each is 0-dimensional (PyTorch's rules:
    a 0-d tensor only decides the dtype when its category is higher than the other's)."""
    key = (dx, zx, dy, zy)
    r = _pair_cache.get(key)
    if r is None:
        cx, cy = _category(dx), _category(dy)
        if zx != zy:
            (dz, cz), (dn, cn) = ((dx, cx), (dy, cy)) if zx else ((dy, cy), (dx, cx))
            r = dz if cz > cn else dn
        elif cx != cy:
            r = dx if cx > cy else dy
        else:
            r = np.promote_types(dx, dy)
        _pair_cache[key] = r
    return r


def promote(x, y):
    """Cast two operands (arrays or Python scalars) to the dtype PyTorch would compute in.

    NumPy 2 already matches PyTorch for an array with a Python int or a float array with a
    Python float; the cases fixed here are mixed array dtypes and int arrays with Python floats.
    Called by every binary op: the common cases return first.
    """
    if type(x) is _ndarray:
        if type(y) is _ndarray:
            dx, dy = x.dtype, y.dtype
            if dx is dy or dx == dy:
                return x, y
            dt = _pair(dx, x.ndim == 0, dy, y.ndim == 0)
            return (x if dx == dt else x.astype(dt)), (y if dy == dt else y.astype(dt))
        if type(y) is _py_float and x.dtype.kind == "f":
            return x, y
        return _with_scalar(x, y), y
    if type(y) is _ndarray:
        return x, _with_scalar(y, x)
    return x, y


def _with_scalar(a, s):
    if type(s) is _py_float and a.dtype.kind in "biu":
        return a.astype(_DEFAULT[0])
    if type(s) is _py_int and a.dtype.kind == "b":
        return a.astype(int64)
    return a

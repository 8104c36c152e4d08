"""Dtypes (NumPy's dtype objects under PyTorch's names) and PyTorch's type promotion.

Internal code works with NumPy dtypes (`float32` here, `t._data.dtype`); users see `dtype`
objects (`tapegrad.float32`, `t.dtype`) that print as PyTorch's but compare and hash as NumPy's.
"""
import numpy as np

try:        # torch.bfloat16 is ml_dtypes' bfloat16 (the NumPy dtype JAX uses): optional
    import ml_dtypes
except ImportError:
    ml_dtypes = None

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)  # noqa: A001  (PyTorch's name)


class _Default:
    """The dtype of tensors made from Python floats (`set_default_dtype`)."""

    float = float32


_KNOWN = {float16, float32, float64, int8, uint8, int16, int32, int64, bool}
_BF16 = None        # bfloat16's NumPy dtype, when ml_dtypes is installed
if ml_dtypes is not None:
    bfloat16 = _BF16 = np.dtype(ml_dtypes.bfloat16)
    _KNOWN.add(bfloat16)
NO_BFLOAT16 = "torch.bfloat16 needs the ml_dtypes package: pip install ml_dtypes"


def is_floating(dt):
    """Whether NumPy dtype `dt` is a floating point dtype: float16/32/64 or bfloat16 (whose
    NumPy kind is 'V')."""
    kind = dt.kind
    return kind == "f" or kind == "V" and _BF16 is not None and dt == _BF16


def wide(dt):
    """The dtype to compute `dt` in where NumPy lacks a fast loop: float32 for bfloat16 (as
    PyTorch's CPU kernels accumulate bfloat16 in float32), else `dt` itself."""
    return float32 if dt.kind == "V" and is_floating(dt) else dt


def get_default_dtype():
    """torch.get_default_dtype: the public dtype of tensors made from Python floats."""
    return _PUBLIC[_Default.float]


def set_default_dtype(d):
    """Set the dtype of tensors made from Python floats to `d`, as torch.set_default_dtype.

    `d` must be a floating point dtype.
    """
    d = as_dtype(d)
    if not is_floating(d):
        raise TypeError(f"set_default_dtype: only floating point types are supported, got {d}")
    _Default.float = d


def as_dtype(d):
    """The NumPy dtype of a public `dtype`, a NumPy dtype or scalar type, a tensor type
    (`FloatTensor`), a name ('torch.float32', 'torch.FloatTensor'), or Python's bool/int/float."""
    if d is None:
        return None
    if type(d) is dtype:
        return d.dtype
    if isinstance(d, np.dtype) and d in _KNOWN:
        return d
    if isinstance(d, str) and d.startswith("torch."):
        return _from_torch_name(d)
    if _BF16 is None and isinstance(d, str) and d == "bfloat16":
        raise TypeError(NO_BFLOAT16)
    if isinstance(getattr(d, "dtype", None), dtype):     # tapegrad.FloatTensor and the like
        return d.dtype.dtype
    if d is _py_float:
        return _Default.float
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
_PY_TYPES = (_py_float, _py_int, _py_bool, complex)


class dtype:
    """A tensor element type, as torch.dtype: prints as `torch.float32`.

    It is equal to, and hashed as, its NumPy dtype `np_dtype`, and accepted by NumPy wherever a
    dtype is (through the `dtype` attribute NumPy looks for).
    """

    __slots__ = ("dtype", "kind", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "_name")

    def __init__(self, np_dtype):
        self.dtype = np_dtype
        self.kind = np_dtype.kind
        self.itemsize = np_dtype.itemsize
        self.is_floating_point = is_floating(np_dtype)
        self.is_complex = np_dtype.kind == "c"
        self.is_signed = np_dtype.kind in "fic" or self.is_floating_point
        self._name = "torch." + str(np_dtype)

    def __repr__(self):
        return self._name

    __str__ = __repr__

    def __hash__(self):
        return hash(self.dtype)

    def __eq__(self, other):
        if type(other) is dtype:
            return self.dtype == other.dtype
        # Python's float/int/bool are not dtypes here (torch.float32 != float), NumPy's are
        if isinstance(other, (np.dtype, str)) or (isinstance(other, type) and
                                                   other not in _PY_TYPES):
            try:
                return self.dtype == np.dtype(other)
            except TypeError:
                return False
        return NotImplemented

    def __getattr__(self, name):
        if name == "dtype":            # not yet set: never recurse
            raise AttributeError(name)
        return getattr(self.dtype, name)      # the rest of NumPy's dtype API: .name, .type, ...

    def __reduce__(self):
        return _public_by_name, (str(self.dtype),)


def _public_by_name(name):
    return _PUBLIC[np.dtype(name)]


def public(np_dtype):
    """The public `dtype` object of a NumPy dtype (NumPy's own for dtypes tapegrad lacks)."""
    p = _PUBLIC.get(np_dtype)
    return np_dtype if p is None else p


_PUBLIC = {d: dtype(d) for d in _KNOWN}

# torch.FloatTensor and friends: the legacy tensor type of each dtype, by name
TENSOR_TYPES = {"FloatTensor": float32, "DoubleTensor": float64, "HalfTensor": float16,
                "LongTensor": int64, "IntTensor": int32, "ShortTensor": int16,
                "CharTensor": int8, "ByteTensor": uint8, "BoolTensor": bool}
if _BF16 is not None:
    TENSOR_TYPES["BFloat16Tensor"] = _BF16
_TYPE_NAME = {d: "torch." + n for n, d in TENSOR_TYPES.items()}


def type_name(np_dtype):
    """`Tensor.type()`: 'torch.FloatTensor' for float32, and so on."""
    return _TYPE_NAME[np_dtype]


def _from_torch_name(name):
    """'torch.float32' or 'torch.FloatTensor' -> the NumPy dtype."""
    short = name[len("torch."):]
    d = TENSOR_TYPES.get(short)
    if d is None:
        d = _TORCH_ALIASES.get(short)
    if d is None:
        if _BF16 is None and short in ("bfloat16", "BFloat16Tensor"):
            raise TypeError(NO_BFLOAT16)
        raise TypeError(f"invalid type: {name!r}")
    return d


_TORCH_ALIASES = {"float16": float16, "half": float16, "float32": float32, "float": float32,
                  "float64": float64, "double": float64, "int8": int8, "uint8": uint8,
                  "int16": int16, "short": int16, "int32": int32, "int": int32,
                  "int64": int64, "long": int64, "bool": bool, "bfloat16": _BF16}
_ndarray = np.ndarray


def category(dt):
    """PyTorch's dtype category: 0 bool, 1 integer, 2 floating (bfloat16 too), 3 complex."""
    return 2 if dt.kind == "V" and is_floating(dt) else _CATEGORIES[dt.kind]


_CATEGORIES = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


_pair_cache = {}


def _pair(dx, zx, dy, zy):
    """Result dtype of two tensors; zx/zy: whether each is 0-dimensional (PyTorch's rules:
    a 0-d tensor only decides the dtype when its category is higher than the other's)."""
    key = (dx, zx, dy, zy)
    r = _pair_cache.get(key)
    if r is None:
        cx, cy = category(dx), category(dy)
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
        return a.astype(_Default.float)
    if type(s) is _py_int and a.dtype.kind == "b":
        return a.astype(int64)
    return a

"""Tensor creation and random numbers, with PyTorch's signatures and dtype defaults."""
import numpy as np

from . import dtypes
from .tape import _leaf, _state
from .tensor import Tensor, Size

_rng = [np.random.default_rng()]


def manual_seed(seed):
    """Seed the global generator (a NumPy PCG64 Generator; streams differ from PyTorch's)."""
    _rng[0] = np.random.default_rng(int(seed))
    return Generator().manual_seed(seed)


def seed():
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(s)
    return s


class Generator:
    """torch.Generator: a seedable source of random numbers for the creation functions."""

    def __init__(self, device="cpu"):
        self._np = np.random.default_rng()

    def manual_seed(self, seed):
        self._np = np.random.default_rng(int(seed))
        return self


def _gen(generator):
    return _rng[0] if generator is None else generator._np


def _make(arr, dtype, requires_grad, op):
    if dtype is not None:
        arr = arr.astype(dtypes.as_dtype(dtype), copy=False)
    t = _leaf(arr)
    if requires_grad:
        if arr.dtype.kind != "f":
            raise RuntimeError(f"{op}: only Tensors of floating point dtype can require "
                               f"gradients, got {arr.dtype}")
        t._rg = True
    return t


def _infer(data):
    """The dtype PyTorch gives a Python value: floats -> default float, ints -> int64."""
    a = np.asarray(data)
    if a.dtype.kind == "f" and not isinstance(data, np.ndarray) and a.dtype != np.float16:
        if not _holds_numpy(data):
            return a.astype(dtypes.get_default_dtype())
    if a.dtype.kind in "iu" and not isinstance(data, np.ndarray) and not _holds_numpy(data):
        return a.astype(np.int64)
    if a.dtype.kind == "O":
        raise TypeError(f"tensor: could not infer dtype of {type(data).__name__}")
    return a


def _holds_numpy(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return isinstance(data, (np.ndarray, np.generic))


def _unwrap(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [_unwrap(d) for d in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """torch.tensor: always copies `data`."""
    _device(device)
    data = _unwrap(data)
    if dtype is not None:
        arr = np.array(data, dtype=dtypes.as_dtype(dtype), copy=True)
    else:
        arr = np.array(_infer(data), copy=True)
    return _make(arr, None, requires_grad, "tensor")


def legacy_new(args, dtype, name, device=None):
    """PyTorch's legacy constructors `Tensor(...)`, `FloatTensor(...)`: from a sequence, an
    ndarray (shared when its dtype already fits) or a tensor (an alias), or `*size` (zeros)."""
    _device(device)
    dt = dtypes._DEFAULT[0] if dtype is None else dtype
    if not args:
        return _leaf(np.zeros(0, dt))
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        return _alias(first, dtype, name)
    if isinstance(first, Size) or all(isinstance(a, _INTS) for a in args):
        return _leaf(np.zeros(_size_of(first if isinstance(first, Size) else args, name), dt))
    if len(args) > 1 or not isinstance(first, (list, tuple, np.ndarray)):
        raise TypeError(f"{name}(): data must be a sequence (got "
                        f"{', '.join(type(a).__name__ for a in args)})")
    try:
        return _leaf(np.asarray(first, dtype=dt) if isinstance(first, np.ndarray)
                     else np.array(_unwrap(first), dtype=dt))
    except ValueError as err:
        raise TypeError(f"{name}(): could not convert the data to {dt}: {err}") from None


_INTS = (int, np.integer)


def _size_of(size, name):
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise RuntimeError(f"{name}(): Trying to create tensor with negative dimension: "
                           f"{list(size)}")
    return size


def _alias(t, dtype, name):
    """`Tensor(t)`: t's memory under a new tensor (differentiable, as PyTorch's alias)."""
    if dtype is not None and t._data.dtype != dtype:
        raise TypeError(f"{name}(): expected a tensor of dtype {dtypes.public(dtype)}, got one "
                        f"of dtype {t.dtype}; convert it with .to() first")
    if t._rg and _state.grad_enabled:
        return t.view_as(t)
    a = _leaf(t._data)
    a._vc = t._vc        # same memory: in-place writes through either are seen by both
    return a


class _TensorType(type):
    """The type of torch.FloatTensor & co: a constructor for one dtype, and an isinstance
    check by dtype (`isinstance(t, FloatTensor)`), not a subclass of Tensor (as in PyTorch)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.dtype

    def __call__(cls, *args, device=None):
        return legacy_new(args, cls.dtype.dtype, cls.__name__, device)

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _tensor_type(name):
    return _TensorType(name, (), {"dtype": dtypes.public(dtypes.TENSOR_TYPES[name]),
                                  "__doc__": f"torch.{name}: legacy constructor of "
                                             f"{dtypes.TENSOR_TYPES[name]} tensors."})


FloatTensor, DoubleTensor, HalfTensor = map(_tensor_type, ("FloatTensor", "DoubleTensor",
                                                           "HalfTensor"))
LongTensor, IntTensor, ShortTensor = map(_tensor_type, ("LongTensor", "IntTensor",
                                                        "ShortTensor"))
CharTensor, ByteTensor, BoolTensor = map(_tensor_type, ("CharTensor", "ByteTensor",
                                                        "BoolTensor"))


def as_tensor(data, dtype=None, device=None):
    """torch.as_tensor: shares memory with an ndarray (or tensor) when the dtype allows."""
    _device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        return _make(data, dtype, False, "as_tensor")
    return _make(_infer(data), dtype, False, "as_tensor")


def from_numpy(ndarray):
    """torch.from_numpy: shares memory and keeps the array's dtype."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.as_dtype(ndarray.dtype)
    return _leaf(ndarray)


def _device(device):
    if device is not None:
        from .tensor import Device
        Device(device)


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension: {list(size)}")
    return size


def _filled(op, fill):
    def make(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
        _device(device)
        dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        return _make(fill(_size(size, op), dt), None, requires_grad, op)
    make.__name__ = op
    make.__doc__ = f"torch.{op}(*size, dtype=None, requires_grad=False)"
    return make


zeros = _filled("zeros", np.zeros)
ones = _filled("ones", np.ones)
empty = _filled("empty", np.zeros)   # zero-filled: uninitialised memory helps nobody


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    _device(device)
    if dtype is None:
        dtype = dtypes.get_default_dtype() if isinstance(fill_value, float) else \
            dtypes.bool if isinstance(fill_value, bool) else dtypes.int64
    return _make(np.full(_size((size,), "full"), fill_value, dtypes.as_dtype(dtype)), None,
                 requires_grad, "full")


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
        return fn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"torch.{like.__name__}: same shape (and dtype unless given) as `input`."
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    return _make(np.eye(n, m, dtype=dt), None, requires_grad, "eye")


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """torch.arange: int64 for integer arguments, the default float dtype otherwise."""
    if end is None:
        start, end = 0, start
    args = [a.item() if isinstance(a, Tensor) else a for a in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(a, (int, np.integer)) for a in args) else \
            dtypes.get_default_dtype()
    return _make(np.arange(*args, dtype=np.float64).astype(dtypes.as_dtype(dtype)), None,
                 requires_grad, "arange")


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    return _make(np.linspace(start, end, steps).astype(dt), None, requires_grad, "linspace")


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    return _make(np.logspace(start, end, steps, base=base).astype(dt), None, requires_grad,
                 "logspace")


def _random(op, draw):
    def make(*size, generator=None, dtype=None, device=None, requires_grad=False):
        _device(device)
        dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        if dt.kind != "f":
            raise RuntimeError(f"{op}: expected a floating point dtype, got {dt}")
        return _make(draw(_gen(generator), _size(size, op)).astype(dt), None, requires_grad, op)
    make.__name__ = op
    make.__doc__ = f"torch.{op}(*size, generator=None, dtype=None, requires_grad=False)"
    return make


rand = _random("rand", lambda g, s: g.random(s))
randn = _random("randn", lambda g, s: g.standard_normal(s))
rand_like = _like(rand)
randn_like = _like(randn)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """torch.randint(low=0, high, size): integers in [low, high), int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    return _make(_gen(generator).integers(low, high, _size((size,), "randint")),
                 dtype or dtypes.int64, requires_grad, "randint")


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    return _make(_gen(generator).permutation(n), dtype or dtypes.int64, requires_grad, "randperm")


def normal(mean, std, size=None, generator=None):
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    arr = _gen(generator).normal(m, s, size if size is not None else np.broadcast(m, s).shape)
    return _make(np.asarray(arr), dtypes.get_default_dtype() if not isinstance(mean, Tensor)
                 else mean.dtype, False, "normal")


def bernoulli(input, p=None, generator=None):
    probs = input._data if p is None else np.full(input.shape, p)
    return _leaf((_gen(generator).random(probs.shape) < probs).astype(input.dtype))


def multinomial(input, num_samples, replacement=False, generator=None):
    probs = np.atleast_2d(input._data.astype(np.float64))
    g = _gen(generator)
    rows = [g.choice(probs.shape[1], num_samples, replace=replacement, p=p / p.sum())
            for p in probs]
    out = np.array(rows, dtype=np.int64)
    return _leaf(out if input.ndim == 2 else out[0])

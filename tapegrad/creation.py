"""Tensor creation and random numbers, with PyTorch's signatures and dtype defaults."""
import numpy as np

from . import dtypes
from ._convert import infer, size_of
from ._types import Device
from ._tensor import Tensor, _leaf, legacy_new, unwrap
from .primitives import check_out, scalar_name, write_out

def manual_seed(seed):
    """Seed the global random generator with the integer `seed`, as torch.manual_seed.

    The generator is a NumPy PCG64 Generator, so streams differ from PyTorch's for the same seed.
    Returns the default generator (`tapegrad.default_generator`), as PyTorch does.
    """
    return default_generator.manual_seed(seed)


def seed():
    """Seed the global generator from OS entropy and return that seed, as torch.seed."""
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(s)
    return s


class Generator:
    """A seedable source of random numbers for the creation functions, as torch.Generator.

    Pass it as `generator=` to rand, randn, randint, randperm, normal... `device` may only name the
    CPU.
    """

    def __init__(self, device="cpu"):
        self._np = np.random.default_rng()

    def manual_seed(self, seed):
        """Seed this generator with the integer `seed` and return it."""
        self._np = np.random.default_rng(int(seed))
        return self


default_generator = Generator()     # what the creation functions draw from by default


def numpy_rng(generator):
    """The NumPy Generator behind `generator` (None: the default one `manual_seed` seeds)."""
    return (default_generator if generator is None else generator)._np


def _make(arr, dtype, requires_grad, op):
    if dtype is not None:
        arr = arr.astype(dtypes.as_dtype(dtype), copy=False)
    t = _leaf(arr)
    if requires_grad:
        if not dtypes.is_floating(arr.dtype):
            raise RuntimeError(f"{op}: only Tensors of floating point dtype can require "
                               f"gradients, got {arr.dtype}")
        t._requires_grad = True
    return t


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data`, as torch.tensor.

    `data` is a number, a (nested) sequence, an ndarray or a tensor. `dtype` defaults to the one
    inferred from `data` (Python floats give the default float dtype, ints int64); `device` may
    only name the CPU; `requires_grad` makes the result a leaf that records; `pin_memory` is
    accepted for PyTorch's signature.
    """
    _device(device)
    data = unwrap(data)
    if dtype is not None:
        arr = np.array(data, dtype=dtypes.as_dtype(dtype), copy=True)
    else:
        arr = np.array(infer(data), copy=True)
    return _make(arr, None, requires_grad, "tensor")


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
# torch.BFloat16Tensor: only with ml_dtypes (tapegrad's __getattr__ says so without it)
BFloat16Tensor = _tensor_type("BFloat16Tensor") if "BFloat16Tensor" in dtypes.TENSOR_TYPES \
    else None


def as_tensor(data, dtype=None, device=None):
    """`data` as a tensor, sharing memory when possible, as torch.as_tensor.

    `data` may be a tensor, an ndarray, a number or a sequence. A tensor or ndarray is shared when
    `dtype` is None or already theirs; otherwise the data is converted. `device` may only name the
    CPU.
    """
    _device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        return _make(data, dtype, False, "as_tensor")
    return _make(infer(data), dtype, False, "as_tensor")


def from_numpy(ndarray):
    """A tensor sharing memory with `ndarray` and keeping its dtype, as torch.from_numpy."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.as_dtype(ndarray.dtype)
    return _leaf(ndarray)


def _device(device):
    if device is not None:
        Device(device)


def _made_into(out, fn, dtype, *args, **kwargs):
    """A factory's out=: made in out's dtype (another `dtype=` is PyTorch's RuntimeError)."""
    name = "aten::" + fn.__name__
    check_out(name, out, ())
    want = out._data.dtype
    if dtype is not None and dtypes.as_dtype(dtype) != want:
        raise RuntimeError(f"{fn.__name__}: dtype {scalar_name(dtypes.as_dtype(dtype))} does not "
                           f"match dtype of out parameter ({scalar_name(want)})")
    return write_out(fn(*args, dtype=want, **kwargs), out, name)


def _filled(op, fill):
    def make(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
        if out is not None:
            return _made_into(out, make, dtype, *size, device=device)
        _device(device)
        dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        return _make(fill(size_of(size, op), dt), None, requires_grad, op)
    make.__name__ = op
    make.__doc__ = (f"A tensor of shape `size` filled with {'ones' if op == 'ones' else 'zeros'}"
                    f", as torch.{op}.\n\n"
                    "`size` is given as separate ints or one sequence. `dtype` defaults to the "
                    "default float dtype; `device` may only name the CPU; `requires_grad` makes "
                    "a recording leaf; `layout` is accepted for PyTorch's signature. `out`, if "
                    "given, receives the result.")
    return make


zeros = _filled("zeros", np.zeros)
ones = _filled("ones", np.ones)
empty = _filled("empty", np.zeros)   # zero-filled: uninitialised memory helps nobody


def full(size, fill_value, *, out=None, dtype=None, device=None, requires_grad=False):
    """A tensor of shape `size` filled with `fill_value`, as torch.full.

    `dtype` defaults to the type of `fill_value` (bool, int64, or the default float dtype);
    `device` may only name the CPU; `requires_grad` makes a recording leaf. `out`, if given,
    receives the result (its dtype is used).
    """
    if out is not None:
        return _made_into(out, full, dtype, size, fill_value, device=device)
    _device(device)
    if dtype is None:
        dtype = dtypes.get_default_dtype() if isinstance(fill_value, float) else \
            dtypes.bool if isinstance(fill_value, bool) else dtypes.int64
    return _make(np.full(size_of((size,), "full"), fill_value, dtypes.as_dtype(dtype)), None,
                 requires_grad, "full")


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
        return fn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = (f"{fn.__name__}() with the shape of `input`, as torch.{like.__name__}.\n\n"
                    "The dtype is `input`'s unless `dtype` is given; `device` may only name the "
                    "CPU; `requires_grad` makes a recording leaf; `memory_format` is accepted "
                    "for PyTorch's signature.")
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor shaped like `input`, filled with `fill_value`, as torch.full_like.

    `dtype` defaults to `input`'s; `device` may only name the CPU; `requires_grad` makes a
    recording leaf.
    """
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False):
    """The `n` x `m` identity matrix (`m` defaults to `n`), as torch.eye.

    `dtype` defaults to the default float dtype; `device` may only name the CPU; `requires_grad`
    makes the result a leaf that records (floating dtypes only). `out`, if given, receives the
    result (its dtype is used).
    """
    if out is not None:
        return _made_into(out, eye, dtype, n, m, device=device)
    dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    return _make(np.eye(n, m, dtype=dt), None, requires_grad, "eye")


def arange(start, end=None, step=1, *, out=None, dtype=None, device=None, requires_grad=False):
    """The values from `start` to `end` (excluded) by `step`, as torch.arange.

    arange(end) starts at 0. int64 for integer arguments, the default float dtype otherwise, unless
    `dtype` says; `device` may only name the CPU; `requires_grad` makes a recording leaf. `out`, if
    given, receives the result (its dtype is used).
    """
    if out is not None:
        return _made_into(out, arange, dtype, start, end, step, device=device)
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


def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False):
    """`steps` values evenly spaced from `start` to `end` (both included), as torch.linspace.

    `dtype` defaults to the default float dtype; `device` may only name the CPU; `requires_grad`
    makes the result a leaf that records (floating dtypes only). `out`, if given, receives the
    result (its dtype is used).
    """
    if out is not None:
        return _made_into(out, linspace, dtype, start, end, steps, device=device)
    dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    return _make(np.linspace(start, end, steps).astype(dt), None, requires_grad, "linspace")


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, device=None,
             requires_grad=False):
    """`steps` values `base` ** x for x evenly spaced from `start` to `end`, as torch.logspace.

    `dtype` defaults to the default float dtype; `device` may only name the CPU; `requires_grad`
    makes the result a leaf that records (floating dtypes only). `out`, if given, receives the
    result (its dtype is used).
    """
    if out is not None:
        return _made_into(out, logspace, dtype, start, end, steps, base, device=device)
    dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
    return _make(np.logspace(start, end, steps, base=base).astype(dt), None, requires_grad,
                 "logspace")


def _random(op, draw):
    def make(*size, generator=None, out=None, dtype=None, device=None, requires_grad=False):
        if out is not None:
            return _made_into(out, make, dtype, *size, generator=generator, device=device)
        _device(device)
        dt = dtypes.as_dtype(dtype) or dtypes.get_default_dtype()
        if not dtypes.is_floating(dt):
            raise RuntimeError(f"{op}: expected a floating point dtype, got {dt}")
        return _make(draw(numpy_rng(generator), size_of(size, op)).astype(dt), None, requires_grad, op)
    make.__name__ = op
    make.__doc__ = (f"Random numbers of shape `size`, as torch.{op}.\n\n"
                    "`size` is given as separate ints or one sequence; drawn from `generator` "
                    "(the global one by default). `dtype` (floating) defaults to the default "
                    "float dtype; `device` may only name the CPU; `requires_grad` makes a "
                    "recording leaf. `out`, if given, receives the result.")
    return make


rand = _random("rand", lambda g, s: g.random(s))
randn = _random("randn", lambda g, s: g.standard_normal(s))
rand_like = _like(rand)
randn_like = _like(randn)


def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, device=None,
            requires_grad=False):
    """Random integers in [`low`, `high`) of shape `size`, as torch.randint.

    randint(high, size) starts at 0. int64 unless `dtype` says; drawn from `generator` (the global
    one by default); `device` may only name the CPU; `requires_grad` makes a recording leaf
    (floating `dtype` only). `out`, if given, receives the result.
    """
    if out is not None:
        return _made_into(out, randint, dtype, low, high, size, generator=generator,
                          device=device)
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    return _make(numpy_rng(generator).integers(low, high, size_of((size,), "randint")),
                 dtype or dtypes.int64, requires_grad, "randint")


def randperm(n, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. `n` - 1, as torch.randperm.

    int64 unless `dtype` says; drawn from `generator` (the global one by default); `device` may
    only name the CPU; `requires_grad` makes a recording leaf (floating `dtype` only). `out`, if
    given, receives the result.
    """
    if out is not None:
        return _made_into(out, randperm, dtype, n, generator=generator, device=device)
    return _make(numpy_rng(generator).permutation(n), dtype or dtypes.int64, requires_grad, "randperm")


def normal(mean, std, size=None, generator=None):
    """Samples from normal distributions, as torch.normal.

    The means are `mean` and the standard deviations `std`.

    `mean` and `std` are numbers or tensors (broadcast); the shape is `size` if given, else theirs.
    Drawn from `generator` (the global one by default); not differentiable.
    """
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    arr = numpy_rng(generator).normal(m, s, size if size is not None else np.broadcast(m, s).shape)
    return _make(np.asarray(arr), dtypes.get_default_dtype() if not isinstance(mean, Tensor)
                 else mean.dtype, False, "normal")


def bernoulli(input, p=None, generator=None):
    """0/1 samples, 1 with the probability in each entry of `input`, as torch.bernoulli.

    With `p`, every entry has probability `p` instead. Drawn from `generator` (the global one by
    default); the result has `input`'s dtype.
    """
    probs = input._data if p is None else np.full(input.shape, p)
    return _leaf((numpy_rng(generator).random(probs.shape) < probs).astype(input.dtype))


def multinomial(input, num_samples, replacement=False, generator=None):
    """`num_samples` indices drawn with the weights in `input`, as torch.multinomial.

    The weights need not be normalised.

    `input` is 1-d or 2-d (one distribution per row); without `replacement` each index is drawn at
    most once per row. Drawn from `generator` (the global one by default); int64.
    """
    probs = np.atleast_2d(input._data.astype(np.float64))
    g = numpy_rng(generator)
    rows = [g.choice(probs.shape[1], num_samples, replace=replacement, p=p / p.sum())
            for p in probs]
    out = np.array(rows, dtype=np.int64)
    return _leaf(out if input.ndim == 2 else out[0])

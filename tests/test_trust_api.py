"""Issue 9, section 3: autograd API, grad modes, legacy constructors, dtypes, .data, repr.

Each torch-free test states PyTorch 2.13's answer; the `_matches_pytorch` tests run the same
code on both libraries (skipped when torch is absent).
"""
import copy
import pickle
import tracemalloc

import numpy as np
import pytest

import tapegrad as T


def _torch():
    return pytest.importorskip("torch")


# ---- ctx.mark_dirty ---------------------------------------------------------------------------
def _triple_in_place(lib):
    class TripleInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(3)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3
    return TripleInPlace


def _mark_dirty_program(lib):
    w = lib.ones(2, requires_grad=True)
    b = w * 2
    c = _triple_in_place(lib).apply(b)
    same = c is b
    (c * c).sum().backward()
    return same, b.detach().numpy().tolist(), w.grad.numpy().tolist()


def test_mark_dirty_returns_the_input_with_new_history():
    same, value, grad = _mark_dirty_program(T)
    assert same                                   # torch: the very input object
    assert value == [6.0, 6.0]
    assert grad == [72.0, 72.0]                   # d/dw (6w)^2 = 72w


def test_mark_dirty_matches_pytorch():
    torch = _torch()
    assert _mark_dirty_program(T) == _mark_dirty_program(torch)


def _mark_dirty_views_program(lib):
    """A consumer recorded before the write keeps the old value; a dirty view rebases its
    base (PyTorch's CopySlices)."""
    Triple = _triple_in_place(lib)
    w = lib.ones(4, requires_grad=True)
    x = w * 2
    before = x * 5
    v = x[:2]
    r = Triple.apply(v)
    (before.sum() + x.sum() + v.sum()).backward()
    return r is v, w.grad.numpy().tolist()


def test_mark_dirty_on_a_view_rebases_its_base():
    assert _mark_dirty_views_program(T) == (True, [22.0, 22.0, 12.0, 12.0])


def test_mark_dirty_on_a_view_matches_pytorch():
    torch = _torch()
    assert _mark_dirty_views_program(T) == _mark_dirty_views_program(torch)


def test_mark_dirty_refuses_a_leaf_that_requires_grad_and_unreturned_inputs():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        _triple_in_place(T).apply(T.ones(2, requires_grad=True))

    class Forgets(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.raises(RuntimeError, match="dirty"):
        Forgets.apply(T.ones(2, requires_grad=True) * 1)


def test_mark_dirty_on_an_input_that_does_not_require_grad():
    class AddInto(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            x.add_(y)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g, g
    w = T.ones(2, requires_grad=True)
    z = T.zeros(2)
    r = AddInto.apply(z, w)
    assert r is z and z.requires_grad and not z.is_leaf
    (r * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2, 2])


# ---- grad-mode decorators ---------------------------------------------------------------------
def test_grad_modes_decorate_without_parentheses():
    @T.no_grad
    def off():
        return T.is_grad_enabled()

    @T.enable_grad
    def on():
        return T.is_grad_enabled()

    @T.inference_mode
    def inference():
        return T.is_grad_enabled(), T.is_inference_mode_enabled()

    assert off() is False and inference() == (False, True)
    with T.no_grad():
        assert on() is True
    assert T.is_grad_enabled() and off.__name__ == "off"


def test_no_grad_generator_body_runs_without_grad_at_every_resume():
    @T.no_grad()
    def gen():
        for _ in range(3):
            yield T.is_grad_enabled()
        return "done"

    it = gen()
    assert next(it) is False
    assert T.is_grad_enabled()          # the caller's code between resumes keeps grad on
    assert next(it) is False and next(it) is False
    with pytest.raises(StopIteration) as stop:
        next(it)
    assert stop.value.value == "done"

    w = T.ones(2, requires_grad=True)

    @T.no_grad()
    def products():
        yield w * 2

    assert not next(products()).requires_grad


def test_inference_mode_false_turns_grad_on_inside_no_grad():
    with T.no_grad():
        with T.inference_mode(False):
            assert T.is_grad_enabled() and not T.is_inference_mode_enabled()
        assert not T.is_grad_enabled()
    with T.inference_mode():
        with T.inference_mode(False):
            assert T.is_grad_enabled() and not T.is_inference_mode_enabled()
        assert not T.is_grad_enabled() and T.is_inference_mode_enabled()


def _grad_mode_trace(lib):
    out = []

    @lib.no_grad
    def a():
        return lib.is_grad_enabled()

    @lib.no_grad()
    def gen():
        yield lib.is_grad_enabled()
        yield lib.is_grad_enabled()

    out += [a(), *gen()]
    with lib.no_grad():
        with lib.inference_mode(False):
            out.append(lib.is_grad_enabled())
    with lib.inference_mode():
        with lib.inference_mode(False):
            out.append(lib.is_inference_mode_enabled())
    return out


def test_grad_modes_match_pytorch():
    torch = _torch()
    assert _grad_mode_trace(T) == _grad_mode_trace(torch)


# ---- set_materialize_grads(False) -------------------------------------------------------------
def _two_outputs(lib, seen):
    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return (0 if g1 is None else g1) + (0 if g2 is None else 2 * g2)
    return Two


def _materialize_program(lib):
    seen = []
    Two = _two_outputs(lib, seen)
    x = lib.ones(2, requires_grad=True)
    a, b = Two.apply(x)
    (a * 0).sum().backward()             # a real, all-zero gradient for `a`; none for `b`
    a, b = Two.apply(x)
    (a.sum() + b.sum() * 0).backward()
    return seen, x.grad.numpy().tolist()


def test_set_materialize_grads_false_keeps_real_zero_gradients():
    seen, grad = _materialize_program(T)
    assert seen == [(False, True), (False, False)]
    assert grad == [1.0, 1.0]


def test_set_materialize_grads_matches_pytorch():
    torch = _torch()
    assert _materialize_program(T) == _materialize_program(torch)


# ---- hvp --------------------------------------------------------------------------------------
def _skew_hvp(lib):
    """A Function whose backward is A x for a non-symmetric A: its double backward is not
    symmetric, so H v and v^T H differ."""
    A = lib.tensor([[1., 2.], [0., 3.]], dtype=lib.float64)

    class Skew(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x * x).sum()

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * (A @ x)
    x = lib.tensor([1., 1.], dtype=lib.float64)
    v = lib.tensor([1., 1.], dtype=lib.float64)
    F = lib.autograd.functional
    return F.hvp(Skew.apply, x, v)[1].numpy().tolist(), F.vhp(Skew.apply, x, v)[1].numpy().tolist()


def test_hvp_is_h_times_v_not_v_times_h():
    hvp, vhp = _skew_hvp(T)
    assert hvp == [3.0, 3.0]        # A v
    assert vhp == [1.0, 5.0]        # v^T A


def test_hvp_matches_pytorch():
    torch = _torch()
    assert _skew_hvp(T) == _skew_hvp(torch)


# ---- legacy constructors and tensor types -----------------------------------------------------
def test_tensor_constructor_is_float32():
    assert T.Tensor([1, 2]).dtype == T.float32
    assert T.Tensor(np.array([1.0, 2.0])).dtype == T.float32     # float64 data converted
    t = T.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype == T.float32
    assert T.Tensor().shape == (0,) and T.Tensor().dtype == T.float32
    assert T.Tensor(T.Size([4, 1])).shape == (4, 1)
    assert T.Tensor((2, 3)).tolist() == [2.0, 3.0]                # a tuple is data
    with pytest.raises(TypeError):
        T.Tensor(2.5)
    with pytest.raises(RuntimeError, match="negative dimension"):
        T.Tensor(-1)


def test_tensor_constructor_shares_a_float32_array_and_aliases_a_tensor():
    a = np.array([1.0, 2.0], np.float32)
    t = T.Tensor(a)
    a[0] = 9
    assert t.tolist() == [9.0, 2.0]
    w = T.ones(2, requires_grad=True)
    alias = T.Tensor(w)
    assert alias is not w and alias.grad_fn is not None
    alias.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_typed_constructors_isinstance_and_type():
    assert T.LongTensor([1.7, 2]).tolist() == [1, 2] and T.LongTensor(2, 3).dtype == T.int64
    assert T.IntTensor([1]).dtype == T.int32 and T.HalfTensor(3).dtype == T.float16
    assert T.BoolTensor([1, 0]).tolist() == [True, False]
    assert T.DoubleTensor([1]).dtype == T.float64
    x = T.zeros(2)
    assert isinstance(x, T.FloatTensor) and not isinstance(x, T.DoubleTensor)
    assert isinstance(x, T.Tensor) and not isinstance(np.zeros(2), T.FloatTensor)
    assert x.type() == "torch.FloatTensor" and T.zeros(1, dtype=T.bool).type() == "torch.BoolTensor"
    assert x.type(T.DoubleTensor).dtype == T.float64
    assert x.type("torch.DoubleTensor").dtype == T.float64
    assert x.type(T.float64).dtype == T.float64
    assert x.type(T.FloatTensor) is x
    assert repr(T.FloatTensor) == "<class 'torch.FloatTensor'>"
    with pytest.raises(TypeError):
        T.FloatTensor(T.tensor([1, 2]))       # PyTorch refuses a tensor of another dtype


def test_legacy_constructors_match_pytorch():
    torch = _torch()
    from_data = [lambda m: m.Tensor([1, 2]), lambda m: m.Tensor(np.array([1.5, 2.0])),
                 lambda m: m.Tensor([[1, 2], [3, 4]]), lambda m: m.LongTensor([1.7, -2.2]),
                 lambda m: m.BoolTensor([1, 0]), lambda m: m.HalfTensor([1.5]),
                 lambda m: m.DoubleTensor([[1]]), lambda m: m.ByteTensor([3]),
                 lambda m: m.Tensor(m.tensor([1, 2]))]
    by_size = [lambda m: m.Tensor(2, 3), lambda m: m.Tensor(), lambda m: m.IntTensor(3)]
    for make in from_data + by_size:
        ours, theirs = make(T), make(torch)
        assert str(ours.dtype) == str(theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.type() == theirs.type()
        if make in from_data:        # by size, torch's memory is uninitialised
            assert ours.tolist() == theirs.tolist()


# ---- dtype objects ----------------------------------------------------------------------------
def test_dtype_prints_as_pytorch_and_compares_as_numpy():
    x = T.ones(2)
    assert str(x.dtype) == "torch.float32" and repr(T.int64) == "torch.int64"
    assert str(T.tensor([True]).dtype) == "torch.bool"
    assert x.dtype == T.float32 == np.float32 == np.dtype("float32")
    assert np.dtype("float32") == x.dtype and x.dtype != np.float64 and x.dtype != None  # noqa
    assert x.dtype != float and T.int64 != int      # Python's types are not dtypes here
    assert hash(x.dtype) == hash(np.dtype(np.float32))
    assert {np.dtype(np.float32): 1}[x.dtype] == 1 and {T.float32: 1}[np.dtype("float32")] == 1
    assert np.zeros(3, dtype=x.dtype).dtype == np.float32
    assert np.arange(3).astype(T.float64).dtype == np.float64
    assert x._data.dtype is np.dtype(np.float32)    # internals keep NumPy's dtype
    assert T.float32.is_floating_point and not T.int64.is_floating_point
    assert T.int64.is_signed and not T.uint8.is_signed and T.float16.itemsize == 2
    assert T.get_default_dtype() == T.float32 and str(T.get_default_dtype()) == "torch.float32"
    assert pickle.loads(pickle.dumps(T.float32)) is T.float32
    assert copy.deepcopy(T.float64) is T.float64
    assert T.ones(2, dtype=T.float64).dtype == T.float64
    assert T.ones(2).to(T.float16).dtype == np.float16
    assert isinstance(T.float32, T.dtype)


def test_dtype_str_matches_pytorch():
    torch = _torch()
    for name in ("float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64",
                 "bool"):
        assert str(getattr(T, name)) == str(getattr(torch, name))
        assert str(T.zeros(1, dtype=getattr(T, name)).dtype) == \
            str(torch.zeros(1, dtype=getattr(torch, name)).dtype)


def test_math_constants():
    assert T.pi == np.pi and T.e == np.e and T.inf == np.inf and np.isnan(T.nan)


# ---- .numpy() and .data -----------------------------------------------------------------------
def test_numpy_under_no_grad_on_a_tensor_that_requires_grad():
    x = T.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        x.numpy()
    with T.no_grad():
        a = x.numpy()
    a[0] = 5                  # shares memory, as in torch
    assert x.tolist() == [5.0, 1.0]


def test_data_shares_memory_with_a_fresh_version_counter():
    x = T.ones(2, requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.is_leaf
    with T.no_grad():
        x.mul_(2)
    assert x._version == 1 and d._version == 0
    d.add_(1)
    assert d._version == 1 and x._version == 1
    assert x.tolist() == [3.0, 3.0]


def test_write_through_data_is_not_seen_by_version_checks():
    w = T.ones(2, requires_grad=True)
    h = w * 1
    y = h * h
    h.data.mul_(2)           # torch: unsafe by design, backward uses the new values
    y.sum().backward()
    assert w.grad.tolist() == [4.0, 4.0]


def test_data_setter():
    x = T.ones(2, requires_grad=True)
    with pytest.raises(TypeError):
        x.data = [1, 2]
    with pytest.raises(RuntimeError, match="floating point"):
        x.data = T.zeros(2, dtype=T.int64)
    x.data = T.zeros(3)
    assert x.shape == (3,) and x.requires_grad


def test_numpy_and_data_match_pytorch():
    torch = _torch()

    def run(lib):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            arr = x.numpy()
        d = x.data
        with lib.no_grad():
            x.mul_(2)
        return arr.tolist(), d._version, x._version, d.requires_grad
    assert run(T) == run(torch)


# ---- repr -------------------------------------------------------------------------------------
def test_repr_of_a_large_tensor_reads_only_what_it_prints():
    # no timing: the work is bounded by what it allocates (a full pass would copy 16 MB)
    x = T.randn(2000, 2000)
    tracemalloc.start()
    try:
        text = repr(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "..." in text and len(text.splitlines()) == 7
    assert peak < 1_000_000


def test_repr_never_materialises_an_expanded_view():
    big = T.ones(1, 1).expand(100000, 100000)      # 10^10 elements: a copy would not fit
    text = repr(big)
    assert text.startswith("tensor([[1., 1., 1.,  ..., 1., 1., 1.],")


def test_repr_summary_format():
    assert repr(T.arange(2000.)) == ("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., "
                                     "1.9970e+03, 1.9980e+03,\n        1.9990e+03])")
    assert repr(T.tensor([float("nan"), 1.0])) == "tensor([nan, 1.])"


def test_repr_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((40, 40)), rng.standard_normal(1001).astype(np.float32),
              rng.integers(-1000, 1000, (3, 2, 400)), rng.random((30, 50)) > 0.5,
              np.arange(1200.).reshape(2, 600) / 7, rng.standard_normal(7) * 1e-5,
              np.array([1e9, 1.0]), np.array([-0.5]), np.float16([1.5, 2.0]),
              np.zeros((2, 0)), np.array(3.25), np.array([np.nan, np.inf, -1.0])]
    for a in arrays:
        assert repr(T.tensor(a)) == repr(torch.tensor(a))
    assert repr(T.ones(1, 1).expand(2000, 3000)) == repr(torch.ones(1, 1).expand(2000, 3000))
    values = rng.standard_normal(100)
    assert repr(T.tensor(values, requires_grad=True)) == \
        repr(torch.tensor(values, requires_grad=True))
    try:
        for profile in ("short", "full"):
            T.set_printoptions(profile=profile)
            torch.set_printoptions(profile=profile)
            assert repr(T.tensor(arrays[0])) == repr(torch.tensor(arrays[0]))
    finally:
        T.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


# ---- a custom Function's second backward ------------------------------------------------------
def _double(saves):
    class Double(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            if saves:
                ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            if saves:
                ctx.saved_tensors
            return g * 2
    return Double


def test_function_that_saved_nothing_backward_twice_accumulates():
    x = T.ones(2, requires_grad=True)
    y = _double(False).apply(x).sum()
    y.backward()
    y.backward()                       # torch: nothing was freed, so this works
    assert x.grad.tolist() == [4.0, 4.0]
    y = _double(True).apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()

"""PyTorch's parameter names, called by keyword on both libraries: the same values, the same
gradients (tests/api/torch_api.py checks the names; these check that the calls work)."""
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _arrays(*shapes, low=-2.0, high=2.0):
    return [RNG.uniform(low, high, s) for s in shapes]


def _close(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _close(o, t)
        return
    np.testing.assert_allclose(np.asarray(ours.detach().numpy()),
                               theirs.detach().numpy(), rtol=1e-9, atol=1e-12)


def both(fn, arrays, grad=True):
    """fn(lib, *tensors) on tapegrad and on torch (float64): same result, and the same
    gradients of the sum of its (first) result."""
    results, grads = [], []
    for lib in (tapegrad, torch):
        ts = [lib.tensor(a, requires_grad=grad) for a in arrays]
        out = fn(lib, *ts)
        results.append(out)
        if grad:
            first = out[0] if isinstance(out, (tuple, list)) else out
            grads.append(lib.autograd.grad(first.sum(), ts, allow_unused=True))
    _close(results[0], results[1])
    if grad:
        for g_ours, g_theirs in zip(*grads):
            assert (g_ours is None) == (g_theirs is None)
            if g_ours is not None:
                _close(g_ours, g_theirs)


BINARY = ["add", "sub", "mul", "div", "true_divide", "remainder", "fmod", "maximum", "minimum",
          "fmax", "fmin", "hypot", "logaddexp", "atan2", "arctan2", "copysign", "logaddexp2"]


@pytest.mark.parametrize("name", BINARY)
def test_binary_ops_take_input_and_other(name):
    a, b = _arrays((3, 4), (4,))
    b = np.where(np.abs(b) < 0.1, 0.5, b)     # away from the divisors' and kinks' zeros
    both(lambda lib, x, y: getattr(lib, name)(input=x, other=y), [a, b])
    both(lambda lib, x, y: getattr(x, name)(other=y), [a, b])


def test_floor_divide_by_keyword():
    a, b = _arrays((5,), (5,))
    both(lambda lib, x, y: lib.floor_divide(input=x, other=y + 3), [a, b], grad=False)
    both(lambda lib, x, y: x.floor_divide(other=y + 3), [a, b], grad=False)


@pytest.mark.parametrize("name", ["add", "sub"])
def test_alpha_is_keyword_only(name):
    a, b = _arrays((2, 3), (3,))
    both(lambda lib, x, y: getattr(lib, name)(input=x, other=y, alpha=-2.5), [a, b])
    both(lambda lib, x, y: getattr(x, name)(y, alpha=3), [a, b])
    for lib in (tapegrad, torch):     # PyTorch: TypeError; tapegrad's ops: RuntimeError
        with pytest.raises((TypeError, RuntimeError)):
            getattr(lib, name)(lib.tensor(a), lib.tensor(b), 2)


def test_div_rounding_mode_by_keyword():
    a, b = _arrays((6,), (6,))
    both(lambda lib, x, y: lib.div(input=x, other=y + 3, rounding_mode="floor"), [a, b],
         grad=False)


def test_pow_takes_exponent():
    a, b = _arrays((3, 2), (2,), low=0.5, high=2.0)
    both(lambda lib, x, y: lib.pow(input=x, exponent=y), [a, b])
    both(lambda lib, x, y: x.pow(exponent=y), [a, b])
    both(lambda lib, x: lib.pow(input=x, exponent=3), [a])


UNARY = {"neg": (-2, 2), "negative": (-2, 2), "square": (-2, 2), "reciprocal": (0.5, 2),
         "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-2, 2), "arcsin": (-0.9, 0.9),
         "arccos": (-0.9, 0.9), "arctan": (-2, 2), "sinh": (-2, 2), "cosh": (-2, 2),
         "asinh": (-2, 2), "acosh": (1.5, 3), "atanh": (-0.9, 0.9), "relu": (-2, 2)}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_take_input(name):
    low, high = UNARY[name]
    both(lambda lib, x: getattr(lib, name)(input=x), _arrays((3, 2), low=low, high=high))


def test_where_takes_condition_input_other():
    a, b, c = _arrays((3, 4), (4,), (3, 1))
    both(lambda lib, x, y, z: lib.where(condition=z > 0, input=x, other=y), [a, b, c])
    both(lambda lib, x, y, z: x.where(z > 0, other=y), [a, b, c])
    both(lambda lib, x, y, z: x.where(condition=z > 0, other=y), [a, b, c])


def test_linalg_aliases_take_input():
    m = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    both(lambda lib, x: lib.det(input=x), [m])
    both(lambda lib, x: lib.inverse(input=x), [m])
    both(lambda lib, x: lib.slogdet(input=x)[1], [m])
    both(lambda lib, x: x.det() + x.slogdet()[1], [m])
    both(lambda lib, x: x.inverse(), [m])
    r = RNG.standard_normal((4, 3))
    both(lambda lib, x: lib.pinverse(input=x, rcond=1e-10), [r])
    both(lambda lib, x: x.pinverse(rcond=1e-3), [r])
    sign, logabs = tapegrad.slogdet(input=tapegrad.tensor(m))
    assert sign.shape == logabs.shape == (2,)


def test_linalg_norm_takes_input():
    a = _arrays((3, 4))
    both(lambda lib, x: lib.linalg.norm(input=x), a)
    both(lambda lib, x: lib.linalg.norm(input=x, ord=1, dim=1, keepdim=True), a)
    both(lambda lib, x: lib.linalg.norm(x, "fro", (0, 1)), a)


def test_norm_in_torchs_order_and_out():
    a = _arrays((3, 4))
    both(lambda lib, x: lib.norm(input=x, p=3, dim=1, keepdim=False, dtype=None), a)
    both(lambda lib, x: lib.norm(x, 2, 0, True), a)
    both(lambda lib, x: lib.norm(x, "nuc"), a)
    for lib in (tapegrad, torch):
        x = lib.tensor(a[0])
        out = lib.empty(4, dtype=lib.float64)
        got = lib.norm(x, 2, 0, False, out)
        assert got is out
        np.testing.assert_allclose(out.numpy(), np.linalg.norm(a[0], axis=0), rtol=1e-12)


@pytest.mark.parametrize("lib", [tapegrad, torch], ids=["tapegrad", "torch"])
def test_out_refuses_grad(lib):
    x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
    calls = [lambda o: lib.norm(x, out=o),
             lambda o: lib.concatenate([x, x], 0, out=o),
             lambda o: lib.tensordot(x, x.mT, 1, out=o) if lib is tapegrad else
             lib.norm(x, out=o)]   # torch's tensordot does not check (a PyTorch gap)
    for call in calls:
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            call(lib.empty(0, dtype=lib.float64))


def test_concatenate_and_tensordot_take_out():
    a, b = _arrays((2, 3), (3, 4))
    for lib in (tapegrad, torch):
        x, y = lib.tensor(a), lib.tensor(b)
        out = lib.empty(0, dtype=lib.float64)
        assert lib.concatenate(tensors=[x, x], axis=1, out=out) is out
        np.testing.assert_array_equal(out.numpy(), np.concatenate([a, a], 1))
        out = lib.empty(2, 4, dtype=lib.float64)
        assert lib.tensordot(a=x, b=y, dims=1, out=out) is out
        np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12)
    both(lambda lib, x, y: lib.concatenate(tensors=(x, y.mT), axis=0, out=None), [a, b])
    both(lambda lib, x, y: lib.tensordot(a=x, b=y, dims=([1], [0])), [a, b])


def test_vdot_takes_other():
    a, b = _arrays((5,), (5,))
    both(lambda lib, x, y: lib.vdot(input=x, other=y), [a, b])
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        tapegrad.vdot(tapegrad.ones(2, 2), tapegrad.ones(2))


def test_tensor_split_takes_split_size():
    a = _arrays((7, 2))
    both(lambda lib, x: x.split(split_size=3, dim=0), a)
    both(lambda lib, x: x.split([1, 6]), a)
    both(lambda lib, x: lib.split(x, split_size_or_sections=1, dim=1), a)


def test_uniform_takes_from_and_to():
    t = tapegrad.empty(1000, dtype=tapegrad.float64)
    for call in (lambda: t.uniform_(2, 3), lambda: t.uniform_(**{"from": 2, "to": 3}),
                 lambda: t.uniform_(2, **{"to": 3})):
        assert call() is t
        assert 2 <= t.min().item() and t.max().item() < 3
    t.uniform_(**{"from": -1})
    assert -1 <= t.min().item() and t.max().item() < 1
    t.uniform_(generator=tapegrad.Generator().manual_seed(0))
    assert 0 <= t.min().item() and t.max().item() < 1
    with pytest.raises(RuntimeError, match="from=2 > to=1"):
        t.uniform_(2, 1)
    with pytest.raises(RuntimeError, match="from=2 > to=1"):
        torch.empty(3).uniform_(2, 1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'a'"):
        t.uniform_(a=0)
    with pytest.raises(TypeError, match="multiple values"):
        t.uniform_(0, **{"from": 1})


def test_hardtanh_deprecated_names():
    a = _arrays((4, 5), low=-3, high=3)[0]
    for lib in (tapegrad, torch):
        with pytest.warns(FutureWarning) as got:
            m = lib.nn.Hardtanh(min_value=-2.0, max_value=0.5)
        assert ["`min_value` is deprecated" in str(w.message) for w in got] == [True, False]
        assert (m.min_val, m.max_val) == (-2.0, 0.5)
        np.testing.assert_allclose(m(lib.tensor(a)).numpy(), np.clip(a, -2.0, 0.5))
        m = lib.nn.Hardtanh(-0.5, 1.5, False)
        np.testing.assert_allclose(m(lib.tensor(a)).numpy(), np.clip(a, -0.5, 1.5))
        with pytest.raises(AssertionError, match="must be greater than min_val"):
            lib.nn.Hardtanh(1.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tapegrad.nn.Hardtanh(min_val=-2.0, max_val=2.0, inplace=False)


# ---- autograd: torch's order and its deprecated spellings --------------------------------------
def test_grad_in_torchs_order():
    a, b = _arrays((3,), (3,))
    for lib in (tapegrad, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        z = (x * x).sum()
        # positional: outputs, inputs, grad_outputs, retain_graph, create_graph, only_inputs,
        # allow_unused, is_grads_batched, materialize_grads
        gx, gy = lib.autograd.grad(z, [x, y], None, True, False, True, True, False, False)
        np.testing.assert_allclose(gx.numpy(), 2 * a)
        assert gy is None
        gx, gy = lib.autograd.grad(z, [x, y], retain_graph=True, materialize_grads=True)
        assert gy.shape == (3,) and not gy.numpy().any()
        with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
            lib.autograd.grad(z, x, retain_graph=True, only_inputs=False)
        with pytest.raises(ValueError, match="allow_unused to be True or not passed"):
            lib.autograd.grad(z, [x, y], materialize_grads=True, allow_unused=False)
        with pytest.raises(RuntimeError, match="appears to not have been used"):
            lib.autograd.grad(z, [x, y])


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_is_grads_batched(create_graph):
    a, b = _arrays((3,), (2, 3))
    results = []
    for lib in (tapegrad, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.sin(x) * x
        rows, = lib.autograd.grad(y, x, lib.tensor(b), create_graph=create_graph,
                                  is_grads_batched=True)
        second = lib.autograd.grad(rows.sum(), x)[0] if create_graph else None
        results.append((rows, second))
    _close(results[0][0], results[1][0])
    assert results[0][0].shape == (2, 3)
    if create_graph:
        _close(results[0][1], results[1][1])


def test_backward_in_torchs_order():
    a = _arrays((3,))[0]
    for lib in (tapegrad, torch):
        x = lib.tensor(a, requires_grad=True)
        w = lib.tensor(a, requires_grad=True)
        y = x * w
        # tensors, grad_tensors, retain_graph, create_graph, grad_variables, inputs
        lib.autograd.backward(y, lib.ones(3, dtype=lib.float64), True, False, None, [x])
        np.testing.assert_allclose(x.grad.numpy(), a)
        assert w.grad is None
        with pytest.warns(FutureWarning, match="`grad_variables` is deprecated"):
            lib.autograd.backward(y, retain_graph=True,
                                  grad_variables=lib.ones(3, dtype=lib.float64))
        np.testing.assert_allclose(w.grad.numpy(), a)
        with pytest.raises(RuntimeError, match="both passed"), pytest.warns(FutureWarning):
            lib.autograd.backward(y, lib.ones(3), grad_variables=lib.ones(3))
        y.sum().backward(None, None, False, inputs=[w])
        np.testing.assert_allclose(w.grad.numpy(), 2 * a)


def test_once_differentiable_takes_fn():
    for lib in (tapegrad, torch):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        Double.backward = staticmethod(
            lib.autograd.function.once_differentiable(fn=Double.backward))
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        g, = lib.autograd.grad(Double.apply(x).sum(), x)
        np.testing.assert_allclose(g.numpy(), 2.0)

"""Issue 9, op level: masks give exactly 0 (never 0 * inf), and ops raise, promote and keep
signed zeros as PyTorch does. Each case asserts the expected value without torch, then
runs the same lambda on torch when it is installed."""
import math
import warnings

import numpy as np
import pytest

import tapegrad as tg

F = lambda L: L.nn.functional    # noqa: E731
INF, NAN = math.inf, math.nan


def _grads(L, fn, *values):
    """Gradients (float64 arrays) of fn(L, *leaves).sum() with respect to the leaves."""
    xs = [L.tensor(v, dtype=L.float64, requires_grad=True) for v in values]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        fn(L, *xs).sum().backward()
    return [np.array(x.grad.tolist()) for x in xs]


# ---- (k) masked-out positions get exactly 0 -----------------------------------------------------
# name, fn, inputs, expected gradients
MASKS = [
    ("sqrt_clamp_min", lambda L, d: L.sqrt(L.clamp(d, min=0)), ([-1., 4.],), [[0., .25]]),
    ("sqrt_clamp_max", lambda L, d: L.sqrt(-L.clamp(d, max=0)), ([-4., 1.],), [[-.25, 0.]]),
    ("sqrt_relu", lambda L, d: L.sqrt(L.relu(d)), ([-1., 4.],), [[0., .25]]),
    ("sqrt_F_relu", lambda L, d: L.sqrt(F(L).relu(d)), ([-1., 4.],), [[0., .25]]),
    ("clamp_tensor_bounds", lambda L, d, lo: L.sqrt(L.clamp(d, min=lo)),
     ([-1., 4.], [0., 0.]), [[0., .25], [INF, 0.]]),
    ("maximum", lambda L, a, b: L.sqrt(L.maximum(a, b)),
     ([0., 4.], [-1., 1.]), [[INF, .25], [0., 0.]]),
    ("maximum_tie", lambda L, a, b: L.sqrt(L.maximum(a, b)),
     ([0., 4.], [0., 1.]), [[INF, .25], [INF, 0.]]),
    ("minimum", lambda L, a, b: L.sqrt(-L.minimum(a, b)),
     ([0., -4.], [-1., 1.]), [[0., -.25], [-.5, 0.]]),
    ("max_all", lambda L, d: 1 / (d.max() - 4.), ([[1., 2.], [4., 3.]],), [[[0., 0.], [-INF, 0.]]]),
    ("min_all", lambda L, d: 1 / (d.min() - 1.), ([[1., 2.], [4., 3.]],), [[[-INF, 0.], [0., 0.]]]),
    ("max_dim", lambda L, d: 1 / (d.max(dim=0).values - 4.),
     ([[1., 2.], [4., 4.]],), [[[0., 0.], [-INF, -INF]]]),
    ("min_dim", lambda L, d: 1 / (d.min(dim=1).values - 1.),
     ([[1., 2.], [4., 1.]],), [[[-INF, 0.], [0., -INF]]]),
    ("where", lambda L, a: 1 / L.where(a > 0, a, L.ones_like(a)), ([0., 2.],), [[0., -.25]]),
    ("leaky_relu", lambda L, a: 1 / F(L).leaky_relu(a), ([0., 2.],), [[-INF, -.25]]),
    ("max_pool2d", lambda L, x: 1 / F(L).max_pool2d(x, 2),
     ([[[[0., -1.], [-2., -3.]]]],), [[[[[-INF, 0.], [0., 0.]]]]]),
    ("max_all_nan", lambda L, d: d.max() * 2, ([1., NAN, 3.],), [[0., 2., 0.]]),
]


@pytest.mark.parametrize("name,fn,inputs,want", MASKS, ids=[m[0] for m in MASKS])
def test_masked_positions_get_exact_zeros(name, fn, inputs, want):
    for got, w in zip(_grads(tg, fn, *inputs), want):
        np.testing.assert_array_equal(got, np.array(w))


@pytest.mark.parametrize("name,fn,inputs,want", MASKS, ids=[m[0] for m in MASKS])
def test_masked_positions_match_torch(name, fn, inputs, want):
    torch = pytest.importorskip("torch")
    for got, ref in zip(_grads(tg, fn, *inputs), _grads(torch, fn, *inputs)):
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("loss", ["nll", "cross_entropy", "cross_entropy_smooth"])
def test_every_target_ignored_gives_nan_loss_and_zero_grad(loss):
    def run(L):
        x = L.tensor([[1., 2.], [3., -INF]], dtype=L.float64, requires_grad=True)
        t = L.tensor([-100, -100])
        if loss == "nll":
            out = F(L).nll_loss(x, t)
        else:
            out = F(L).cross_entropy(x, t, label_smoothing=0.2 if "smooth" in loss else 0.0)
        out.backward()
        return out.item(), np.array(x.grad.tolist())
    value, grad = run(tg)
    assert math.isnan(value)
    np.testing.assert_array_equal(grad, np.zeros((2, 2)))
    torch = pytest.importorskip("torch")
    t_value, t_grad = run(torch)
    assert math.isnan(t_value)
    np.testing.assert_array_equal(grad, t_grad)


def test_ignored_samples_with_infinite_log_prob_add_nothing():
    logp = tg.tensor([[-INF, 0.], [-1., -2.]], requires_grad=True)
    loss = F(tg).nll_loss(logp, tg.tensor([-100, 1]), reduction="none")
    np.testing.assert_array_equal(loss.detach().numpy(), [0., 2.])


# ---- (j), (m), section 3: values, dtypes and errors ---------------------------------------------
def _run(fn, L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(L)


# name, fn, expected: an exception type, or (dtype name, values)
BEHAVIOUR = [
    ("where_float_cond", lambda L: L.where(L.tensor([1., 0.]), L.ones(2), L.zeros(2)),
     RuntimeError),
    ("where_int_cond", lambda L: L.where(L.tensor([1, 0]), L.ones(2), L.zeros(2)), RuntimeError),
    ("where_bool_cond", lambda L: L.where(L.tensor([True, False]), L.ones(2), L.zeros(2)),
     ("float32", [1., 0.])),
    ("int_floordiv_zero", lambda L: L.tensor([1, 2]) // L.tensor([0, 1]), RuntimeError),
    ("int_floordiv_scalar_zero", lambda L: L.tensor([1, 2]) // 0, RuntimeError),
    ("int_mod_zero", lambda L: L.tensor([1, 2]) % 0, RuntimeError),
    ("int_fmod_zero", lambda L: L.fmod(L.tensor([1, 2]), 0), RuntimeError),
    ("float_floordiv_zero", lambda L: L.tensor([1., -1.]) // 0, ("float32", [INF, -INF])),
    ("fmod_sign_of_dividend", lambda L: L.fmod(L.tensor([-3., 3.]), 2), ("float32", [-1., 1.])),
    ("int_fmod", lambda L: L.fmod(L.tensor([-3, 3]), 2), ("int64", [-1, 1])),
    ("remainder_sign_of_divisor", lambda L: L.remainder(L.tensor([-3., 3.]), 2),
     ("float32", [1., 1.])),
    ("transposed_view_flat", lambda L: L.ones(2, 3).t().view(-1), RuntimeError),
    ("expanded_view_flat", lambda L: L.ones(3, 1).expand(3, 4).view(12), RuntimeError),
    ("transposed_view_compatible", lambda L: L.ones(2, 3).t().view(3, 1, 2).sum((1, 2)),
     ("float32", [2., 2., 2.])),
    ("transposed_reshape_flat", lambda L: L.arange(6).view(2, 3).t().reshape(-1),
     ("int64", [0, 3, 1, 4, 2, 5])),
    ("bool_minus_float", lambda L: L.tensor([True]) - L.tensor([1.]), RuntimeError),
    ("float_minus_bool", lambda L: L.tensor([1.]) - L.tensor([True]), RuntimeError),
    ("bool_minus_int", lambda L: L.tensor([True]) - 1, RuntimeError),
    ("int_minus_bool", lambda L: 1 - L.tensor([True]), RuntimeError),
    ("neg_bool", lambda L: -L.tensor([True]), RuntimeError),
    ("negative_step", lambda L: L.arange(3)[::-1], ValueError),
    ("negative_step_tuple", lambda L: L.ones(2, 3)[0, ::-2], ValueError),
    ("negative_step_setitem", lambda L: L.arange(3).__setitem__(slice(None, None, -1), 0),
     ValueError),
    ("positive_step", lambda L: L.arange(5)[::2], ("int64", [0, 2, 4])),
    ("mse_promotes_0d_target", lambda L: F(L).mse_loss(L.ones(3), L.tensor(2., dtype=L.float64)),
     ("float64", 1.)),
    ("l1_promotes_0d_target", lambda L: F(L).l1_loss(L.ones(3), L.tensor(2., dtype=L.float64)),
     ("float64", 1.)),
    ("flip_0d", lambda L: L.flip(L.tensor(2.), [0]), ("float32", 2.)),
    ("flip_0d_neg", lambda L: L.flip(L.tensor(2.), (-1,)), ("float32", 2.)),
    ("adjoint_0d", lambda L: L.adjoint(L.tensor(2.)), ("float32", 2.)),
    ("adjoint_1d", lambda L: L.adjoint(L.tensor([2.])), RuntimeError),
    ("adjoint_2d", lambda L: L.adjoint(L.tensor([[1., 2.]])), ("float32", [[1.], [2.]])),
    ("transpose_0d", lambda L: L.tensor(2.).transpose(0, -1), ("float32", 2.)),
    ("transpose_1d", lambda L: L.tensor([2.]).transpose(0, -1), ("float32", [2.])),
    ("sign_nan", lambda L: L.sign(L.tensor([NAN, -2., 0.])), ("float32", [0., -1., 0.])),
    ("sign_bool", lambda L: L.sign(L.tensor([True, False])), ("bool", [True, False])),
    ("square_bool", lambda L: L.square(L.tensor([True, False])), ("int64", [1, 0])),
    ("clamp_int_float_bound", lambda L: L.clamp(L.tensor([1, 5]), min=2.5), ("float32", [2.5, 5.])),
    ("clamp_tensor_nan_bound", lambda L: L.clamp(L.tensor([NAN, 1.]), min=L.tensor([0., NAN])),
     ("float32", [NAN, NAN])),
    ("einsum_mixed_size1", lambda L: L.einsum("ij,jk->ik", L.ones(1, 1), L.ones(1, 1,
                                                                             dtype=L.float64)),
     ("float64", [[1.]])),
    ("einsum_mixed_outer", lambda L: L.einsum("i,j->ij", L.ones(1), L.ones(2, dtype=L.float64)),
     ("float64", [[1., 1.]])),
    ("einsum_mixed_empty", lambda L: L.einsum("ij,jk->ik", L.ones(2, 0, dtype=L.float64),
                                              L.ones(0, 3)), ("float32", [[0.] * 3] * 2)),
    ("einsum_mixed_contraction", lambda L: L.einsum("ij,jk->ik", L.ones(1, 2),
                                                    L.ones(2, 1, dtype=L.float64)), RuntimeError),
    ("bmm_mixed_empty", lambda L: L.bmm(L.ones(1, 2, 0), L.ones(1, 0, 3, dtype=L.float64)),
     ("float64", [[[0.] * 3] * 2])),
    ("bmm_mixed_size1", lambda L: L.bmm(L.ones(1, 1, 1), L.ones(1, 1, 1, dtype=L.float64)),
     RuntimeError),
    ("mm_mixed_empty", lambda L: L.mm(L.ones(2, 0), L.ones(0, 3, dtype=L.float64)),
     RuntimeError),
]


def _check(result, want):
    if isinstance(want, type):
        assert isinstance(result, want), f"expected {want.__name__}, got {result!r}"
        return
    assert not isinstance(result, Exception), result
    dtype, values = want
    assert str(result.dtype).replace("torch.", "") == dtype
    np.testing.assert_array_equal(np.array(result.tolist()), np.array(values))


def _outcome(fn, L):
    try:
        return _run(fn, L)
    except Exception as err:    # noqa: BLE001  (the exception is what is compared)
        return err


@pytest.mark.parametrize("name,fn,want", BEHAVIOUR, ids=[b[0] for b in BEHAVIOUR])
def test_behaviour(name, fn, want):
    _check(_outcome(fn, tg), want)


@pytest.mark.parametrize("name,fn,want", BEHAVIOUR, ids=[b[0] for b in BEHAVIOUR])
def test_behaviour_matches_torch(name, fn, want):
    torch = pytest.importorskip("torch")
    _check(_outcome(fn, torch), want)


def test_int_division_by_zero_names_the_error():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        tg.tensor([3]) // tg.tensor([0])


@pytest.mark.parametrize("lib", ["tapegrad", "torch"])
def test_clamp_keeps_x_where_in_range_signed_zero(lib):
    L = tg if lib == "tapegrad" else pytest.importorskip("torch")
    assert np.signbit(L.clamp(L.tensor(-0.0), min=0).item())
    assert np.signbit(L.clamp(L.tensor([-0.0, 1.]), min=0.0).tolist()[0])
    assert not np.signbit(L.clamp(L.tensor(0.0), max=-0.0).item())
    assert np.signbit(L.clamp(L.tensor([-0.0]), min=L.tensor([0.0])).item())


@pytest.mark.parametrize("lib", ["tapegrad", "torch"])
def test_in_place_on_expand_that_stretches_nothing(lib):
    L = tg if lib == "tapegrad" else pytest.importorskip("torch")
    x = L.ones(2, 3)
    x.expand(2, 3).add_(1)
    x2 = L.ones(3)
    x2.expand(1, 3).add_(1)
    assert x.tolist() == [[2.] * 3] * 2 and x2.tolist() == [2.] * 3
    w = L.ones(2, 3, requires_grad=True)
    y = w * 1
    y.expand(2, 3).mul_(2)
    y.sum().backward()
    assert w.grad.tolist() == [[2.] * 3] * 2
    with pytest.raises(RuntimeError):
        L.ones(2, 1).expand(2, 3).add_(1)     # overlapping memory: refused, as PyTorch


@pytest.mark.parametrize("lib", ["tapegrad", "torch"])
def test_in_place_on_stack_output(lib):
    L = tg if lib == "tapegrad" else pytest.importorskip("torch")
    a = L.ones(2, requires_grad=True)
    s = L.stack([a * 1, a * 2])
    s.mul_(2)
    s.sum().backward()
    assert a.grad.tolist() == [6., 6.]


def test_fmod_gradients_match_torch():
    torch = pytest.importorskip("torch")
    fn = lambda L, x, y: L.fmod(x, y)    # noqa: E731
    x, y = [-3.5, 2.5, 7.25], [2., -1.5, 3.]
    for got, ref in zip(_grads(tg, fn, x, y), _grads(torch, fn, x, y)):
        np.testing.assert_allclose(got, ref)
    np.testing.assert_array_equal(_grads(tg, fn, x, y)[1], [1., 1., -2.])


# ---- the differential tester's small finds (K8, K9, K20) --------------------------------------
def test_permute_and_repeat_without_dims_raise_typeerror():
    with pytest.raises(TypeError):
        tg.tensor(1.0).permute()
    with pytest.raises(TypeError):
        tg.tensor(1.0).repeat()


def test_flatten_that_merges_nothing_returns_the_tensor():
    x = tg.ones(3, requires_grad=True)
    assert x.flatten() is x and x.flatten().is_leaf
    assert tg.ones(2, 3).flatten().shape == (6,)


def test_amax_of_empty_without_dim_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="Specify the reduction dim"):
        tg.zeros(0).amax()

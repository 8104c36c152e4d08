"""ops/trig.py, pointwise.py, bitwise.py, div's rounding modes and the in-place math forms:
the NaN, tie, zero and dtype cases the op table's random inputs never hit, against PyTorch
where it is installed."""
import math

import numpy as np
import pytest

import tapegrad as tg

NAN, INF = math.nan, math.inf


def _both(torch, fn, xs, ys):
    """fn's value and both gradients, in tapegrad and in PyTorch (float64)."""
    res = []
    for lib in (tg, torch):
        x = lib.tensor(xs, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(ys, dtype=lib.float64, requires_grad=True)
        out = fn(lib, x, y)
        gx, gy = lib.autograd.grad(out.sum(), (x, y))
        res.append([out.detach().numpy(), gx.numpy(), gy.numpy()])
    return res


SPECIAL = [
    ("fmax", lambda T, x, y: T.fmax(x, y), [1.0, 2.0, NAN, NAN, 3.0], [1.0, NAN, 2.0, NAN, 4.0]),
    ("fmin", lambda T, x, y: T.fmin(x, y), [1.0, 2.0, NAN, NAN, 3.0], [1.0, NAN, 2.0, NAN, 4.0]),
    ("copysign", lambda T, x, y: T.copysign(x, y), [0.0, -2.0, 3.0, -0.0], [-1.0, 1.0, -0.0, 2.0]),
    ("hypot", lambda T, x, y: T.hypot(x, y), [0.0, -2.0, 3.0], [0.0, 1.0, -0.0]),
    ("atan2", lambda T, x, y: T.atan2(x, y), [0.0, -0.0, 1.0, 0.0], [0.0, 0.0, 0.0, -1.0]),
    ("logaddexp", lambda T, x, y: T.logaddexp(x, y), [-INF, 800.0, 2.0, -800.0],
     [-INF, 800.0, 1.0, 0.0]),
    ("logaddexp2", lambda T, x, y: T.logaddexp2(x, y), [INF, 2.0, -900.0], [1.0, 2.0, 0.0]),
    ("rsub", lambda T, x, y: T.rsub(x, y, alpha=3), [1.0, -2.0], [0.5, 4.0]),
    ("div_floor", lambda T, x, y: T.div(x, y, rounding_mode="floor"), [1.0, -7.0, 7.0, 1.0],
     [0.0, 2.0, -2.0, 3.0]),
    ("div_trunc", lambda T, x, y: T.div(x, y, rounding_mode="trunc"), [-1.0, -7.0, 7.0, 0.0],
     [0.0, 2.0, -2.0, 0.0]),
]


@pytest.mark.parametrize("name,fn,xs,ys", SPECIAL, ids=[s[0] for s in SPECIAL])
def test_nan_ties_and_zeros_as_pytorch(name, fn, xs, ys):
    torch = pytest.importorskip("torch")
    with np.errstate(all="ignore"):
        mine, theirs = _both(torch, fn, xs, ys)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_rules_without_torch():
    x, y = tg.tensor([1.0, 2.0, NAN], requires_grad=True), tg.tensor([1.0, NAN, 2.0],
                                                                       requires_grad=True)
    gx, gy = tg.autograd.grad(tg.fmax(x, y).sum(), (x, y))
    assert gx.tolist() == [1, 1, 0] and gy.tolist() == [0, 0, 1]     # a tie goes to input
    x = tg.tensor([0.0, -2.0], requires_grad=True)
    (g,) = tg.autograd.grad(tg.copysign(x, 1.0).sum(), x)
    assert g.tolist() == [0, -1]
    (g,) = tg.autograd.grad(tg.div(x, 2.0, rounding_mode="floor").sum(), x)
    assert g.tolist() == [0, 0]


def test_integer_rounding_division():
    torch = pytest.importorskip("torch")
    xs = [-7, -6, -5, -1, 0, 1, 5, 6, 7]
    for d in (3, -3, 2, -2):
        for mode in ("trunc", "floor"):
            got = tg.div(tg.tensor(xs), d, rounding_mode=mode)
            want = torch.div(torch.tensor(xs), d, rounding_mode=mode)
            assert got.dtype == tg.int64 and got.tolist() == want.tolist(), (d, mode)


def test_division_errors():
    with pytest.raises(RuntimeError, match="rounding_mode to be one of None"):
        tg.div(tg.ones(2), 2, rounding_mode="round")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        tg.div(tg.tensor([1, 2]), 0, rounding_mode="floor")
    a = tg.tensor([7, -7])
    assert a.div_(2, rounding_mode="trunc") is a and a.tolist() == [3, -3]
    assert tg.divide(tg.tensor([7.0]), 2, rounding_mode="floor").tolist() == [3.0]
    assert tg.tensor([1, 2]).divide(tg.tensor([2, 2])).dtype == tg.float32


def test_dtypes_and_aliases():
    assert tg.asin(tg.tensor([1, 0])).dtype == tg.float32        # integers: the default float
    assert tg.atan2(tg.tensor([1]), tg.tensor([2])).dtype == tg.float32
    assert tg.copysign(tg.tensor([1, 2]), -1).tolist() == [-1.0, -2.0]
    assert tg.rsub(tg.tensor([1, 2]), 3, alpha=2).tolist() == [1, -1]
    assert tg.clamp_min(tg.tensor([1, 2]), 1.5).tolist() == [1.5, 2.0]
    assert tg.tensor([3.0, -1.0]).clamp_max(0.0).tolist() == [0.0, -1.0]
    assert tg.arcsin is tg.asin and tg.arctan2 is tg.atan2 and tg.Tensor.arccosh is tg.acosh
    for name in ("hypot", "logaddexp", "logaddexp2"):
        with pytest.raises(NotImplementedError, match=name):
            getattr(tg, name)(tg.tensor([3]), tg.tensor([4]))


def test_signbit():
    got = tg.signbit(tg.tensor([-0.0, 0.0, -1.0, NAN, -NAN, INF]))
    assert got.dtype == tg.bool and got.tolist() == [True, False, True, False, True, False]
    assert tg.tensor([-1, 2]).signbit().tolist() == [True, False]
    assert not tg.signbit(tg.tensor([-1.0], requires_grad=True)).requires_grad


def test_bitwise_ops_and_operators():
    a, b = tg.tensor([5, 3, -8]), tg.tensor([3, 3, 2])
    assert tg.bitwise_and(a, b).tolist() == [1, 3, 0] and (a & b).tolist() == [1, 3, 0]
    assert (a | b).tolist() == [7, 3, -6] and (a ^ b).tolist() == [6, 0, -6]
    assert (~a).tolist() == [-6, -4, 7] and tg.bitwise_not(a).tolist() == [-6, -4, 7]
    assert (a << 1).tolist() == [10, 6, -16] and (a >> 1).tolist() == [2, 1, -4]
    assert (1 ^ a).tolist() == [4, 2, -7] and (6 & a).tolist() == [4, 2, 0]
    t, f = tg.tensor([True, False]), tg.tensor([True, True])
    assert (t ^ f).tolist() == [False, True] and (t & f).dtype == tg.bool
    assert (~t).tolist() == [False, True] and (t | False).tolist() == [True, False]
    assert (tg.tensor([True]) & 1).dtype == tg.int64
    assert (tg.tensor([1, 2], dtype=tg.uint8) & 255).dtype == tg.uint8
    c = tg.tensor([6, 5])
    c &= 3
    c ^= tg.tensor([1, 1])
    assert c.tolist() == [3, 0] and c.bitwise_or_(8).tolist() == [11, 8]


def test_bitwise_refuses_floats():
    x = tg.tensor([1.0])
    with pytest.raises(NotImplementedError, match="bitwise_and"):
        x & x
    with pytest.raises(NotImplementedError, match="bitwise_not"):
        tg.bitwise_not(x)
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        ~x


INPLACE = ["sin", "cos", "tan", "log", "log1p", "log2", "log10", "expm1", "rsqrt", "floor",
           "ceil", "round", "trunc", "frac", "sign", "reciprocal", "square", "asin", "acos",
           "atan", "sinh", "cosh", "asinh", "atanh", "arcsin", "arctan", "arcsinh", "negative",
           "absolute"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_forms_write_the_out_of_place_result(name):
    x = tg.tensor([0.3, 0.7, 0.55])
    want = getattr(x, name)()
    y = x.clone()
    assert getattr(y, name + "_")() is y
    np.testing.assert_array_equal(y.numpy(), want.numpy())


def test_inplace_binary_forms():
    x = tg.tensor([0.3, -0.7])
    for name, other in [("atan2", 0.5), ("hypot", tg.tensor([1.0, 2.0])), ("copysign", -1.0),
                        ("clamp_min", 0.0), ("clamp_max", 0.0), ("fmod", 0.25),
                        ("remainder", 0.25), ("floor_divide", 0.25), ("true_divide", 2.0)]:
        y = x.clone()
        getattr(y, name + "_")(other)
        np.testing.assert_array_equal(y.numpy(), getattr(x, name)(other).numpy(), err_msg=name)
    y = x.clone()
    y.lerp_(tg.tensor([1.0, 1.0]), 0.5)
    np.testing.assert_allclose(y.numpy(), [0.65, 0.15], rtol=1e-6)
    y = x.clone()
    with np.errstate(invalid="ignore"):
        assert y.acosh_().isnan().all()     # out of the domain: NaN, as PyTorch


def test_inplace_into_an_integer_tensor_refuses_a_float_result():
    with pytest.raises(RuntimeError, match="can't be cast"):
        tg.tensor([1, 2]).sin_()


def test_inplace_math_is_differentiable():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tg, torch):
        x = lib.tensor([0.3, -0.7, 0.5], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.sin_().sinh_().mul_(3).atan2_(x + 2).clamp_min_(0.1)
        (g,) = lib.autograd.grad(y.sum(), x)
        grads.append(g.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_sigmoid_of_a_bare_number_is_a_number():
    """Raw backward rules call ops on bare numbers and 0-d arrays: sigmoid must accept them."""
    from tapegrad.ops.unary import sigmoid
    assert sigmoid(0.0) == 0.5
    assert abs(sigmoid(np.float64(1.0)) - 0.7310585786300049) < 1e-15
    assert sigmoid(np.ones(2, np.float16)).dtype == np.float16

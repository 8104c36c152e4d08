"""The activations of nn/activation_more.py and the math of ops/trig.py, pointwise.py,
bitwise.py: subgradients at kinks, NaN and tie rules, dtypes, errors, in-place forms and
modules, against PyTorch where it is installed (the op table checks the smooth parts)."""
import math

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

NAN, INF = math.nan, math.inf


def _grad(fn, values, *others):
    x = tg.tensor(values, dtype=tg.float64, requires_grad=True)
    fn(x, *others).sum().backward()
    return x.grad.numpy()


def _torch_grad(torch, fn, values, *others):
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn(x, *others).sum().backward()
    return x.grad.numpy()


# each activation with points on its kinks: the subgradient there is PyTorch's choice
KINKS = [
    ("hardtanh", lambda F, x: F.hardtanh(x), [-1.0, 1.0, 0.0, -2.0, 2.0]),
    ("hardtanh_bounds", lambda F, x: F.hardtanh(x, -0.5, 2.0), [-0.5, 2.0, 1.0]),
    ("relu6", lambda F, x: F.relu6(x), [0.0, 6.0, 3.0, -1.0, 7.0]),
    ("elu", lambda F, x: F.elu(x, 2.0), [0.0, -1.0, 1.0]),
    ("selu", lambda F, x: F.selu(x), [0.0, -1.0, 1.0]),
    ("celu", lambda F, x: F.celu(x, 2.0), [0.0, -1.0, 1.0]),
    ("softplus", lambda F, x: F.softplus(x, 2.0, 3.0), [1.5, 1.6, 0.0, -30.0, 40.0]),
    ("softsign", lambda F, x: F.softsign(x), [0.0, -1.0]),
    ("hardsigmoid", lambda F, x: F.hardsigmoid(x), [-3.0, 3.0, 0.0, -4.0, 4.0]),
    ("hardswish", lambda F, x: F.hardswish(x), [-3.0, 3.0, 0.0, -4.0, 4.0]),
    ("threshold", lambda F, x: F.threshold(x, 1.0, 5.0), [1.0, 2.0, 0.0]),
    ("softshrink", lambda F, x: F.softshrink(x, 0.5), [0.5, -0.5, 1.0, 0.0, -1.0]),
    ("hardshrink", lambda F, x: F.hardshrink(x, 0.5), [0.5, -0.5, 1.0, 0.0, -1.0]),
    ("mish", lambda F, x: F.mish(x), [0.0, 100.0, -100.0, 1.0]),
    ("logsigmoid", lambda F, x: F.logsigmoid(x), [0.0, 100.0, -100.0, 800.0, -800.0]),
    ("tanhshrink", lambda F, x: F.tanhshrink(x), [0.0, 1.0]),
    ("glu", lambda F, x: F.glu(x), [0.0, 1.0, 2.0, 3.0]),
]


@pytest.mark.parametrize("name,fn,values", KINKS, ids=[k[0] for k in KINKS])
def test_kinks_take_pytorchs_subgradient(name, fn, values):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    got = _grad(lambda x: fn(F, x), values)
    want = _torch_grad(torch, lambda x: fn(TF, x), values)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    x = tg.tensor(values, dtype=tg.float64)
    np.testing.assert_allclose(fn(F, x).numpy(),
                               fn(TF, torch.tensor(values, dtype=torch.float64)).numpy(),
                               rtol=1e-6, atol=1e-300)


def test_kinks_without_torch():
    """The choices hold without PyTorch installed too."""
    assert list(_grad(F.hardtanh, [-1.0, 1.0, 0.0])) == [0, 0, 1]
    assert list(_grad(F.relu6, [0.0, 6.0])) == [0, 0]
    assert list(_grad(F.hardswish, [-3.0, 3.0])) == [0, 1]
    assert list(_grad(lambda x: F.elu(x, 2.0), [0.0])) == [2]
    assert list(_grad(lambda x: F.softshrink(x, 0.5), [0.5, -0.5])) == [0, 0]
    assert list(_grad(lambda x: F.threshold(x, 1.0, 5.0), [1.0])) == [0]
    assert list(_grad(F.logsigmoid, [-800.0, 800.0])) == [1, 0]


def test_float32_keeps_its_dtype():
    x = tg.randn(3, 4)
    for f in (F.hardtanh, F.relu6, F.elu, F.selu, F.celu, F.softplus, F.softsign, F.hardsigmoid,
              F.hardswish, F.softshrink, F.hardshrink, F.mish, F.logsigmoid, F.tanhshrink,
              F.glu, tg.sinh, tg.atan):
        assert f(x).dtype == tg.float32, f


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "elu", "selu", "celu", "hardsigmoid",
                                  "hardswish", "mish", "threshold"])
def test_inplace_writes_and_differentiates(name):
    args = (0.5, -1.0) if name == "threshold" else ()
    fn = getattr(F, name)
    x = tg.tensor([-4.0, -1.0, 0.3, 2.0, 7.0], dtype=tg.float64, requires_grad=True)
    want = fn(x, *args)
    (gw,) = tg.autograd.grad(want.sum(), x)
    y = x * 1
    out = fn(y, *args, inplace=True)
    assert out is y and y._version > 0
    np.testing.assert_array_equal(y.detach().numpy(), want.detach().numpy())
    (g,) = tg.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(g.numpy(), gw.numpy())


def test_functional_underscore_forms():
    y = tg.tensor([-2.0, 0.5, 3.0])
    assert F.hardtanh_(y) is y and y.tolist() == [-1.0, 0.5, 1.0]
    y = tg.tensor([-2.0, 0.5, 3.0])
    F.threshold_(y, 1.0, 9.0)
    assert y.tolist() == [9.0, 9.0, 3.0]
    for f in (F.elu_, F.selu_, F.celu_):
        y = tg.tensor([-1.0, 1.0])
        assert f(y) is y


def test_leaf_inplace_activation_refuses():
    x = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.elu(x, inplace=True)


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(tg.ones(3))
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(tg.tensor(1.0))
    with pytest.raises(RuntimeError, match="lambda must be"):
        F.softshrink(tg.ones(2), -1.0)
    with pytest.raises(ValueError, match="min_val cannot be greater"):
        F.hardtanh(tg.ones(2), 1.0, -1.0)
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(tg.ones(2), 0.0)
    with pytest.raises(RuntimeError, match="parameter numbers = 2 and channel size = 3"):
        F.prelu(tg.ones(2, 3), tg.ones(2))
    with pytest.raises(NotImplementedError, match="softplus"):
        F.softplus(tg.tensor([1, 2]))


def test_prelu_channels_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 4)), rng.uniform(0.1, 0.5, 3)
    x[0, 0, 0] = 0.0                    # the kink: prelu'(0) = weight, as in PyTorch
    a, b = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.prelu(a, b).pow(2).sum().backward()
    torch.nn.functional.prelu(ta, tb).pow(2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    assert F.prelu(tg.tensor(-2.0), tg.tensor([0.5])).shape == ()


MODULES = [
    ("Hardtanh", (-0.5, 2.0), "min_val=-0.5, max_val=2.0"),
    ("ReLU6", (True,), "inplace=True"),
    ("ELU", (2.0,), "alpha=2.0"),
    ("SELU", (), ""),
    ("CELU", (1.5, True), "alpha=1.5, inplace=True"),
    ("Softplus", (2.0, 5.0), "beta=2.0, threshold=5.0"),
    ("Softsign", (), ""),
    ("Hardsigmoid", (True,), ""),
    ("Hardswish", (), ""),
    ("Threshold", (0.1, 20), "threshold=0.1, value=20"),
    ("Softshrink", (0.3,), "0.3"),
    ("Hardshrink", (), "0.5"),
    ("Mish", (True,), "inplace=True"),
    ("LogSigmoid", (), ""),
    ("Tanhshrink", (), ""),
    ("GLU", (1,), "dim=1"),
    ("PReLU", (4,), "num_parameters=4"),
]


@pytest.mark.parametrize("name,args,extra", MODULES, ids=[m[0] for m in MODULES])
def test_modules_match_pytorch(name, args, extra):
    assert repr(getattr(tg.nn, name)(*args)) == f"{name}({extra})"
    torch = pytest.importorskip("torch")
    mine, theirs = getattr(tg.nn, name)(*args).double(), getattr(torch.nn, name)(*args).double()
    assert repr(mine) == repr(theirs)
    x = np.random.default_rng(1).standard_normal((3, 4, 2)) * 3
    a = tg.tensor(x, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    # an in-place module may not write into a leaf: feed it a non-leaf in both libraries
    out, tout = mine(a * 1), theirs(ta * 1)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-7,
                               atol=1e-12)
    seed = np.random.default_rng(2).standard_normal(tuple(tout.shape))
    out.backward(tg.tensor(seed))
    tout.backward(torch.tensor(seed))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-7, atol=1e-12)


def test_prelu_module_trains_as_pytorchs():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((5, 4))
    mine, theirs = tg.nn.PReLU(4, init=0.1), torch.nn.PReLU(4, init=0.1)
    assert [n for n, _ in mine.named_parameters()] == ["weight"]
    opt, topt = tg.optim.SGD(mine.parameters(), lr=0.5), torch.optim.SGD(theirs.parameters(),
                                                                           lr=0.5)
    for _ in range(3):
        for m, o, lib in ((mine, opt, tg), (theirs, topt, torch)):
            o.zero_grad()
            (m(lib.tensor(x, dtype=lib.float32)) - 1).pow(2).mean().backward()
            o.step()
    np.testing.assert_allclose(mine.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-5)

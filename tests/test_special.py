"""tapegrad.special beyond the op table: dtypes, special points, higher derivatives, errors."""
import numpy as np
import pytest
from scipy import special as sp

import tapegrad as tg
from tapegrad import special as S

UNARY = ["erf", "erfc", "erfinv", "expit", "logit", "ndtr", "ndtri", "log_ndtr", "sinc", "entr",
         "gammaln", "digamma", "i0", "i0e", "i1", "i1e"]


def call(name, x):
    if name == "polygamma":
        return S.polygamma(2, x)
    if name == "multigammaln":
        return S.multigammaln(x + 2, 3)
    if name in ("xlogy", "xlog1py", "betaln", "gammainc"):
        return getattr(S, name)(x, x)
    return getattr(S, name)(x)


ALL = UNARY + ["polygamma", "multigammaln", "xlogy", "xlog1py", "betaln", "gammainc"]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [tg.float16, tg.float32, tg.float64])
def test_float_dtype_is_kept_for_values_and_gradients(name, dtype):
    x = tg.tensor([0.2, 0.4], dtype=dtype, requires_grad=True)
    y = call(name, x)
    assert y.dtype == dtype
    if name == "gammainc":
        x = tg.tensor([0.2, 0.4], dtype=dtype)
        y = S.gammainc(x.detach(), x.requires_grad_())
    (g,) = tg.autograd.grad(y.sum(), [x])
    assert g.dtype == dtype


@pytest.mark.parametrize("name", ALL)
def test_integer_input_computes_in_the_default_float(name):
    x = tg.tensor([1, 2])
    if name in ("erfinv", "logit", "ndtri"):
        x = tg.tensor([0, 0])
    assert call(name, x).dtype == tg.float32


@pytest.mark.parametrize("name", ["sinc", "i1", "i1e", "xlogy", "xlog1py", "entr"])
def test_special_points_match_pytorch(name):
    """Where a formula divides by x or takes log(0), the value and gradient are PyTorch's."""
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 0.0, 1.5, -2.0])
    y = np.array([0.0, 2.0, 0.0, 0.5])
    if name == "entr":
        x = np.array([0.0, 0.5, 2.0])

    def run(lib, mod):
        a = lib.tensor(x, requires_grad=True)
        b = lib.tensor(y, requires_grad=True)
        out = getattr(mod, name)(a, b) if name.startswith("xlog") else getattr(mod, name)(a)
        ins = [a, b] if name.startswith("xlog") else [a]
        grads = lib.autograd.grad(out.sum(), ins)
        return [out.detach().numpy()] + [g.numpy() for g in grads]
    with np.errstate(divide="ignore", invalid="ignore"):     # log(0) and 0 * inf, on purpose
        got_all = run(tg, S)
    for got, want in zip(got_all, run(torch, torch.special)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_derivative_chain_of_the_gamma_family():
    """gammaln -> digamma -> polygamma(1) -> polygamma(2): each rule is itself differentiable."""
    x = tg.tensor([0.7, 1.9, 4.2], dtype=tg.float64, requires_grad=True)
    y = S.gammaln(x).sum()
    xs = x.detach().numpy()
    for order in range(4):
        (y,) = tg.autograd.grad(y, [x], create_graph=True)
        want = sp.digamma(xs) if order == 0 else sp.polygamma(order, xs)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-10)
        y = y.sum()


def test_log_ndtr_gradient_is_finite_far_in_the_tail():
    x = tg.tensor([-1e3, -50.0, 0.0, 30.0], dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad(S.log_ndtr(x).sum(), [x])
    # d/dx log Phi(x) -> -x as x -> -inf
    np.testing.assert_allclose(g.numpy()[:2], [1e3, 50.0], rtol=1e-3)
    assert np.all(np.isfinite(g.numpy()))


def test_gammainc_shape_parameter_is_not_differentiable():
    a = tg.tensor([1.5, 2.0], dtype=tg.float64, requires_grad=True)
    x = tg.tensor([0.5, 3.0], dtype=tg.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="gammainc.*input.*detach"):
        S.gammainc(a, x).sum().backward()
    (gx,) = tg.autograd.grad(S.gammainc(a.detach(), x).sum(), [x])
    np.testing.assert_allclose(gx.numpy(), x.detach().numpy() ** 0.5 * np.exp(-0.5)
                               ** np.array([1.0, 6.0]) / sp.gamma([1.5, 2.0]) * [1, 3 ** 0.5],
                               rtol=1e-12)


def test_broadcasting_binary_functions():
    a = tg.tensor(np.random.default_rng(0).uniform(0.5, 2, (3, 1)), requires_grad=True)
    b = tg.tensor(np.random.default_rng(1).uniform(0.5, 2, (4,)), requires_grad=True)
    for fn, ref in [(S.xlogy, sp.xlogy), (S.xlog1py, sp.xlog1py), (S.betaln, sp.betaln)]:
        out = fn(a, b)
        assert out.shape == (3, 4)
        np.testing.assert_allclose(out.detach().numpy(), ref(a.detach().numpy(),
                                                             b.detach().numpy()))
        ga, gb = tg.autograd.grad(out.sum(), [a, b])
        assert ga.shape == (3, 1) and gb.shape == (4,)


def test_reductions_are_tapegrads_own():
    x = tg.randn(3, 4)
    np.testing.assert_array_equal(S.logsumexp(x, 1).numpy(), tg.logsumexp(x, 1).numpy())
    np.testing.assert_array_equal(S.softmax(x, 0).numpy(), tg.softmax(x, 0).numpy())
    assert S.log_softmax(x, 1, dtype=tg.float64).dtype == tg.float64
    with pytest.raises(TypeError):
        S.softmax(x, 0, tg.float64)         # dtype is keyword-only, as in torch.special


def test_errors():
    with pytest.raises(RuntimeError, match=r"multigammaln.*\(p-1\)/2 = 1.0.*\[2\]"):
        S.multigammaln(tg.tensor([0.8, 3.0]), 3)
    with pytest.raises(RuntimeError, match="multigammaln: p must be a positive integer"):
        S.multigammaln(tg.tensor([3.0]), 0)
    with pytest.raises(RuntimeError, match="polygamma: n must be a non-negative integer"):
        S.polygamma(-1, tg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="polygamma: n must be a non-negative integer"):
        S.polygamma(1.5, tg.tensor([1.0]))

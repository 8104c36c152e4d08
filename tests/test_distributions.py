"""tapegrad.distributions against torch.distributions: log_prob, entropy, moments, KL and their
gradients w.r.t. the parameters; sample shapes and statistics (fixed seeds, loose tolerances,
never exact streams); validation errors."""
import numpy as np
import pytest
from scipy import special as sp

import tapegrad
from tapegrad import distributions as D

SPD = [[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]]
SPD2 = [[1.0, -0.4, 0.0], [-0.4, 2.0, 0.5], [0.0, 0.5, 0.8]]

# name, parameters (positional, then keyword), a value inside the support
CASES = [
    ("Normal", ([0.3, -1.2], [0.5, 2.0]), {}, [0.1, 1.0]),
    ("Laplace", ([0.3, -1.2], [0.5, 2.0]), {}, [0.1, 1.0]),
    ("Uniform", ([0.0, -2.0], [1.0, 3.0]), {}, [0.5, 0.0]),
    ("Exponential", ([0.5, 2.0],), {}, [0.1, 1.0]),
    ("Gamma", ([0.5, 2.0], [1.5, 0.7]), {}, [0.1, 1.0]),
    ("Beta", ([0.5, 2.0], [1.5, 0.7]), {}, [0.2, 0.9]),
    ("Poisson", ([0.5, 2.0],), {}, [1.0, 3.0]),
    ("Bernoulli", (), {"probs": [0.2, 0.5, 0.9]}, [1.0, 0.0, 1.0]),
    ("Bernoulli", (), {"logits": [-1.0, 0.0, 2.5]}, [1.0, 0.0, 1.0]),
    ("Categorical", (), {"probs": [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]}, [2.0, 0.0]),
    ("Categorical", (), {"logits": [[0.2, -1.0, 0.5], [1.0, 0.1, -0.3]]}, [1.0, 2.0]),
    ("Dirichlet", ([[0.5, 2.0, 1.5], [3.0, 1.0, 0.7]],), {}, [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]),
    ("MultivariateNormal", ([0.3, -1.0, 0.5],), {"covariance_matrix": SPD}, [[0.0, 0.0, 0.0]]),
    ("MultivariateNormal", ([0.3, -1.0, 0.5],), {"precision_matrix": SPD}, [1.0, -2.0, 0.5]),
    ("MultivariateNormal", ([[0.3, -1.0, 0.5]],),
     {"scale_tril": np.linalg.cholesky(SPD).tolist()}, [1.0, -2.0, 0.5]),
]
IDS = [f"{c[0]}-{'-'.join(c[2])}" if c[2] else c[0] for c in CASES]


def build(lib, dist, name, args, kwargs):
    """The distribution in `lib`, its float64 parameters as leaves that require grad."""
    params = [lib.tensor(np.array(a, np.float64), requires_grad=True) for a in args]
    kw = {k: lib.tensor(np.array(v, np.float64), requires_grad=True) for k, v in kwargs.items()}
    return getattr(dist, name)(*params, **kw), params + list(kw.values())


def arr(t):
    return t.detach().numpy()


def grads(lib, out, params):
    """d out.sum() / d params as arrays, zeros for parameters out does not use."""
    # retain_graph: parameters derived once and cached (logits from probs, the Cholesky factor)
    # are shared by log_prob, entropy and the moments, in PyTorch too
    got = lib.autograd.grad(out.sum(), params, allow_unused=True, retain_graph=True)
    return [np.zeros(p.shape) if g is None else g.numpy() for g, p in zip(got, params)]


def assert_grads_match(torch, out, params, out_t, params_t, rtol=1e-9):
    for a, b in zip(grads(tapegrad, out, params), grads(torch, out_t, params_t)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name,args,kwargs,value", CASES, ids=IDS)
def test_log_prob_entropy_moments_match_torch(name, args, kwargs, value):
    torch = pytest.importorskip("torch")
    d, ps = build(tapegrad, D, name, args, kwargs)
    e, qs = build(torch, torch.distributions, name, args, kwargs)
    assert tuple(d.batch_shape) == tuple(e.batch_shape)
    assert tuple(d.event_shape) == tuple(e.event_shape)
    lp = d.log_prob(tapegrad.tensor(np.array(value)))
    lq = e.log_prob(torch.tensor(np.array(value)))
    np.testing.assert_allclose(arr(lp), arr(lq), rtol=1e-10, atol=1e-12)
    assert_grads_match(torch, lp, ps, lq, qs)
    if name != "Poisson":       # torch has no Poisson entropy either
        h, k = d.entropy(), e.entropy()
        np.testing.assert_allclose(arr(h), arr(k), rtol=1e-10, atol=1e-12)
        assert_grads_match(torch, h, ps, k, qs)
    for prop in ("mean", "variance", "stddev"):
        np.testing.assert_allclose(arr(getattr(d, prop)), arr(getattr(e, prop)), rtol=1e-10)


@pytest.mark.parametrize("name,args,kwargs,value", CASES, ids=IDS)
def test_sample_shapes_and_statistics(name, args, kwargs, value):
    tapegrad.manual_seed(0)
    d, _ = build(tapegrad, D, name, args, kwargs)
    s = d.sample((4000,))
    assert tuple(s.shape) == (4000,) + tuple(d.batch_shape) + tuple(d.event_shape)
    assert not s.requires_grad
    assert bool(d.support.check(s).all())
    if name == "Categorical":
        assert s.dtype == tapegrad.int64
        freq = np.stack([(s.numpy() == k).mean(0) for k in range(3)], -1)
        np.testing.assert_allclose(freq, arr(d.probs), atol=0.05)
        return
    mean, std = arr(d.mean), arr(d.stddev)
    np.testing.assert_allclose(s.numpy().mean(0), mean, atol=6 * std.max() / np.sqrt(4000))
    np.testing.assert_allclose(s.numpy().std(0), std, rtol=0.1, atol=0.02)
    assert tuple(d.sample().shape) == tuple(d.batch_shape) + tuple(d.event_shape)


RSAMPLED = ["Normal", "Laplace", "Uniform", "Exponential", "Gamma", "Beta", "Dirichlet",
            "MultivariateNormal"]


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in RSAMPLED],
                         ids=[i for c, i in zip(CASES, IDS) if c[0] in RSAMPLED])
def test_rsample_gradient_of_the_mean(case):
    """d E[rsample] / d params, estimated from many draws, matches the exact gradient of mean."""
    name, args, kwargs, _ = case
    tapegrad.manual_seed(1)
    d, ps = build(tapegrad, D, name, args, kwargs)
    assert d.has_rsample
    n = 20000
    x = d.rsample((n,))
    assert x.requires_grad
    est = tapegrad.autograd.grad(x.sum() / n, ps)
    exact = tapegrad.autograd.grad(d.mean.sum(), ps, allow_unused=True)
    for a, b in zip(est, exact):
        want = np.zeros(a.shape) if b is None else b.numpy()
        np.testing.assert_allclose(a.numpy(), want, atol=0.08 * max(1, np.abs(want).max()))


def test_gamma_rsample_gradient_is_the_implicit_derivative():
    """dz/da of a Gamma(a, 1) draw equals d/da of the inverse CDF at the draw's quantile."""
    tapegrad.manual_seed(2)
    a = tapegrad.tensor([0.3, 1.0, 4.0, 20.0], dtype=tapegrad.float64, requires_grad=True)
    z = D.Gamma(a, 1.0).rsample((50,))
    (g,) = tapegrad.autograd.grad(z.sum(), [a])
    zz, aa = z.detach().numpy(), a.detach().numpy()
    u = sp.gammainc(aa, zz)
    h = 1e-6 * aa
    fd = (sp.gammaincinv(aa + h, u) - sp.gammaincinv(aa - h, u)) / (2 * h)
    assert ((u > 1e-6) & (u < 1 - 1e-6)).all()      # the inverse CDF is well conditioned there
    np.testing.assert_allclose(g.numpy(), fd.sum(0), rtol=1e-5)


def test_normal_rsample_is_loc_plus_scale_times_noise():
    loc = tapegrad.tensor([1.0, -2.0], requires_grad=True)
    scale = tapegrad.tensor([0.5, 3.0], requires_grad=True)
    x = D.Normal(loc, scale).rsample((7,))
    gl, gs = tapegrad.autograd.grad(x.sum(), [loc, scale])
    np.testing.assert_allclose(gl.numpy(), [7.0, 7.0])
    eps = (x.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()
    np.testing.assert_allclose(gs.numpy(), eps.sum(0), rtol=1e-5)


KL_PAIRS = [
    ("Normal", (([0.3, -1.0], [0.5, 2.0]), {}), (([1.0, 0.0], [1.5, 0.7]), {})),
    ("Laplace", (([0.3, -1.0], [0.5, 2.0]), {}), (([1.0, 0.0], [1.5, 0.7]), {})),
    ("Exponential", (([0.5, 2.0],), {}), (([1.5, 0.7],), {})),
    ("Poisson", (([0.5, 2.0],), {}), (([1.5, 0.7],), {})),
    ("Gamma", (([0.5, 2.0], [1.0, 3.0]), {}), (([1.5, 0.7], [2.0, 0.4]), {})),
    ("Beta", (([0.5, 2.0], [1.0, 3.0]), {}), (([1.5, 0.7], [2.0, 0.4]), {})),
    ("Uniform", (([0.0, -1.0], [1.0, 1.0]), {}), (([-1.0, -2.0], [2.0, 3.0]), {})),
    ("Bernoulli", ((), {"probs": [0.2, 0.5, 0.9]}), ((), {"logits": [0.3, -1.0, 2.0]})),
    ("Categorical", ((), {"probs": [[0.2, 0.3, 0.5]]}), ((), {"logits": [[0.3, -1.0, 2.0]]})),
    ("Dirichlet", (([[0.5, 2.0, 1.5]],), {}), (([[3.0, 1.0, 0.7]],), {})),
    ("MultivariateNormal", (([0.3, -1.0, 0.5],), {"covariance_matrix": SPD}),
     (([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]],), {"covariance_matrix": SPD2})),
]


@pytest.mark.parametrize("name,p,q", KL_PAIRS, ids=[k[0] for k in KL_PAIRS])
def test_kl_divergence_matches_torch(name, p, q):
    torch = pytest.importorskip("torch")
    dp, pp = build(tapegrad, D, name, *p)
    dq, pq = build(tapegrad, D, name, *q)
    ep, qp = build(torch, torch.distributions, name, *p)
    eq, qq = build(torch, torch.distributions, name, *q)
    kl, kt = D.kl_divergence(dp, dq), torch.distributions.kl_divergence(ep, eq)
    np.testing.assert_allclose(arr(kl), arr(kt), rtol=1e-9, atol=1e-12)
    assert_grads_match(torch, kl, pp + pq, kt, qp + qq, rtol=1e-7)


def test_kl_edge_cases_and_register_kl():
    u = D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.5, 1.0))
    assert float(u) == float("inf")
    b = D.kl_divergence(D.Bernoulli(probs=tapegrad.tensor([0.0, 0.3])),
                        D.Bernoulli(probs=tapegrad.tensor([0.5, 0.0])))
    assert np.isfinite(b.numpy()[0]) and b.numpy()[1] == np.inf
    with pytest.raises(NotImplementedError, match="Normal.*Gamma"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Gamma(1.0, 1.0))

    class MyNormal(D.Normal):
        pass
    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0))) == 0.0

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p, q):
        return p.loc * 0 + 42.0
    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0))) == 42.0
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


def test_validation_errors():
    with pytest.raises(ValueError, match="scale.*GreaterThan"):
        D.Normal(0.0, tapegrad.tensor([1.0, -1.0]))
    D.Normal(0.0, tapegrad.tensor([1.0, -1.0]), validate_args=False)       # opt out
    with pytest.raises(ValueError, match="support"):
        D.Beta(1.0, 2.0).log_prob(tapegrad.tensor(1.5))
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(ValueError, match="broadcastable"):
        D.Normal(tapegrad.zeros(3), 1.0).log_prob(tapegrad.zeros(4))
    with pytest.raises(ValueError, match="not both"):
        D.Bernoulli(probs=0.3, logits=0.1)
    with pytest.raises(ValueError, match="Exactly one"):
        D.MultivariateNormal(tapegrad.zeros(2))
    with pytest.raises(ValueError, match="PositiveDefinite"):
        D.MultivariateNormal(tapegrad.zeros(2), tapegrad.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="Simplex"):
        D.Dirichlet(tapegrad.ones(3)).log_prob(tapegrad.tensor([0.5, 0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="rsample"):
        D.Bernoulli(probs=0.3).rsample()


def test_float32_parameters_keep_their_dtype():
    for d in (D.Normal(tapegrad.zeros(2), 1.0), D.Gamma(tapegrad.ones(2), 2.0),
              D.Dirichlet(tapegrad.ones(2, 3)), D.Bernoulli(logits=tapegrad.zeros(2))):
        assert d.sample((3,)).dtype == tapegrad.float32
        assert d.log_prob(d.sample()).dtype == tapegrad.float32


def test_mvn_matrices_and_expand():
    torch = pytest.importorskip("torch")
    d, _ = build(tapegrad, D, "MultivariateNormal", ([0.0, 1.0, 2.0],), {"precision_matrix": SPD})
    e, _ = build(torch, torch.distributions, "MultivariateNormal", ([0.0, 1.0, 2.0],),
                 {"precision_matrix": SPD})
    for m in ("covariance_matrix", "precision_matrix", "scale_tril"):
        np.testing.assert_allclose(arr(getattr(d, m)), arr(getattr(e, m)), rtol=1e-10)
    x = d.expand((4,))
    assert tuple(x.batch_shape) == (4,) and tuple(x.sample((2,)).shape) == (2, 4, 3)
    c = D.Categorical(logits=tapegrad.zeros(3)).enumerate_support()
    assert c.numpy().tolist() == [0, 1, 2]


def test_reachable_as_attribute():
    assert tapegrad.distributions.Normal is D.Normal
    assert tapegrad.distributions.kl.kl_divergence is D.kl_divergence


def test_gamma_rsample_refuses_a_second_derivative():
    """dz/da of a gamma draw is numerical: differentiating it again would be silently wrong."""
    tg = tapegrad
    a = tg.tensor([2.0, 3.0], dtype=tg.float64, requires_grad=True)
    z = tg.distributions.Gamma(a, tg.ones(2, dtype=tg.float64)).rsample()
    g, = tg.autograd.grad(z.sum(), a, create_graph=True)
    assert g.shape == (2,)
    with pytest.raises(RuntimeError, match="rsample's gradient is not implemented"):
        tg.autograd.grad(g.sum(), a)
    with pytest.raises(RuntimeError, match="rsample's gradient is not implemented"):
        tg.autograd.grad(g.sum(), a, allow_unused=True)      # never a silent zero
    y = (z ** 2).sum()                       # also when the outer function is not linear
    g, = tg.autograd.grad(y, a, create_graph=True)
    with pytest.raises(RuntimeError, match="rsample's gradient is not implemented"):
        g.sum().backward()

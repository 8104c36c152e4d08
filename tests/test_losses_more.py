"""The losses of nn/loss_more.py against PyTorch (values and gradients of every float input,
for every reduction, functions and modules), finite differences to second order, and errors."""
import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.autograd import gradcheck, gradgradcheck

R = np.random.default_rng(3)


def _n(*shape, lo=None, hi=None):
    if lo is not None:
        return R.uniform(lo, hi, shape)
    return R.standard_normal(shape)


def _signs(*shape):
    return np.where(R.random(shape) < 0.5, -1.0, 1.0)


# name -> (arrays, which of them are differentiable, keyword arguments to try)
CASES = {
    "smooth_l1_loss": (lambda: [_n(3, 4) * 2, _n(3, 4)], (0, 1),
                       [{}, {"beta": 0.5}, {"beta": 0.0}]),
    "huber_loss": (lambda: [_n(3, 4) * 2, _n(3, 4)], (0, 1), [{}, {"delta": 0.7}]),
    "kl_div": (lambda: [np.log(_n(3, 4, lo=0.05, hi=1)), _n(3, 4, lo=0.05, hi=1)], (0, 1),
               [{"reduction": "batchmean"}, {"reduction": "sum"}, {"reduction": "none"}]),
    "kl_div_log": (lambda: [_n(3, 4), _n(3, 4)], (0, 1),
                   [{"log_target": True, "reduction": "batchmean"},
                    {"log_target": True, "reduction": "none"}]),
    "margin_ranking_loss": (lambda: [_n(5), _n(5), _signs(5)], (0, 1),
                            [{}, {"margin": 0.3}]),
    "triplet_margin_loss": (lambda: [_n(4, 3), _n(4, 3), _n(4, 3)], (0, 1, 2),
                            [{}, {"margin": 0.5, "p": 1}, {"swap": True, "p": 3}]),
    "cosine_embedding_loss": (lambda: [_n(5, 3), _n(5, 3), _signs(5)], (0, 1),
                              [{}, {"margin": 0.2}]),
    "poisson_nll_loss": (lambda: [_n(3, 4), R.poisson(2.0, (3, 4)).astype(float)], (0, 1),
                         [{}, {"full": True}]),
    "poisson_nll_loss_rate": (lambda: [_n(3, 4, lo=0.1, hi=3), R.poisson(2.0, (3, 4)) * 1.0],
                              (0, 1), [{"log_input": False}, {"log_input": False,
                                                              "full": True}]),
    "gaussian_nll_loss": (lambda: [_n(4, 3), _n(4, 3), _n(4, 3, lo=0.2, hi=2)], (0, 1, 2),
                          [{}, {"full": True}]),
    "gaussian_nll_loss_short_var": (lambda: [_n(4, 3), _n(4, 3), _n(4, lo=0.2, hi=2)],
                                    (0, 1, 2), [{}]),
    "gaussian_nll_loss_unit_dim": (lambda: [_n(4, 3), _n(4, 3), _n(4, 1, lo=0.2, hi=2)],
                                   (0, 1, 2), [{}]),
    "multilabel_soft_margin_loss": (lambda: [_n(4, 3) * 3, (R.random((4, 3)) < 0.5) * 1.0],
                                    (0, 1), [{}]),
    "hinge_embedding_loss": (lambda: [_n(6), _signs(6)], (0,), [{}, {"margin": 0.5}]),
    "soft_margin_loss": (lambda: [_n(3, 4) * 3, _signs(3, 4)], (0,), [{}]),
}
REDUCED = {"kl_div", "kl_div_log"}   # their own reductions are listed above


def _fn(lib, name):
    return getattr(lib.nn.functional, name.split("_log")[0].split("_rate")[0]
                   .replace("_short_var", "").replace("_unit_dim", ""))


def _run(lib, name, arrays, diff, kwargs):
    ts = [lib.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _fn(lib, name)(*ts, **kwargs)
    g = np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(tuple(out.shape))
    grads = lib.autograd.grad(out, [ts[i] for i in diff], lib.tensor(g), allow_unused=True)
    return out, grads


def _np(t):
    return None if t is None else t.detach().numpy()


def _cases():
    for name, (make, diff, kws) in CASES.items():
        reductions = [None] if name in REDUCED else ["mean", "sum", "none"]
        for kw in kws:
            for r in reductions:
                yield pytest.param(name, make, diff, kw if r is None else {**kw, "reduction": r},
                                   id=f"{name}-{kw}-{r}")


@pytest.mark.parametrize("name,make,diff,kwargs", _cases())
def test_matches_torch(name, make, diff, kwargs):
    torch = pytest.importorskip("torch")
    arrays = make()
    out, grads = _run(tg, name, arrays, diff, kwargs)
    want, wgrads = _run(torch, name, arrays, diff, kwargs)
    assert tuple(out.shape) == tuple(want.shape)
    np.testing.assert_allclose(_np(out), _np(want), rtol=1e-10, atol=1e-12)
    for i, a, b in zip(diff, grads, wgrads):
        a, b = _np(a), _np(b)
        # PyTorch's target gradient is NaN where poisson_nll_loss(full=True) masks
        # Stirling's term at target 0 (0 * inf); ours is finite there
        keep = ~np.isnan(b) if name.startswith("poisson") and i == 1 else slice(None)
        np.testing.assert_allclose(a[keep], b[keep], rtol=1e-8, atol=1e-12, err_msg=f"input {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_finite_differences_to_second_order(name):
    make, diff, kws = CASES[name]
    arrays = make()
    kw = kws[-1]
    fn = _fn(tg, name)

    def f(*xs):
        full = list(arrays)
        for i, x in zip(diff, xs):
            full[i] = x
        full = [a if isinstance(a, tg.Tensor) else tg.tensor(a) for a in full]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*full, **{"reduction": "sum", **kw})
    if name.startswith("poisson"):
        # Stirling's term jumps at target 1 (PyTorch's too): integer targets sit on the jump
        diff = (0,)
    xs = [tg.tensor(arrays[i], requires_grad=True) for i in diff]
    assert gradcheck(f, xs)
    assert gradgradcheck(f, xs)


def test_distances_match_torch():
    torch = pytest.importorskip("torch")
    a, b = _n(4, 5), _n(4, 5)
    cases = [("cosine_similarity", {}), ("cosine_similarity", {"dim": 0}),
             ("pairwise_distance", {}), ("pairwise_distance", {"p": 1.0, "keepdim": True}),
             ("pairwise_distance", {"p": 3.0, "eps": 0.0})]
    for name, kw in cases:
        res = []
        for lib in (tg, torch):
            x, y = lib.tensor(a, requires_grad=True), lib.tensor(b[:1], requires_grad=True)
            out = getattr(lib.nn.functional, name)(x, y, **kw)
            res.append((out, *lib.autograd.grad(out.sum(), [x, y])))
        for ours, theirs in zip(*res):
            np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-10, atol=1e-12,
                                       err_msg=name)
    mod = nn.CosineSimilarity(dim=0, eps=1e-6)
    assert np.allclose(_np(mod(tg.tensor(a), tg.tensor(b))),
                       _np(torch.nn.CosineSimilarity(0, 1e-6)(torch.tensor(a), torch.tensor(b))))
    pd = nn.PairwiseDistance(p=1.0, keepdim=True)
    assert pd(tg.tensor(a), tg.tensor(b)).shape == (4, 1)


def test_cosine_similarity_of_zero_vector_is_zero():
    z = tg.zeros(2, 3)
    assert np.array_equal(_np(F.cosine_similarity(z, tg.ones(2, 3))), [0.0, 0.0])


@pytest.mark.parametrize("name,args,kw", [
    ("SmoothL1Loss", 2, {"beta": 0.5}), ("HuberLoss", 2, {"delta": 2.0}),
    ("KLDivLoss", 2, {"reduction": "batchmean", "log_target": True}),
    ("MarginRankingLoss", 3, {"margin": 0.1}), ("TripletMarginLoss", 3, {"swap": True}),
    ("CosineEmbeddingLoss", 3, {"margin": 0.1}), ("PoissonNLLLoss", 2, {"full": True}),
    ("GaussianNLLLoss", 3, {"full": True}), ("MultiLabelSoftMarginLoss", 2, {}),
    ("HingeEmbeddingLoss", 2, {"margin": 2.0}), ("SoftMarginLoss", 2, {"reduction": "sum"})])
def test_modules_match_torch(name, args, kw):
    torch = pytest.importorskip("torch")
    x = [_n(4, 3), _n(4, 3), _n(4, 3, lo=0.5, hi=2)][:args]
    if name == "MarginRankingLoss":
        x = [_n(4), _n(4), _signs(4)]
    elif name in ("CosineEmbeddingLoss", "HingeEmbeddingLoss",
                "SoftMarginLoss"):
        x[-1] = _signs(*((4,) if args == 3 else (4, 3)))
    if name == "MultiLabelSoftMarginLoss":
        x[1] = (x[1] > 0) * 1.0
    if name == "PoissonNLLLoss":
        x[1] = np.abs(x[1]) * 3
    outs = []
    for lib in (tg, torch):
        ts = [lib.tensor(a, requires_grad=i == 0) for i, a in enumerate(x)]
        out = getattr(lib.nn, name)(**kw)(*ts)
        outs.append([out, *lib.autograd.grad(out.sum(), ts[:1])])
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-9, atol=1e-12, err_msg=name)


def test_multilabel_soft_margin_weight_and_float32():
    torch = pytest.importorskip("torch")
    x, t, w = _n(4, 3).astype(np.float32), (_n(4, 3) > 0).astype(np.float32), \
        _n(3, lo=0.5, hi=2).astype(np.float32)
    ours = nn.MultiLabelSoftMarginLoss(tg.tensor(w))(tg.tensor(x), tg.tensor(t))
    theirs = torch.nn.MultiLabelSoftMarginLoss(torch.tensor(w))(torch.tensor(x),
                                                                 torch.tensor(t))
    assert ours.dtype == tg.float32
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-6)
    assert "weight" in dict(nn.MultiLabelSoftMarginLoss(tg.tensor(w)).named_buffers())


def test_huber_weight_is_mean_of_weighted_losses():
    torch = pytest.importorskip("torch")
    a, b, w = _n(3, 4) * 2, _n(3, 4), _n(3, 4, lo=0.1, hi=2)
    ours = F.huber_loss(tg.tensor(a), tg.tensor(b), weight=tg.tensor(w))
    theirs = torch.nn.functional.huber_loss(torch.tensor(a), torch.tensor(b),
                                            weight=torch.tensor(w))
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-12)
    with pytest.raises(ValueError, match="same size"):
        F.huber_loss(tg.tensor(a), tg.tensor(b), weight=tg.ones(4))


def test_soft_margins_do_not_overflow():
    big = tg.tensor([800.0, -800.0], requires_grad=True)
    loss = F.soft_margin_loss(big, tg.tensor([-1.0, 1.0]), reduction="sum")
    loss.backward()
    assert np.allclose(_np(loss), 1600.0) and np.allclose(_np(big.grad), [1.0, -1.0])
    assert np.isfinite(_np(F.multilabel_soft_margin_loss(big.reshape(1, 2),
                                                         tg.tensor([[0.0, 1.0]]))))


def test_gaussian_nll_var_float_and_clamp():
    x, t = tg.tensor(_n(4, 3)), tg.tensor(_n(4, 3))
    a = F.gaussian_nll_loss(x, t, 0.5)
    b = F.gaussian_nll_loss(x, t, tg.full((4, 3), 0.5))
    assert np.allclose(_np(a), _np(b))
    var = tg.zeros(4, 3, requires_grad=True)
    F.gaussian_nll_loss(x, t, var, eps=1e-3).backward()
    assert np.isfinite(_np(var.grad)).all()   # clamped value, gradient passed through


def test_errors():
    x = tg.tensor(_n(3, 4))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.kl_div(x, x, reduction="avg")
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, -tg.ones(3, 4))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, tg.ones(3, 2))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(x, x, x[0])
    with pytest.raises(ValueError, match="greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        F.cosine_embedding_loss(x[0], x[0], tg.ones(3))
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(x, x, tg.ones(3))


def test_kl_div_mean_warns_and_zero_target_is_zero():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(tg.zeros(2, 2), tg.zeros(2, 2))
    out = F.kl_div(tg.tensor([[-1.0, -2.0]]), tg.tensor([[0.0, 1.0]]), reduction="none")
    assert np.allclose(_np(out), [[0.0, 2.0]])

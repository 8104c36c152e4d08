"""Adadelta, Adamax, NAdam, RAdam, ASGD, LBFGS vs torch: steps, state_dict layout, round trips."""
import copy

import numpy as np
import pytest

import tapegrad as tg

SHAPES = [(4, 5), (5,), (2, 3, 2)]
STEPS = 10          # RAdam rectifies from step 6 on with beta2 = 0.999
TOL = {np.float32: 1e-5, np.float64: 1e-12}

CASES = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.6, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.1)),
    ("Adamax", dict(lr=0.1, betas=(0.3, 0.7), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.1)),
    ("NAdam", dict(lr=0.1, momentum_decay=0.1, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.1, weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.1)),
    ("RAdam", dict(lr=0.1, betas=(0.5, 0.9), weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.1, weight_decay=0.2, decoupled_weight_decay=True)),
    ("ASGD", dict(lr=0.1)),
    ("ASGD", dict(lr=0.1, lambd=0.1, alpha=0.5, t0=3, weight_decay=0.1, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]


def _data(dtype, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return params, grads


def _run(lib, opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g.copy())
        opt.step()


def _close(ours, theirs, dtype):
    a, b = np.asarray(ours), np.asarray(theirs)
    tol = TOL[dtype]
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, np.abs(b).max()))


def _pair(torch, name, kw, dtype, seed=0):
    params, grads = _data(dtype, seed=seed)
    ours = [tg.tensor(p.copy(), requires_grad=True) for p in params]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    return (ours, getattr(tg.optim, name)(ours, **kw),
            theirs, getattr(torch.optim, name)(theirs, **kw), grads)


def _convert(sd, to):
    state = {k: {n: to(v) for n, v in s.items()} for k, s in sd["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_parity_with_torch(name, kw, dtype):
    torch = pytest.importorskip("torch")
    ours, opt, theirs, topt, grads = _pair(torch, name, kw, dtype)
    _run(tg, opt, ours, grads)
    _run(torch, topt, theirs, grads)
    for a, b in zip(ours, theirs):
        assert a.dtype == dtype
        _close(a.detach(), b.detach().numpy(), dtype)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert list(sd["param_groups"][0]) == list(tsd["param_groups"][0])
    assert sd["state"].keys() == tsd["state"].keys()
    for k in tsd["state"]:
        assert list(sd["state"][k]) == list(tsd["state"][k])
        for key, v in tsd["state"][k].items():
            assert sd["state"][k][key].dtype == np.dtype(str(v.dtype).replace("torch.", ""))
            _close(sd["state"][k][key], v.numpy(), dtype)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_load_state_dict_both_ways(name, kw):
    """A torch checkpoint loads into tapegrad (and ours into torch); all three continue as one."""
    torch = pytest.importorskip("torch")
    dtype = np.float64
    params, grads = _data(dtype, seed=1)
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = getattr(torch.optim, name)(theirs, **kw)
    _run(torch, topt, theirs, grads[:4])

    ours = [tg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt = getattr(tg.optim, name)(ours, lr=123.0)
    opt.load_state_dict(_convert(topt.state_dict(), lambda v: tg.tensor(v.numpy().copy())))
    assert opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]

    back = [torch.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ours]
    topt2 = getattr(torch.optim, name)(back, lr=123.0)
    topt2.load_state_dict(_convert(opt.state_dict(), lambda v: torch.tensor(np.asarray(v))))

    for lib, o, ps in ((tg, opt, ours), (torch, topt, theirs), (torch, topt2, back)):
        _run(lib, o, ps, grads[4:])
    for a, b, c in zip(ours, theirs, back):
        _close(a.detach(), c.detach().numpy(), dtype)
        # loading casts NAdam's mu_product and ASGD's eta and mu to the parameters' float64,
        # in torch as here, so the loaded runs leave the uninterrupted one by roundoff
        np.testing.assert_allclose(a.detach(), b.detach().numpy(), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD"])
def test_differentiable_true_is_refused(name):
    w = tg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"{name}: differentiable=True is not supported"):
        getattr(tg.optim, name)([w], differentiable=True)
    getattr(tg.optim, name)([w], foreach=True, maximize=True)     # accepted, a no-op here


@pytest.mark.parametrize("name,kw,message", [
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Adamax", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", dict(momentum_decay=-1.0), "Invalid momentum_decay value: -1.0"),
    ("RAdam", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("ASGD", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("LBFGS", dict(lr=-1.0), "Invalid learning rate: -1.0"),
])
def test_invalid_hyperparameters_raise_as_torch(name, kw, message):
    with pytest.raises(ValueError, match=message):
        getattr(tg.optim, name)([tg.zeros(2, requires_grad=True)], **kw)


# ---------------------------------------------------------------------- LBFGS

def _rosenbrock(lib, dtype):
    x = lib.tensor(np.array([-1.2, 1.0, 0.5, -0.3], dtype), requires_grad=True)
    w = lib.tensor(np.array([[0.5, -1.0], [2.0, 0.3]], dtype), requires_grad=True)

    def loss_fn():
        r = (100 * (x[1:] - x[:-1] ** 2) ** 2).sum() + ((1 - x[:-1]) ** 2).sum()
        return r + ((w @ w.T - lib.eye(2, dtype=w.dtype)) ** 2).sum()
    return [x, w], loss_fn


def _closure(opt, loss_fn):
    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    return closure


def _lbfgs(lib, dtype, steps, **kw):
    params, loss_fn = _rosenbrock(lib, dtype)
    opt = lib.optim.LBFGS(params, **kw)
    closure = _closure(opt, loss_fn)
    losses = [opt.step(closure).item() for _ in range(steps)]
    return params, losses, opt


@pytest.mark.parametrize("kw", [dict(), dict(line_search_fn="strong_wolfe"),
                                dict(history_size=3, max_iter=7, lr=0.5),
                                dict(history_size=2, line_search_fn="strong_wolfe", max_eval=9)],
                         ids=["plain", "wolfe", "short-history", "wolfe-few-evals"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_lbfgs_matches_torch(kw, dtype):
    torch = pytest.importorskip("torch")
    ours, losses, opt = _lbfgs(tg, dtype, 4, **kw)
    theirs, tlosses, topt = _lbfgs(torch, dtype, 4, **kw)
    # float32 roundoff grows over dozens of closure calls: compare loosely there
    tol = 1e-9 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(losses, tlosses, rtol=tol, atol=tol)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)
    st, tst = opt.state[ours[0]], topt.state[theirs[0]]
    assert list(st) == list(tst)
    if dtype == np.float64:
        assert (st["n_iter"], st["func_evals"]) == (tst["n_iter"], tst["func_evals"])


def test_lbfgs_converges_and_state_dict_resumes():
    params, losses, opt = _lbfgs(tg, np.float64, 6, line_search_fn="strong_wolfe")
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.1 * losses[0]
    # a fresh optimizer loaded from the state_dict continues exactly as the original
    params2, loss_fn2 = _rosenbrock(tg, np.float64)
    with tg.no_grad():
        for p, q in zip(params2, params):
            p.copy_(q)
    opt2 = tg.optim.LBFGS(params2, line_search_fn="strong_wolfe")
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    loss_fn = lambda: ((params[0] - 1) ** 2).sum() + (params[1] ** 2).sum()  # noqa: E731
    loss_fn2 = lambda: ((params2[0] - 1) ** 2).sum() + (params2[1] ** 2).sum()  # noqa: E731
    opt.step(_closure(opt, loss_fn))
    opt2.step(_closure(opt2, loss_fn2))
    for a, b in zip(params, params2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_lbfgs_errors():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        tg.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = tg.optim.LBFGS([a], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(_closure(opt, lambda: ((a - 1) ** 2).sum()))

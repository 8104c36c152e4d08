"""Optimizers: PyTorch parity step for step, state_dict layout and round trips, groups, errors."""
import copy

import numpy as np
import pytest

import tapegrad as tg

SHAPES = [(4, 5), (5,), (2, 3, 2)]

# (optimizer, options): every option of every optimizer, alone and combined
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, weight_decay=0.2, maximize=True)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.1, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.6), eps=1e-3, maximize=True)),   # lerp's w >= 0.5 side
    ("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.1)),
    ("AdamW", dict(lr=0.1, amsgrad=True, weight_decay=0.5, maximize=True)),
    ("RMSprop", dict(lr=0.1)),
    ("RMSprop", dict(lr=0.1, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.1, alpha=0.3, centered=True, maximize=True)),
    ("RMSprop", dict(lr=0.05, momentum=0.9, eps=1e-4)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5,
                     maximize=True, eps=1e-6)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CASES]
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def _data(dtype, steps=5, seed=0):
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


def _to_torch(torch, sd):
    """A tapegrad optimizer state_dict with torch tensors in place of ours."""
    state = {k: {n: torch.tensor(np.asarray(v)) if isinstance(v, tg.Tensor) else v
                 for n, v in s.items()} for k, s in sd["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


def _from_torch(torch, sd):
    """A torch optimizer state_dict converted to numpy-backed tapegrad tensors."""
    state = {k: {n: tg.tensor(v.numpy().copy()) if isinstance(v, torch.Tensor) else v
                 for n, v in s.items()} for k, s in sd["state"].items()}
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


def _pair(torch, name, kw, dtype, seed=0):
    params, grads = _data(dtype, seed=seed)
    ours = [tg.tensor(p.copy(), requires_grad=True) for p in params]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    return (ours, getattr(tg.optim, name)(ours, **kw),
            theirs, getattr(torch.optim, name)(theirs, **kw), grads)


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
    """A torch checkpoint loads into tapegrad (and ours into torch); both continue as one."""
    torch = pytest.importorskip("torch")
    dtype = np.float64
    params, grads = _data(dtype, steps=6, seed=1)
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = getattr(torch.optim, name)(theirs, **kw)
    _run(torch, topt, theirs, grads[:3])

    ours = [tg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt = getattr(tg.optim, name)(ours, lr=123.0)         # the loaded groups replace lr
    opt.load_state_dict(_from_torch(torch, topt.state_dict()))
    assert opt.param_groups[0]["lr"] == kw["lr"]
    assert opt.param_groups[0]["params"][0] is ours[0]

    back = [torch.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ours]
    topt2 = getattr(torch.optim, name)(back, lr=123.0)
    topt2.load_state_dict(_to_torch(torch, opt.state_dict()))

    _run(tg, opt, ours, grads[3:])
    _run(torch, topt, theirs, grads[3:])
    _run(torch, topt2, back, grads[3:])
    for a, b, c in zip(ours, theirs, back):
        _close(a.detach(), b.detach().numpy(), dtype)
        _close(c.detach().numpy(), b.detach().numpy(), dtype)


def test_load_state_dict_accepts_torch_tensors_and_casts_to_param_dtype():
    torch = pytest.importorskip("torch")
    ours, opt, theirs, topt, grads = _pair(torch, "Adam", dict(lr=0.1), np.float32)
    _run(torch, topt, theirs, grads[:2])
    sd = topt.state_dict()
    sd["state"][0]["exp_avg"] = sd["state"][0]["exp_avg"].double()
    opt.load_state_dict(sd)                    # raw torch tensors: read through __array__
    st = opt.state[ours[0]]
    assert isinstance(st["exp_avg"], tg.Tensor) and st["exp_avg"].dtype == tg.float32
    assert st["step"].item() == 2.0
    st["exp_avg"]._data[...] = 0               # a copy: torch's tensors are not aliased
    assert sd["state"][0]["exp_avg"].abs().sum().item() > 0


def test_param_groups_with_different_lrs_match_torch():
    torch = pytest.importorskip("torch")
    params, grads = _data(np.float64)
    ours = [tg.tensor(p.copy(), requires_grad=True) for p in params]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01, "momentum": 0.5}]
    opt = tg.optim.SGD(groups(ours), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(groups(theirs), lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    _run(tg, opt, ours, grads)
    _run(torch, topt, theirs, grads)
    for a, b in zip(ours, theirs):
        _close(a.detach(), b.detach().numpy(), np.float64)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_frozen_parameters_stay_untouched(name):
    torch = pytest.importorskip("torch")
    kw = dict(lr=0.1, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.1)
    ours, opt, theirs, topt, grads = _pair(torch, name, kw, np.float64)
    before = ours[1].detach().numpy().copy()
    for lib, o, ps in ((tg, opt, ours), (torch, topt, theirs)):
        for gs in grads:
            ps[0].grad, ps[2].grad = lib.tensor(gs[0]), lib.tensor(gs[2])
            o.step()
    np.testing.assert_array_equal(ours[1].detach().numpy(), before)
    # no state for the frozen one (Adagrad, as torch, makes all of it at construction)
    assert opt.state_dict()["state"].keys() == topt.state_dict()["state"].keys()
    assert (ours[1] in opt.state) == (name == "Adagrad")
    for a, b in zip(ours, theirs):
        _close(a.detach(), b.detach().numpy(), np.float64)


def test_step_with_closure_records_even_under_no_grad():
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.5)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert calls == [5.0] and loss.item() == 5.0
    np.testing.assert_allclose(w.detach(), [0.0, 0.0])
    assert opt.step() is None


def test_training_loop_matches_torch_end_to_end():
    """Gradients from the tape, not given: a small least-squares fit with Adam."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X, y, w0 = rng.standard_normal((16, 3)), rng.standard_normal(16), rng.standard_normal(3)
    out = []
    for lib in (tg, torch):
        w = lib.tensor(w0.copy(), requires_grad=True)
        opt = lib.optim.Adam([w], lr=0.05, amsgrad=True)
        Xl, yl = lib.tensor(X), lib.tensor(y)
        for _ in range(10):
            opt.zero_grad()
            loss = ((Xl @ w - yl) ** 2).mean()
            loss.backward()
            opt.step()
        out.append(w.detach().numpy().copy())
    _close(out[0], out[1], np.float64)


def test_zero_grad():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad()                         # no grads: nothing to do
    opt.step()                              # no grads: nothing moves
    assert w.tolist() == [1.0, 2.0]


def test_step_keeps_the_leaf_and_bumps_its_version():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1)
    y = w * w                                # saves w for backward
    y.sum().backward(retain_graph=True)
    data, v = w._data, w._version
    opt.step()
    assert w._data is data and w.is_leaf and w._version > v
    with pytest.raises(RuntimeError):
        y.sum().backward()                   # w changed in place since y was recorded


def test_float32_stays_float32():
    w = tg.tensor(np.ones(3, np.float32), requires_grad=True)
    for cls in (tg.optim.SGD, tg.optim.Adam, tg.optim.RMSprop, tg.optim.Adagrad):
        opt = cls([w], lr=0.1)
        w.grad = tg.ones(3)
        opt.step()
        assert w.dtype == tg.float32
        assert all(v.dtype == (tg.float32) for v in opt.state[w].values())


def test_named_parameters_keep_their_names():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)
    opt = tg.optim.SGD([("a", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]


def test_repr_lists_the_groups():
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text


# ---- bad input: clear errors, nothing changed ----------------------------------------------------
def _leaf(n=2):
    return tg.zeros(n, requires_grad=True)


@pytest.mark.parametrize("make, exc, match", [
    (lambda: tg.optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda: tg.optim.SGD(_leaf(), lr=0.1), TypeError, "iterable of Tensors"),
    (lambda: tg.optim.SGD([{"params": {_leaf()}}]), TypeError, "ordered collections"),
    (lambda: tg.optim.SGD([_leaf() * 2], lr=0.1), ValueError, "can't optimize a non-leaf"),
    (lambda: tg.optim.SGD([np.zeros(2)], lr=0.1), TypeError, "can only optimize Tensors"),
    (lambda: tg.optim.SGD([_leaf()], lr=-0.1), ValueError, "Invalid learning rate"),
    (lambda: tg.optim.SGD([_leaf()], momentum=-1), ValueError, "Invalid momentum"),
    (lambda: tg.optim.SGD([_leaf()], nesterov=True), ValueError, "Nesterov"),
    (lambda: tg.optim.Adam([_leaf()], betas=(1.0, 0.9)), ValueError, "beta parameter at index 0"),
    (lambda: tg.optim.Adam([_leaf()], betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
    (lambda: tg.optim.Adam([_leaf()], eps=-1), ValueError, "Invalid epsilon"),
    (lambda: tg.optim.AdamW([_leaf()], weight_decay=-1), ValueError, "Invalid weight_decay"),
    (lambda: tg.optim.RMSprop([_leaf()], alpha=-1), ValueError, "Invalid alpha"),
    (lambda: tg.optim.Adagrad([_leaf()], lr_decay=-1), ValueError, "Invalid lr_decay"),
    (lambda: tg.optim.SGD([("a", _leaf()), _leaf()]), ValueError, "names"),
])
def test_constructor_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_constructor_errors_match_torch_types():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        with pytest.raises(ValueError):
            lib.optim.SGD([], lr=0.1)
        with pytest.raises(ValueError, match="non-leaf"):
            lib.optim.SGD([lib.zeros(2, requires_grad=True) * 2], lr=0.1)
        w = lib.zeros(2, requires_grad=True)
        with pytest.raises(ValueError, match="more than one parameter group"):
            lib.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


def test_add_param_group_rejects_duplicates_and_changes_nothing():
    a, b = _leaf(), _leaf()
    opt = tg.optim.SGD([a], lr=0.1)
    group = {"params": [b, a], "lr": 0.5}
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group(group)
    assert len(opt.param_groups) == 1 and group == {"params": [b, a], "lr": 0.5}
    with pytest.raises(ValueError, match="non-leaf"):
        opt.add_param_group({"params": [b * 1]})
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0
    with pytest.warns(UserWarning, match="duplicate"):
        opt.add_param_group({"params": [_leaf()] * 2})


def test_adagrad_group_added_later_gets_state():
    a, b = _leaf(), _leaf()
    opt = tg.optim.Adagrad([a], lr=0.1)
    opt.add_param_group({"params": [b]})
    b.grad = tg.ones(2)
    opt.step()
    assert opt.state[b]["step"].item() == 1.0
    np.testing.assert_allclose(b.detach(), -0.1 * np.ones(2), rtol=1e-6)


def test_load_state_dict_mismatch_changes_nothing():
    a, b = _leaf(), _leaf()
    opt = tg.optim.Adam([a, b], lr=0.1)
    a.grad = b.grad = tg.ones(2)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    other = tg.optim.Adam([_leaf()], lr=0.3)
    before = (other.param_groups, dict(other.state))
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(sd)
    two = {"state": {}, "param_groups": sd["param_groups"] * 2}
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict(two)
    assert (other.param_groups, dict(other.state)) == before
    assert other.param_groups[0]["lr"] == 0.3


def test_state_dict_round_trip_continues_identically():
    params, grads = _data(np.float64, steps=6)
    runs = []
    for split in (False, True):
        ps = [tg.tensor(p.copy(), requires_grad=True) for p in params]
        opt = tg.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True)
        _run(tg, opt, ps, grads[:3])
        if split:
            sd = copy.deepcopy(opt.state_dict())
            ps = [tg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ps]
            opt = tg.optim.RMSprop(ps)
            opt.load_state_dict(sd)
        _run(tg, opt, ps, grads[3:])
        runs.append([p.detach().numpy() for p in ps])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_old_checkpoint_without_new_keys_or_tensor_steps_loads():
    a = _leaf()
    opt = tg.optim.Adam([a], lr=0.1)
    sd = {"state": {0: {"step": 3, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}},
          "param_groups": [{"lr": 0.2, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                            "amsgrad": False, "params": [0]}]}
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["maximize"] is False and opt.param_groups[0]["lr"] == 0.2
    assert opt.state[a]["step"].dtype == tg.float32 and opt.state[a]["exp_avg"].dtype == tg.float32
    a.grad = tg.ones(2)
    opt.step()
    assert opt.state[a]["step"].item() == 4.0


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta",
                                  "Adamax", "ASGD", "NAdam", "RAdam"])
def test_differentiable_true_is_refused_by_every_optimizer(name):
    # a differentiable step would be recorded on the tape; tapegrad's updates never are, so
    # accepting the flag and ignoring it would silently drop gradients through the step
    p = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="differentiable=True is not supported"):
        getattr(tg.optim, name)([p], lr=0.1, differentiable=True)
    getattr(tg.optim, name)([p], lr=0.1, differentiable=False)

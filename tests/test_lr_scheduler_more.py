"""The cyclic, warm-up and composite lr schedules: torch's lrs (and momenta) bit for bit."""
import copy
import warnings

import pytest

import tapegrad as tg
from tapegrad.optim import lr_scheduler


class Halve:
    """A callable object: its attributes travel in the scheduler's state_dict."""

    def __init__(self, f):
        self.f = f

    def __call__(self, x):
        return self.f ** x


SCHEDULES = [
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95)),
    ("ConstantLR", dict(factor=0.5, total_iters=4)),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=6)),
    ("PolynomialLR", dict(total_iters=8, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4, step_size_down=3)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.9,
                      base_momentum=0.5)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=Halve(0.5),
                      scale_mode="iterations", cycle_momentum=False)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=31)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.3], epochs=4, steps_per_epoch=8, pct_start=0.25,
                        anneal_strategy="linear", three_phase=True)),
]
SIDS = [f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)]
EPOCHS = 30


def _optimizer(lib, name="SGD"):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if name == "Adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _trace(opt):
    return [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]


def _schedule(lib, name, kw, epochs=EPOCHS, opt_name="SGD"):
    opt = _optimizer(lib, opt_name)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
    out = [(sched.get_last_lr(), _trace(opt))]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append((sched.get_last_lr(), _trace(opt)))
        assert out[-1][0] == [g["lr"] for g in opt.param_groups]
    return out


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=SIDS)
def test_schedule_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    assert _schedule(tg, name, kw) == _schedule(torch, name, kw)     # bit for bit


@pytest.mark.parametrize("name,kw", [s for s in SCHEDULES if s[0] in ("CyclicLR", "OneCycleLR")],
                         ids=[i for i, s in zip(SIDS, SCHEDULES)
                              if s[0] in ("CyclicLR", "OneCycleLR")])
def test_cyclic_schedules_cycle_adams_beta1_as_torch(name, kw):
    torch = pytest.importorskip("torch")
    assert _schedule(tg, name, kw, opt_name="Adam") == _schedule(torch, name, kw,
                                                                    opt_name="Adam")


@pytest.mark.parametrize("name,kw", SCHEDULES[:6], ids=SIDS[:6])
def test_step_with_epoch_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        opt = _optimizer(lib)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 4, 10, 17, 2, 7.5 if "Warm" in name else 7):
                opt.step()
                sched.step(epoch)
                lrs.append(sched.get_last_lr())
        out.append(lrs)
    assert out[0] == out[1]


def _composites(lib):
    opt = _optimizer(lib)
    S = lib.optim.lr_scheduler
    warm = S.LinearLR(opt, start_factor=0.1, total_iters=4)
    cos = S.CosineAnnealingLR(opt, T_max=8)
    step = S.StepLR(opt, step_size=3, gamma=0.5)
    seq = S.SequentialLR(opt, [warm, cos, step], milestones=[4, 12])
    return opt, seq


def _composites_chained(lib):
    opt = _optimizer(lib)
    S = lib.optim.lr_scheduler
    chain = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=3),
                                S.ExponentialLR(opt, gamma=0.9)])
    return opt, chain


@pytest.mark.parametrize("build", [_composites, _composites_chained], ids=["seq", "chain"])
def test_composite_schedules_match_torch(build):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        opt, sched = build(lib)
        lrs = [sched.get_last_lr()]
        for _ in range(EPOCHS):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        out.append(lrs)
    assert out[0] == out[1]


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=SIDS)
def test_state_dict_round_trip_resumes_the_schedule(name, kw):
    full = _schedule(tg, name, kw, epochs=20)
    opt = _optimizer(tg)
    sched = getattr(lr_scheduler, name)(opt, **kw)
    for _ in range(8):
        opt.step()
        sched.step()
    saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "optimizer" not in saved
    # the scheduler first: building one sets lrs (ConstantLR's factor), as torch warns
    opt2 = _optimizer(tg)
    sched2 = getattr(lr_scheduler, name)(opt2, **kw)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    rest = []
    for _ in range(12):
        opt2.step()
        sched2.step()
        rest.append((sched2.get_last_lr(), _trace(opt2)))
    assert rest == full[9:]


@pytest.mark.parametrize("build", [_composites, _composites_chained], ids=["seq", "chain"])
def test_composite_state_dict_round_trip(build):
    opt, sched = build(tg)
    for _ in range(6):
        sched.step()
    saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert len(saved["_schedulers"]) in (2, 3)
    expect = []
    for _ in range(8):
        sched.step()
        expect.append(sched.get_last_lr())
    opt2, sched2 = build(tg)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    got = []
    for _ in range(8):
        sched2.step()
        got.append(sched2.get_last_lr())
    assert got == expect


def test_scheduler_errors_as_torch():
    opt = _optimizer(tg)
    S = lr_scheduler
    with pytest.raises(ValueError, match="between 0 and 1"):
        S.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got int"):
        S.MultiplicativeLR(opt, 3)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        S.CyclicLR(opt, base_lr=0.1, max_lr=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        S.CyclicLR(opt, base_lr=0.1, max_lr=0.2, mode="sawtooth")
    with pytest.raises(ValueError, match="must support momentum"):
        S.CyclicLR(tg.optim.Adagrad([tg.zeros(1, requires_grad=True)]), 0.1, 0.2)
    with pytest.raises(ValueError, match="either total_steps OR"):
        S.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        S.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1)
    one = S.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    one.step()
    one.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        one.step()
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.SequentialLR(opt, [S.ReduceLROnPlateau(opt), S.StepLR(opt, 2)], milestones=[2])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        S.SequentialLR(opt, [S.StepLR(opt, 2)], milestones=[2])
    with pytest.raises(ValueError, match="same optimizer"):
        S.ChainedScheduler([S.StepLR(opt, 2), S.StepLR(_optimizer(tg), 2)])
    with pytest.raises(ValueError, match="at least one scheduler"):
        S.ChainedScheduler([], optimizer=opt)

"""Learning-rate schedulers: the same lrs as torch's over 30 epochs, resuming, state_dict."""
import copy
import warnings

import pytest

import tapegrad as tg
from tapegrad.optim import lr_scheduler

EPOCHS = 30


class Warmup:
    """A callable object: LambdaLR saves its attributes in state_dict."""

    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 20], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),            # 30 epochs: down, up past the trough, down
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (e + 1), Warmup(5)])),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)]


def _optimizer(lib):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)


def _lrs(lib, name, kw, epochs=EPOCHS):
    opt = _optimizer(lib)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
    out = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=IDS)
def test_schedule_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    assert _lrs(tg, name, kw) == _lrs(torch, name, kw)     # bit for bit


@pytest.mark.parametrize("name,kw", [s for s in SCHEDULES if s[0] != "LambdaLR"],
                         ids=[i for i, s in zip(IDS, SCHEDULES) if s[0] != "LambdaLR"])
def test_step_with_epoch_uses_the_closed_form_as_torch(name, kw):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        opt = _optimizer(lib)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 4, 10, 17, 2):
                opt.step()
                sched.step(epoch)
                lrs.append(sched.get_last_lr())
        out.append(lrs)
    assert out[0] == out[1]


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=IDS)
def test_state_dict_round_trip_resumes_the_schedule(name, kw):
    full = _lrs(tg, name, kw, epochs=20)
    opt = _optimizer(tg)
    sched = getattr(lr_scheduler, name)(opt, **kw)
    for _ in range(8):
        opt.step()
        sched.step()
    saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "optimizer" not in saved

    opt2 = _optimizer(tg)
    opt2.load_state_dict(saved_opt)
    sched2 = getattr(lr_scheduler, name)(opt2, **kw)
    sched2.load_state_dict(saved)
    assert sched2.last_epoch == 8 and sched2.get_last_lr() == full[8]
    rest = []
    for _ in range(12):
        opt2.step()
        sched2.step()
        rest.append(sched2.get_last_lr())
    assert rest == full[9:]


def test_lambda_state_dict_saves_callable_objects_only():
    opt = _optimizer(tg)
    warm = Warmup(5)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, warm])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"n": 5}]
    sd["lr_lambdas"][1] = {"n": 9}
    sched.load_state_dict(sd)
    assert warm.n == 9 and "lr_lambdas" in sd


def test_resume_with_last_epoch_matches_torch():
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        opt = _optimizer(lib)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        lrs = [sched.get_last_lr()]
        for _ in range(8):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        out.append((lrs, sched.last_epoch))
    assert out[0] == out[1]


def test_scheduler_errors():
    opt = _optimizer(tg)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 3"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0, 0, 0])
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.05]


# ---- ReduceLROnPlateau ---------------------------------------------------------------------------
METRICS = [1.0, 0.9, 0.9, 0.95, 0.9, 0.91, 0.8999, 0.9, 0.9, 0.9, 0.7, 0.7, 0.7, 0.71,
           0.7, 0.7, 0.69995, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
PLATEAUS = [
    dict(),
    dict(patience=2),
    dict(patience=1, factor=0.5, cooldown=2),
    dict(patience=0, factor=0.5, min_lr=[0.02, 0.01]),
    dict(patience=1, threshold=0.05, threshold_mode="abs"),
    dict(mode="max", patience=1, factor=0.3),
    dict(mode="max", patience=2, threshold=0.01, threshold_mode="abs", min_lr=0.004),
    dict(patience=0, factor=0.9, eps=0.02),            # reductions smaller than eps are skipped
]


@pytest.mark.parametrize("kw", PLATEAUS, ids=[str(i) for i in range(len(PLATEAUS))])
def test_reduce_on_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        lrs = []
        for m in METRICS:
            opt.step()
            sched.step(lib.tensor(m))                 # a 0-d tensor metric, as loss.item() isn't
            lrs.append(sched.get_last_lr())
        out.append((lrs, sched.best, sched.num_bad_epochs, sched.last_epoch))
    assert out[0] == out[1]


def test_reduce_on_plateau_state_dict_round_trip():
    opt = _optimizer(tg)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for m in METRICS[:12]:
        sched.step(m)
    sd = copy.deepcopy(sched.state_dict())
    sched2 = lr_scheduler.ReduceLROnPlateau(_optimizer(tg))
    sched2.load_state_dict(sd)
    for m in METRICS[12:]:
        sched.step(m)
        sched2.step(m)
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == \
            (sched2.best, sched2.num_bad_epochs, sched2.cooldown_counter)


def test_reduce_on_plateau_new_group_needs_min_lrs():
    opt = _optimizer(tg)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [tg.zeros(1, requires_grad=True)]})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="min_lrs"):
        sched.step(2.0)

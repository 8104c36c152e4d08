"""nn.init: PyTorch's formulas (gains, fans, bounds, stds), in place and outside autograd, and
the default initialisation of each layer. Draws differ from PyTorch's; distributions do not."""
import math

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
from tapegrad.nn import init

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (2, 6, 3)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(tg.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tg.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(tg.empty(3, 3), mode="fan_avg")


def _bound_and_std(fn, shape, **kw):
    t = fn(tg.empty(*shape), **kw)
    a = t.numpy()
    return np.abs(a).max(), a.std()


@pytest.mark.parametrize("fn,kw,bound", [
    (init.uniform_, dict(a=-0.5, b=0.5), 0.5),
    (init.xavier_uniform_, dict(gain=2.0), 2.0 * math.sqrt(6 / (200 + 300))),
    (init.kaiming_uniform_, dict(a=math.sqrt(5)), 1 / math.sqrt(300)),
    (init.kaiming_uniform_, dict(nonlinearity="relu", mode="fan_out"), math.sqrt(6 / 200)),
])
def test_uniform_bounds(fn, kw, bound):
    tg.manual_seed(0)
    top, std = _bound_and_std(fn, (200, 300), **kw)
    assert top <= bound and top > 0.99 * bound
    assert std == pytest.approx(bound / math.sqrt(3), rel=0.02)


@pytest.mark.parametrize("fn,kw,std", [
    (init.normal_, dict(mean=0.0, std=0.3), 0.3),
    (init.xavier_normal_, dict(), math.sqrt(2 / (200 + 300))),
    (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 200)),
    (init.kaiming_normal_, dict(a=0.1), math.sqrt(2 / 1.01) / math.sqrt(300)),
])
def test_normal_stds(fn, kw, std):
    tg.manual_seed(0)
    assert _bound_and_std(fn, (200, 300), **kw)[1] == pytest.approx(std, rel=0.02)


def test_trunc_normal():
    tg.manual_seed(0)
    a = init.trunc_normal_(tg.empty(400, 500), mean=1.0, std=2.0, a=-1.0, b=2.0).numpy()
    assert a.min() >= -1.0 and a.max() <= 2.0
    want = torch.nn.init.trunc_normal_(torch.empty(400, 500), mean=1.0, std=2.0, a=-1.0, b=2.0)
    assert a.mean() == pytest.approx(want.mean().item(), abs=0.01)
    assert a.std() == pytest.approx(want.std().item(), rel=0.01)


def test_constants_and_eye():
    t = tg.empty(3, 4)
    assert init.constant_(t, 0.25) is t and (t.numpy() == 0.25).all()
    assert (init.ones_(t).numpy() == 1).all() and (init.zeros_(t).numpy() == 0).all()
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(tg.empty(2, 2, 2))


def test_init_works_in_place_on_parameters_without_recording():
    p = nn.Parameter(tg.empty(4, 5))
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_,
               init.trunc_normal_, init.ones_, init.eye_):
        out = fn(p)
        assert out is p and p.requires_grad and p.grad_fn is None and p.dtype == tg.float32


def test_generator_makes_draws_reproducible():
    a = init.kaiming_uniform_(tg.empty(3, 3), generator=tg.Generator().manual_seed(7))
    b = init.kaiming_uniform_(tg.empty(3, 3), generator=tg.Generator().manual_seed(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(tg.empty(0, 3))


# ---- default initialisation of the layers ------------------------------------------------------
@pytest.mark.parametrize("make,fan_in", [
    (lambda: nn.Linear(300, 200), 300),
    (lambda: nn.Conv2d(12, 64, 5), 12 * 25),
    (lambda: nn.Conv2d(12, 64, 3, groups=4), 3 * 9),
])
def test_linear_and_conv_defaults(make, fan_in):
    tg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)    # kaiming_uniform(a=sqrt(5)) and PyTorch's bias range
    for p in (layer.weight, layer.bias):
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.8 * bound
    w = layer.weight.detach().numpy()
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_normalization_and_embedding_defaults():
    bn = nn.BatchNorm2d(4)
    assert (bn.weight.detach().numpy() == 1).all() and (bn.bias.detach().numpy() == 0).all()
    assert (bn.running_var.numpy() == 1).all() and int(bn.num_batches_tracked) == 0
    ln = nn.LayerNorm(3)
    assert (ln.weight.detach().numpy() == 1).all() and (ln.bias.detach().numpy() == 0).all()
    tg.manual_seed(0)
    emb = nn.Embedding(1000, 50, padding_idx=3).weight.detach().numpy()
    assert emb.std() == pytest.approx(1.0, rel=0.02) and not emb[3].any()


def test_reset_parameters_redraws():
    layer = nn.Linear(4, 4)
    before = layer.weight.detach().numpy().copy()
    layer.reset_parameters()
    assert not np.array_equal(before, layer.weight.detach().numpy())

"""Group and instance norm, channel dropout, LazyLinear, ParameterList and ParameterDict
against PyTorch: same weights (torch's state_dict), same inputs; outputs and every gradient."""
import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.autograd import gradgradcheck
from tests.nn_parity import check_layer, close, run_pair


@pytest.fixture
def torch():
    """PyTorch, the oracle; tests that take it are skipped without it."""
    return pytest.importorskip("torch")


# ---- group and instance norm ---------------------------------------------------------------------
@pytest.mark.parametrize("make, shape", [
    (lambda m: m.GroupNorm(2, 6), (3, 6, 4, 5)),
    (lambda m: m.GroupNorm(3, 6, affine=False), (3, 6, 7)),
    (lambda m: m.GroupNorm(1, 4, eps=1e-3), (2, 4)),
    (lambda m: m.GroupNorm(2, 4, bias=False), (2, 4, 3)),
    (lambda m: m.InstanceNorm1d(4, affine=True), (3, 4, 7)),
    (lambda m: m.InstanceNorm1d(4), (4, 7)),
    (lambda m: m.InstanceNorm2d(3, affine=True), (2, 3, 4, 5)),
    (lambda m: m.InstanceNorm2d(3), (3, 4, 5)),
    (lambda m: m.InstanceNorm3d(2, affine=True), (2, 2, 3, 4, 3)),
])
def test_group_and_instance_norm(torch, make, shape):
    def make_random(m):
        layer = make(m)
        if m is torch.nn:       # away from the ones/zeros defaults; ours loads these
            with torch.no_grad():
                for p in layer.parameters():
                    p.uniform_(0.5, 1.5)
        return layer
    check_layer(torch, make_random, shape)
    check_layer(torch, make, shape, dtype=np.float64)


@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_running_stats(torch, affine):
    """track_running_stats: the same running statistics after training steps, then the same
    eval outputs and gradients from them."""
    def make(m):
        return m.InstanceNorm2d(3, momentum=0.3, affine=affine, track_running_stats=True)
    ours, theirs = check_layer(torch, make, (4, 3, 5, 6), dtype=np.float64)
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = rng.standard_normal((2, 3, 4, 4)) * 3 + 1
        ours(tg.tensor(x))
        theirs(torch.tensor(x))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, b), t in zip(ours.named_buffers(), theirs.buffers()):
        close(b, t, f"buffer {name}", 1e-12, 1e-12)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    run_pair(torch, ours, theirs, ours, theirs, [x])


def test_norm_gradcheck_and_errors():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = tg.tensor(rng.standard_normal(4), requires_grad=True)
    b = tg.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradgradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), [x, w, b])
    assert gradgradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [x, w, b])
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(tg.zeros(2, 6, 3), 4)
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="num_features"):
        nn.InstanceNorm1d(3, affine=True)(tg.zeros(2, 4, 5))


# ---- channel dropout -----------------------------------------------------------------------------
@pytest.mark.parametrize("layer, shape, lead", [
    (nn.Dropout1d, (20, 30, 8), 2), (nn.Dropout1d, (30, 8), 1),
    (nn.Dropout2d, (20, 30, 4, 3), 2), (nn.Dropout3d, (20, 30, 2, 3, 2), 2),
    (nn.Dropout3d, (30, 2, 3, 2), 1)])
def test_channel_dropout(layer, shape, lead):
    tg.manual_seed(0)
    x = tg.ones(*shape, requires_grad=True)
    out = layer(p=0.25)(x)
    kept = out.detach().numpy() != 0
    # whole channels: every entry of a (sample, channel) map is kept or zeroed together
    per_map = kept.reshape(shape[:lead] + (-1,))
    assert (per_map.all(-1) | ~per_map.any(-1)).all()
    np.testing.assert_allclose(out.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    assert 0.1 < 1 - per_map.all(-1).mean() < 0.4
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())
    ident = layer(p=0.25).eval()
    assert ident(x) is x
    assert (layer(p=1.0)(x).detach().numpy() == 0).all()


def test_channel_dropout_errors_and_warnings():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D"):
        F.dropout1d(tg.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(p=1.5)
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(tg.ones(2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(tg.ones(2, 3, 4, 4))


def test_channel_dropout_inplace():
    x = tg.ones(4, 5, 3)
    y = F.dropout1d(x, 0.5, inplace=True)
    assert y is x


# ---- LazyLinear ----------------------------------------------------------------------------------
def test_lazy_linear(torch):
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    params = list(ours.parameters())
    opt = tg.optim.SGD(ours.parameters(), lr=0.1)   # built before the shapes are known
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    ours(tg.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours) is nn.Linear and ours.in_features == 5
    assert [p is q for p, q in zip(params, ours.parameters())] == [True, True]
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(5)
    assert np.abs(ours.weight.detach().numpy()).max() <= bound
    ours.load_state_dict(theirs.state_dict())
    run_pair(torch, ours, theirs, ours, theirs, [x])
    opt.step()
    with torch.no_grad():
        for p in theirs.parameters():
            p -= 0.1 * p.grad
    for p, t in zip(ours.parameters(), theirs.parameters()):
        close(p, t, "parameter after a step")


def test_lazy_linear_without_bias():
    layer = nn.LazyLinear(2, bias=False, dtype=tg.float64)
    out = layer(tg.ones(3, 7, dtype=tg.float64))
    assert tuple(out.shape) == (3, 2) and out.dtype == tg.float64
    assert tuple(layer.weight.shape) == (2, 7) and layer.bias is None


# ---- ParameterList / ParameterDict ---------------------------------------------------------------
def _holder(lib):
    m = lib.nn

    class Holder(m.Module):
        def __init__(self):
            super().__init__()
            self.plist = m.ParameterList([m.Parameter(lib.ones(2, 3)), lib.ones(3)])
            self.plist.append(m.Parameter(lib.zeros(4)))
            self.pdict = m.ParameterDict({"b": m.Parameter(lib.ones(2)), "a": lib.zeros(3)})
            self.pdict["c"] = m.Parameter(lib.full((2, 2), 2.0))
            self.lin = m.Linear(3, 2)

        def forward(self, x):
            h = x @ self.plist[0].T + self.pdict["b"]
            return (h * self.plist[1][:2]).sum() + self.pdict["c"].sum() * self.plist[-1].sum()
    return Holder()


def test_parameter_containers_match_torch(torch):
    ours, theirs = _holder(tg), _holder(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in ours.plist)
    assert all(isinstance(p, nn.Parameter) for p in ours.pdict.values())
    ours.load_state_dict(theirs.state_dict())
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-1, 1)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    out, want = ours(tg.tensor(x)), theirs(torch.tensor(x))
    close(out, want, "output")
    out.backward()
    want.backward()
    for (name, p), t in zip(ours.named_parameters(), theirs.parameters()):
        if t.grad is None:      # unused: pdict.a, lin
            assert p.grad is None, name
        else:
            close(p.grad, t.grad, f"grad of {name}")


def test_parameter_list_and_dict_behave_as_containers():
    plist = nn.ParameterList([tg.zeros(2) for _ in range(3)])
    assert len(plist) == 3 and len(plist[1:]) == 2 and plist[-1] is plist[2]
    plist[0] = tg.ones(5)
    assert isinstance(plist[0], nn.Parameter) and tuple(plist[0].shape) == (5,)
    plist.extend([tg.ones(1)])
    assert [n for n, _ in plist.named_parameters()] == ["0", "1", "2", "3"]
    with pytest.raises(IndexError):
        plist[4]
    with pytest.raises(RuntimeError, match="should not be called"):
        plist(1)
    pdict = nn.ParameterDict([("x", tg.zeros(1)), ("y", tg.ones(2))])
    assert list(pdict) == ["x", "y"] and "x" in pdict and len(pdict) == 2
    assert pdict.get("z") is None
    assert pdict.pop("x").shape == (1,) and list(pdict.keys()) == ["y"]
    pdict.update({"w": tg.zeros(3), "v": tg.zeros(1)})     # a plain dict: in key order
    assert list(pdict) == ["y", "v", "w"]
    assert [n for n, _ in pdict.named_parameters()] == ["y", "v", "w"]
    key, value = pdict.popitem()
    assert key == "w" and "w" not in dict(pdict.named_parameters())
    with pytest.raises(TypeError, match="not a string"):
        pdict[1] = tg.zeros(1)


@pytest.mark.parametrize("shape,normalized,affine,eps,dtype", [
    ((2, 3, 4), (4,), True, None, "float64"), ((2, 3, 4), (3, 4), False, 1e-6, "float64"),
    ((5, 8), 8, True, None, "float32")], ids=str)
def test_rms_norm_matches_torch(shape, normalized, affine, eps, dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    ours = tg.nn.RMSNorm(normalized, eps=eps, elementwise_affine=affine, dtype=getattr(tg, dtype))
    theirs = torch.nn.RMSNorm(normalized, eps=eps, elementwise_affine=affine,
                              dtype=getattr(torch, dtype))
    if affine:
        w = np.random.default_rng(1).standard_normal(theirs.weight.shape).astype(dtype)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
        ours.load_state_dict({"weight": tg.tensor(w)})
    xt, xq = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, want = ours(xt), theirs(xq)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    (out * tg.tensor(g)).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xq.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    if affine:
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=tol * 10, atol=tol * 10)
    assert repr(ours) == repr(theirs)
    assert tg.autograd.gradgradcheck(
        lambda t: tg.nn.functional.rms_norm(t, normalized) ** 2,
        (tg.tensor(np.random.default_rng(3).standard_normal(shape), requires_grad=True),))

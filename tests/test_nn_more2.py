"""Pooling 1-d and adaptive max, Bilinear, EmbeddingBag, padding modules, normalize/softmin,
grid_sample/affine_grid against PyTorch (torch's state_dict loaded into ours; outputs and every
gradient), plus float64 gradchecks."""
import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.autograd import gradcheck, gradgradcheck
from tests.nn_parity import check_layer, close, kw_ids, run_pair


@pytest.fixture
def torch():
    """PyTorch, the oracle; tests that take it are skipped without it."""
    return pytest.importorskip("torch")


POOL1D = [
    ("MaxPool1d", dict(kernel_size=3)),
    ("MaxPool1d", dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("AvgPool1d", dict(kernel_size=3, stride=2, padding=1)),
    ("AvgPool1d", dict(kernel_size=4, stride=3, padding=2, ceil_mode=True,
                       count_include_pad=False)),
    ("AdaptiveAvgPool1d", dict(output_size=4)),
    ("AdaptiveAvgPool1d", dict(output_size=11)),
    ("AdaptiveMaxPool2d", dict(output_size=(3, 4))),
    ("AdaptiveMaxPool2d", dict(output_size=(None, 2))),
]


@pytest.mark.parametrize("name,kw", POOL1D, ids=lambda v: v if isinstance(v, str) else kw_ids(v))
def test_pooling_modules(torch, name, kw):
    shapes = [(2, 3, 7, 9), (3, 7, 9)] if name.endswith("2d") else [(2, 3, 11), (3, 11)]
    for shape in shapes:
        check_layer(torch, lambda m: getattr(m, name)(**kw), shape)


def test_pooling_indices_match(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 9)).astype(np.float32)
    out, idx = F.adaptive_max_pool2d(tg.tensor(x), (3, 4), return_indices=True)
    want, widx = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), (3, 4), True)
    close(out, want, "output")
    assert (idx.numpy() == widx.numpy()).all() and idx.dtype == tg.int64
    out, idx = F.max_pool1d(tg.tensor(x[0]), 3, 2, 1, return_indices=True)
    want, widx = torch.nn.functional.max_pool1d(torch.tensor(x[0]), 3, 2, 1,
                                                return_indices=True)
    assert (idx.numpy() == widx.numpy()).all()
    assert repr(nn.MaxPool1d(3)) == repr(torch.nn.MaxPool1d(3))
    assert repr(nn.AvgPool1d(3)) == repr(torch.nn.AvgPool1d(3))


def test_pooling_gradcheck():
    x = tg.tensor(np.random.default_rng(2).standard_normal((2, 2, 5, 7)), requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 3)), (x,))
    assert gradcheck(lambda t: F.avg_pool1d(t[0], 3, 2, 1), (x,))
    assert gradgradcheck(lambda t: F.adaptive_avg_pool1d(t[0], 3), (x,))


def test_pooling_errors():
    with pytest.raises(RuntimeError, match="max_pool1d.*2D or 3D"):
        F.max_pool1d(tg.ones(5), 2)
    with pytest.raises(RuntimeError, match="adaptive_max_pool2d"):
        F.adaptive_max_pool2d(tg.ones(2, 2), 1)


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear(torch, bias):
    theirs, ours = torch.nn.Bilinear(3, 4, 5, bias=bias), nn.Bilinear(3, 4, 5, bias=bias)
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((2, 6, n)).astype(np.float32) for n in (3, 4))
    run_pair(torch, ours, theirs, ours, theirs, [a, b])


def test_bilinear_init_and_gradcheck():
    m = nn.Bilinear(4, 2, 3)
    assert m.weight.shape == (3, 4, 2) and float(m.weight.abs().max()) <= 0.5
    rng = np.random.default_rng(3)
    a, b, w = (tg.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, 3), (2, 4), (5, 3, 4)))
    assert gradcheck(F.bilinear, (a, b, w))
    assert gradgradcheck(F.bilinear, (a, b, w))
    with pytest.raises(RuntimeError, match="bilinear"):
        F.bilinear(tg.ones(2, 4), tg.ones(2, 4), w)


BAGS = [dict(mode="sum"), dict(mode="mean"), dict(mode="max"), dict(mode="mean", padding_idx=2),
        dict(mode="max", padding_idx=4), dict(mode="sum", include_last_offset=True),
        dict(mode="mean", max_norm=1.0)]


@pytest.mark.parametrize("kw", BAGS, ids=kw_ids)
def test_embedding_bag(torch, kw):
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0])
    offsets = np.array([0, 2, 2, 5, 10]) if kw.get("include_last_offset") else \
        np.array([0, 2, 2, 5])
    for args in ((idx, offsets), (idx.reshape(2, 5), None)):
        theirs = torch.nn.EmbeddingBag(10, 4, **kw)
        ours = nn.EmbeddingBag(10, 4, **kw)
        ours.load_state_dict(theirs.state_dict())
        assert repr(ours) == repr(theirs)
        wrap = [None if a is None else tg.tensor(a) for a in args]
        wrap_t = [None if a is None else torch.tensor(a) for a in args]
        out, want = ours(*wrap), theirs(*wrap_t)
        close(out, want, "output")
        g = np.random.default_rng(0).standard_normal(tuple(want.shape)).astype(np.float32)
        out.backward(tg.tensor(g))
        want.backward(torch.tensor(g))
        close(ours.weight.grad, theirs.weight.grad, "weight grad")
        close(ours.weight, theirs.weight, "weight after max_norm")


def test_embedding_bag_per_sample_weights(torch):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((10, 3))
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 3, 6])
    psw = rng.standard_normal(8)
    run_pair(torch, None, None,
             lambda w_, p: F.embedding_bag(tg.tensor(idx), w_, tg.tensor(off), mode="sum",
                                           per_sample_weights=p, padding_idx=4),
             lambda w_, p: torch.nn.functional.embedding_bag(
                 torch.tensor(idx), w_, torch.tensor(off), mode="sum", per_sample_weights=p,
                 padding_idx=4),
             [w, psw])
    wt, pt = tg.tensor(w, requires_grad=True), tg.tensor(psw, requires_grad=True)
    assert gradcheck(lambda a, b: F.embedding_bag(tg.tensor(idx), a, tg.tensor(off),
                                                  mode="sum", per_sample_weights=b), (wt, pt))
    assert gradcheck(lambda a: F.embedding_bag(tg.tensor(idx), a, tg.tensor(off), mode="max"),
                     (wt,))


def test_embedding_bag_last_offset_ends_the_last_bag(torch):
    """offsets[-1] ends the last bag, as PyTorch documents (and its float32 sum kernel does)."""
    w = np.random.default_rng(5).standard_normal((10, 3)).astype(np.float32)
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0]), np.array([0, 2, 2, 5, 8])
    out = F.embedding_bag(tg.tensor(idx), tg.tensor(w), tg.tensor(off), mode="sum",
                          include_last_offset=True)
    want = torch.nn.functional.embedding_bag(torch.tensor(idx), torch.tensor(w),
                                             torch.tensor(off), mode="sum",
                                             include_last_offset=True)
    close(out, want, "output")


def test_embedding_bag_errors():
    w = tg.randn(10, 3)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(tg.tensor([1, 2]), w)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(tg.tensor([[1, 2]]), w, tg.tensor([0]))
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0"):
        F.embedding_bag(tg.tensor([1, 2]), w, tg.tensor([1]))
    with pytest.raises(RuntimeError, match="per_sample_weights.*mode='sum'"):
        F.embedding_bag(tg.tensor([[1, 2]]), w, mode="mean", per_sample_weights=tg.ones(1, 2))
    with pytest.raises(ValueError, match="mode has to be one of"):
        F.embedding_bag(tg.tensor([[1, 2]]), w, mode="median")


def test_embedding_bag_scale_grad_by_freq():
    """Each row's gradient is divided by how often its index occurs (PyTorch 2.13's CPU kernel
    gives other numbers here, so this is checked against F.embedding's rule instead)."""
    w = tg.randn(6, 2, requires_grad=True)
    idx = tg.tensor([[1, 1, 3], [3, 5, 1]])
    F.embedding_bag(idx, w, mode="sum", scale_grad_by_freq=True).sum().backward()
    want = tg.randn(6, 2, requires_grad=True)
    F.embedding(idx, want, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), want.grad.numpy())


PADS = [("ZeroPad2d", (2,)), ("ZeroPad2d", ((1, 0, 2, 3),)), ("ConstantPad1d", (2, 3.5)),
        ("ConstantPad2d", ((1, 2, 0, 1), -1.0)), ("ConstantPad3d", (1, 0.5)),
        ("ReflectionPad1d", ((2, 1),)), ("ReflectionPad2d", (2,)), ("ReflectionPad3d", (1,)),
        ("ReplicationPad1d", (3,)), ("ReplicationPad2d", ((1, 2, 3, 0),)),
        ("ReplicationPad3d", (1,)), ("ZeroPad1d", (2,)), ("ZeroPad3d", (1,)),
        ("CircularPad1d", (2,)), ("CircularPad2d", (1,))]


@pytest.mark.parametrize("name,args", PADS, ids=lambda v: str(v))
def test_padding_modules(torch, name, args):
    dims = int(name[-2])
    shape = (2, 3) + (5, 4, 6)[:dims]
    check_layer(torch, lambda m: getattr(m, name)(*args), shape)
    check_layer(torch, lambda m: getattr(m, name)(*args), shape[1:])
    assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_padding_gradcheck():
    x = tg.tensor(np.random.default_rng(5).standard_normal((1, 2, 4, 5)), requires_grad=True)
    for m in (nn.ReflectionPad2d((1, 2, 3, 0)), nn.ReplicationPad2d(2)):
        assert gradcheck(m, (x,)) and gradgradcheck(m, (x,))


@pytest.mark.parametrize("kw", [dict(), dict(p=1, dim=-1), dict(p=3.0, dim=0, eps=0.5)],
                         ids=kw_ids)
def test_normalize(torch, kw):
    x = np.random.default_rng(6).standard_normal((3, 4, 5))
    x[0, :, 0] = 0
    run_pair(torch, None, None, lambda t: F.normalize(t, **kw),
             lambda t: torch.nn.functional.normalize(t, **kw), [x])
    t = tg.tensor(x[1:], requires_grad=True)
    assert gradcheck(lambda v: F.normalize(v, **kw), (t,))
    assert gradgradcheck(lambda v: F.normalize(v, **kw), (t,))


def test_softmin(torch):
    x = np.random.default_rng(7).standard_normal((3, 5)).astype(np.float32)
    run_pair(torch, None, None, lambda t: F.softmin(t, dim=1),
             lambda t: torch.nn.functional.softmin(t, dim=1), [x])
    run_pair(torch, None, None, nn.Softmin(0), torch.nn.Softmin(0), [x])


GRIDS = [dict(mode=m, padding_mode=p, align_corners=a) for m in ("bilinear", "nearest")
         for p in ("zeros", "border") for a in (True, False)]


@pytest.mark.parametrize("kw", GRIDS, ids=kw_ids)
def test_grid_sample(torch, kw):
    rng = np.random.default_rng(8)
    x, grid = rng.standard_normal((2, 3, 5, 6)), rng.uniform(-1.3, 1.3, (2, 4, 7, 2))
    if kw["mode"] == "bilinear":
        run_pair(torch, None, None, lambda a, g: F.grid_sample(a, g, **kw),
                 lambda a, g: torch.nn.functional.grid_sample(a, g, **kw), [x, grid])
        xs = tg.tensor(x[:1, :2, :3, :4], requires_grad=True)
        gs = tg.tensor(grid[:1, :2, :3], requires_grad=True)
        assert gradcheck(lambda a, g: F.grid_sample(a, g, **kw), (xs, gs))
    else:       # no gradient reaches the grid through a nearest pick
        run_pair(torch, None, None, lambda a: F.grid_sample(a, tg.tensor(grid), **kw),
                 lambda a: torch.nn.functional.grid_sample(a, torch.tensor(grid), **kw), [x])


@pytest.mark.parametrize("align", [True, False])
def test_affine_grid_then_sample(torch, align):
    rng = np.random.default_rng(9)
    theta = rng.standard_normal((2, 2, 3)) * 0.7
    x = rng.standard_normal((2, 3, 6, 5))
    run_pair(torch, None, None,
             lambda th, a: F.grid_sample(a, F.affine_grid(th, (2, 3, 4, 7), align), "bilinear",
                                         "zeros", align),
             lambda th, a: torch.nn.functional.grid_sample(
                 a, torch.nn.functional.affine_grid(th, (2, 3, 4, 7), align), "bilinear",
                 "zeros", align), [theta, x])
    theta3 = rng.standard_normal((2, 3, 4))
    run_pair(torch, None, None, lambda th: F.affine_grid(th, (2, 1, 3, 4, 5), align),
             lambda th: torch.nn.functional.affine_grid(th, (2, 1, 3, 4, 5), align), [theta3])


def test_grid_sample_errors():
    x, g = tg.ones(1, 1, 3, 3), tg.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="bicubic"):
        F.grid_sample(x, g, mode="bicubic", align_corners=False)
    with pytest.raises(ValueError, match="reflection"):
        F.grid_sample(x, g, padding_mode="reflection", align_corners=False)
    with pytest.raises(RuntimeError, match="4-D"):
        F.grid_sample(tg.ones(1, 1, 3, 3, 3), tg.zeros(1, 2, 2, 2, 3), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners"):
        F.grid_sample(x, g)
    with pytest.raises(ValueError, match="affine_grid"):
        F.affine_grid(tg.zeros(1, 2, 2), (1, 1, 3, 3), False)

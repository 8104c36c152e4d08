"""More layers against PyTorch (conv1d/3d, transposed convolutions, interpolation, pixel
shuffle, fold/unfold): same weights (torch's state_dict), same inputs; outputs and every
gradient."""
import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.autograd import gradcheck, gradgradcheck
from tests.nn_parity import check_layer, kw_ids, run_pair


@pytest.fixture
def torch():
    """PyTorch, the oracle; tests that take it are skipped without it."""
    return pytest.importorskip("torch")


# ---- convolutions --------------------------------------------------------------------------------
CONV1D = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=4, stride=2, padding=1, groups=2),
    dict(in_channels=3, out_channels=2, kernel_size=3, dilation=2, padding="same", bias=False),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode="reflect"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="circular"),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kw", CONV1D, ids=kw_ids)
def test_conv1d(torch, kw):
    check_layer(torch, lambda m: m.Conv1d(**kw), (2, kw["in_channels"], 11))
    check_layer(torch, lambda m: m.Conv1d(**kw), (kw["in_channels"], 11))   # unbatched


CONV3D = [
    dict(in_channels=2, out_channels=3, kernel_size=3),
    dict(in_channels=4, out_channels=2, kernel_size=(2, 3, 2), stride=(2, 1, 2), padding=1,
         groups=2),
    dict(in_channels=2, out_channels=3, kernel_size=2, dilation=(2, 1, 2), padding="same"),
    dict(in_channels=2, out_channels=2, kernel_size=3, padding=1, padding_mode="replicate",
         bias=False),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kw", CONV3D, ids=kw_ids)
def test_conv3d(torch, kw):
    check_layer(torch, lambda m: m.Conv3d(**kw), (2, kw["in_channels"], 5, 6, 7))


CONV_T = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=3, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(3, 2), padding=(1, 0),
         output_padding=(2, 1), groups=2),
    dict(in_channels=2, out_channels=3, kernel_size=3, dilation=2, padding=2, bias=False),
    # output padding past the stride (allowed while it is under the dilation)
    dict(in_channels=2, out_channels=3, kernel_size=3, stride=1, dilation=3, output_padding=2),
    dict(in_channels=2, out_channels=3, kernel_size=2, stride=2, dilation=4, padding=1,
         output_padding=3),
]


@pytest.mark.parametrize("kw", CONV_T, ids=kw_ids)
def test_conv_transpose2d(torch, kw):
    check_layer(torch, lambda m: m.ConvTranspose2d(**kw), (2, kw["in_channels"], 5, 4))
    check_layer(torch, lambda m: m.ConvTranspose2d(**kw), (kw["in_channels"], 5, 4))


@pytest.mark.parametrize("kw", CONV_T, ids=kw_ids)
def test_conv_transpose1d(torch, kw):
    kw = {k: (v[0] if isinstance(v, tuple) else v) for k, v in kw.items()}
    check_layer(torch, lambda m: m.ConvTranspose1d(**kw), (2, kw["in_channels"], 6))


def test_conv_transpose_output_size(torch):
    for size in ([9, 11], [10, 12]):
        ours = nn.ConvTranspose2d(2, 3, 3, stride=2)
        theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2)
        ours.load_state_dict(theirs.state_dict())
        x = np.random.default_rng(0).standard_normal((1, 2, 4, 5)).astype(np.float32)
        run_pair(torch, ours, theirs, lambda x: ours(x, output_size=size),
             lambda x: theirs(x, output_size=size), [x])
    with pytest.raises(ValueError, match="output size"):
        ours(tg.zeros(1, 2, 4, 5), output_size=[12, 12])


def test_conv_transpose_is_the_input_gradient_of_conv():
    """conv_transpose2d(g, w) == d/dx <conv2d(x, w), g>, the definition."""
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((2, 3, 8, 6)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((4, 3, 3, 2)))
    g = tg.tensor(rng.standard_normal((2, 4, 4, 4)))
    gx, = tg.autograd.grad((F.conv2d(x, w, stride=2, padding=1) * g).sum(), x)
    out = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(1, 0))
    np.testing.assert_allclose(out.numpy(), gx.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["conv_transpose2d", "conv_transpose1d", "conv1d", "conv3d"])
def test_conv_gradcheck_and_second_order(op):
    rng = np.random.default_rng(2)
    if op == "conv_transpose2d":
        shapes, kw = [(1, 2, 3, 3), (2, 2, 2, 3), (4,)], dict(stride=2, padding=1,
                                                              output_padding=1, groups=2)
    elif op == "conv_transpose1d":
        shapes, kw = [(2, 2, 4), (2, 3, 3), (3,)], dict(stride=2, dilation=2)
    elif op == "conv1d":
        shapes, kw = [(2, 2, 6), (3, 2, 3), (3,)], dict(stride=2, padding=1)
    else:
        shapes, kw = [(1, 2, 4, 3, 3), (2, 1, 2, 2, 2), (2,)], dict(padding=1, groups=2)
    inputs = [tg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    fn = getattr(F, op)
    assert gradcheck(lambda x, w, b: fn(x, w, b, **kw), inputs)
    assert gradgradcheck(lambda x, w, b: fn(x, w, b, **kw), inputs)


def test_conv_errors():
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(tg.zeros(1, 2, 3, 3), tg.zeros(2, 1, 3, 3), stride=2,
                           output_padding=2)
    with pytest.raises(RuntimeError, match="conv_transpose2d.*channels"):
        F.conv_transpose2d(tg.zeros(1, 3, 3, 3), tg.zeros(2, 1, 3, 3))
    with pytest.raises(RuntimeError, match="conv1d: Expected 2D .* or 3D"):
        F.conv1d(tg.zeros(1, 2, 3, 3), tg.zeros(2, 2, 3))
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_conv_reprs_and_shapes(torch):
    for make in (lambda m: m.Conv1d(2, 4, 3, stride=2), lambda m: m.Conv3d(2, 4, 3, padding=1),
                 lambda m: m.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1, groups=2),
                 lambda m: m.ConvTranspose1d(2, 4, 3, bias=False)):
        ours, theirs = make(nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


# ---- interpolation, pixel shuffle, fold ----------------------------------------------------------
LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}
RESIZES = [dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=0.6),
           dict(size=4), dict(size=11), dict(size=1),
           dict(scale_factor=2.5, recompute_scale_factor=True)]


@pytest.mark.parametrize("ndim", [3, 4, 5])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "linear-corners",
                                  "area"])
@pytest.mark.parametrize("kw", RESIZES, ids=kw_ids)
def test_interpolate(torch, ndim, mode, kw):
    if mode == "area" and (ndim == 5 or "scale_factor" in kw):
        pytest.skip("area: 3-D and 4-D input with a size only")
    align = None
    if mode.startswith("linear"):
        align, mode = mode == "linear-corners", LINEAR[ndim]
    shape = (2, 3, 5, 7, 4)[:ndim]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    run_pair(torch, None, None,
         lambda x: F.interpolate(x, mode=mode, align_corners=align, **kw),
         lambda x: torch.nn.functional.interpolate(x, mode=mode, align_corners=align, **kw),
         [x])


def test_upsample_modules(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for make in (lambda m: m.Upsample(scale_factor=2), lambda m: m.Upsample(size=(7, 3),
                                                                            mode="bilinear"),
                 lambda m: m.UpsamplingBilinear2d(scale_factor=2),
                 lambda m: m.UpsamplingNearest2d(size=6)):
        ours, theirs = make(nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        run_pair(torch, None, None, ours, theirs, [x])


def test_interpolate_gradcheck():
    x = tg.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 4)), requires_grad=True)
    for kw in (dict(mode="bilinear", scale_factor=1.5), dict(mode="bilinear", size=(5, 2),
                                                              align_corners=True),
               dict(mode="nearest", size=(6, 3))):
        assert gradcheck(lambda x: F.interpolate(x, **kw), [x])
        assert gradgradcheck(lambda x: F.interpolate(x, **kw), [x])


def test_interpolate_errors():
    x = tg.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="bilinear"):
        F.interpolate(tg.zeros(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(NotImplementedError, match="bicubic mode needs 4D"):
        F.interpolate(tg.zeros(1, 1, 4), scale_factor=2, mode="bicubic")
    with pytest.raises(RuntimeError, match="antialias=True is not supported"):
        F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True)


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(3, 9)),
                                dict(scale_factor=(1.5, 0.75)),
                                dict(size=(8, 3), align_corners=True),
                                dict(size=(4, 1), align_corners=True)], ids=str)
def test_bicubic_matches_torch(torch, kw):
    """Keys' cubic (a = -0.75) with edge-clamped neighbours, values and input gradients."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6))
    xt, xq = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = F.interpolate(xt, mode="bicubic", **kw)
    want = torch.nn.functional.interpolate(xq, mode="bicubic", **kw)
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    g = rng.standard_normal(tuple(want.shape))
    (out * tg.tensor(g)).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xq.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert gradgradcheck(lambda t: F.interpolate(t, mode="bicubic", **kw) ** 2,
                         (tg.tensor(x[:1, :1], requires_grad=True),))


@pytest.mark.parametrize("shape", [(2, 8, 3, 4), (12, 2, 3), (2, 2, 18, 2, 3)])
def test_pixel_shuffle(torch, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    r = 2 if shape[-3] % 4 == 0 else 3
    run_pair(torch, None, None, nn.PixelShuffle(r), torch.nn.PixelShuffle(r), [x])
    run_pair(torch, None, None, lambda x: F.pixel_shuffle(x, r),
             lambda x: torch.nn.functional.pixel_shuffle(x, r), [x])
    y = np.random.default_rng(1).standard_normal(shape[:-2] + (6, 6)).astype(np.float32)
    run_pair(torch, None, None, nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r), [y])
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_shuffle(tg.zeros(1, 5, 2, 2), 2)


FOLDS = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1),
         dict(kernel_size=3, dilation=2, padding=(0, 1)), dict(kernel_size=3, stride=(1, 2))]


@pytest.mark.parametrize("kw", FOLDS, ids=kw_ids)
def test_unfold_and_fold(torch, kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8)).astype(np.float32)
    run_pair(torch, None, None, nn.Unfold(**kw), torch.nn.Unfold(**kw), [x])
    run_pair(torch, None, None, nn.Unfold(**kw), torch.nn.Unfold(**kw), [x[0]])    # unbatched
    cols = torch.nn.functional.unfold(torch.tensor(x), **kw).numpy()
    run_pair(torch, None, None, nn.Fold((7, 8), **kw), torch.nn.Fold((7, 8), **kw), [cols])
    run_pair(torch, None, None, nn.Fold((7, 8), **kw), torch.nn.Fold((7, 8), **kw), [cols[0]])


def test_fold_unfold_gradcheck_and_errors():
    x = tg.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 3)), requires_grad=True)
    assert gradgradcheck(lambda x: F.unfold(x, 2, padding=1, stride=(2, 1)), [x])
    c = tg.tensor(np.random.default_rng(1).standard_normal((1, 8, 6)), requires_grad=True)
    assert gradgradcheck(lambda c: F.fold(c, (3, 4), 2), [c])
    with pytest.raises(RuntimeError, match="sliding blocks"):
        F.fold(tg.zeros(1, 8, 5), (3, 4), 2)
    with pytest.raises(RuntimeError, match="divisible"):
        F.fold(tg.zeros(1, 7, 6), (3, 4), 2)


def test_unfold_and_fold_copy_non_finite_values_where_they_are(torch):
    """Blocks are gathered by index, never multiplied: an inf stays one inf, as in torch."""
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 6))
    x[0, 0, 1, 1], x[1, 2, 4, 5] = np.inf, np.nan
    for args in [((2, 3), 1, 1, 1), (3, 2, 2, 2)]:
        got = F.unfold(tg.tensor(x), *args).numpy()
        want = torch.nn.functional.unfold(torch.tensor(x), *args).numpy()
        np.testing.assert_array_equal(got, want)      # NaN and inf in the same places
        back = F.fold(tg.tensor(want), (5, 6), *args).numpy()
        np.testing.assert_allclose(      # sums: any order's roundoff, NaN and inf in place
            back, torch.nn.functional.fold(torch.tensor(want), (5, 6), *args).numpy(),
            rtol=1e-12)

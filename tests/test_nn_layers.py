"""Layers against PyTorch: the same weights (copied from a torch module), the same inputs; the
outputs and the gradients of inputs and parameters must agree to float32 rounding."""
import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")

# float32 rounding: relative to each value, and to the largest value for results of sums
RTOL, ATOL = 1e-5, 1e-5


def _pair_of(make):
    """The same layer in both libraries, tapegrad's loaded with the torch one's state."""
    ours, theirs = make(nn), make(torch.nn)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _close(a, b, what, rtol=RTOL, atol=ATOL):
    a = a.detach().numpy() if isinstance(a, tg.Tensor) else np.asarray(a)
    b = b.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    scale = float(np.abs(b).max()) if b.size else 0.0
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(scale, 0.1), err_msg=what)


def check_layer(make, *shapes, train=True, seed=0, make_inputs=None, rtol=RTOL, atol=ATOL):
    """Forward and backward of make(nn) vs make(torch.nn) on float32 inputs of `shapes`;
    returns both layers for further checks."""
    ours, theirs = _pair_of(make)
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(seed)
    arrays = make_inputs(rng) if make_inputs else \
        [rng.standard_normal(s).astype(np.float32) for s in shapes]
    xs = [tg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, want = ours(*xs), theirs(*ts)
    _close(out, want, "output", rtol, atol)
    if not want.requires_grad:
        return ours, theirs
    seed_grad = rng.standard_normal(tuple(want.shape)).astype(np.float32)
    out.backward(tg.tensor(seed_grad))
    want.backward(torch.tensor(seed_grad))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if t.grad is not None:
            _close(x.grad, t.grad, f"grad of input {i}", rtol, atol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        t = theirs_params[name]
        if t.grad is None:
            assert p.grad is None, name
        else:
            _close(p.grad, t.grad, f"grad of {name}", rtol, atol)
    return ours, theirs


def check_buffers(ours, theirs):
    theirs_buffers = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        _close(b, theirs_buffers[name], f"buffer {name}")


# ---- linear and convolution --------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    check_layer(lambda m: m.Linear(5, 3, bias=bias), (4, 5))
    check_layer(lambda m: m.Linear(5, 3, bias=bias), (2, 4, 5))


CONVS = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=3, out_channels=4, kernel_size=(3, 2), stride=2, padding=(1, 0)),
    dict(in_channels=2, out_channels=4, kernel_size=3, padding=2, dilation=2, bias=False),
    dict(in_channels=4, out_channels=6, kernel_size=3, groups=2, padding=1),
    dict(in_channels=4, out_channels=4, kernel_size=3, groups=4, stride=2, padding=1),
    dict(in_channels=3, out_channels=2, kernel_size=4, padding="same"),
    dict(in_channels=3, out_channels=2, kernel_size=3, padding="valid"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="reflect"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode="replicate"),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=1, padding_mode="circular",
         stride=2),
    dict(in_channels=3, out_channels=8, kernel_size=7, stride=2, padding=3, bias=False),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kw", CONVS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_conv2d(kw):
    check_layer(lambda m: m.Conv2d(**kw), (2, kw["in_channels"], 9, 8))


def test_conv2d_unbatched_input():
    check_layer(lambda m: m.Conv2d(3, 2, 3, padding=1), (3, 5, 5))


def test_conv2d_float64():
    ours, theirs = _pair_of(lambda m: m.Conv2d(2, 3, 3).double())
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 5))
    _close(ours(tg.tensor(x)), theirs(torch.tensor(x)), "float64 output", 1e-12, 1e-12)
    assert ours(tg.tensor(x)).dtype == tg.float64


def test_conv_output_is_float32_with_float32_input():
    out = nn.Conv2d(1, 2, 3)(tg.randn(1, 1, 5, 5))
    assert out.dtype == tg.float32


def test_lenet_training_step():
    """The 'Neural Networks' tutorial's LeNet: loss and every parameter gradient."""
    def make(m):
        return m.Sequential(m.Conv2d(1, 6, 5), m.ReLU(), m.MaxPool2d(2), m.Conv2d(6, 16, 5),
                            m.ReLU(), m.MaxPool2d(2), m.Flatten(), m.Linear(256, 120), m.ReLU(),
                            m.Linear(120, 84), m.ReLU(), m.Linear(84, 10), m.LogSoftmax(1))
    check_layer(make, (8, 1, 28, 28))


def test_gradient_penalty_second_order():
    """d/dparams of |d loss / d input|^2 through conv, batch norm, pooling and a loss: every
    fused primitive's VJP is itself differentiable, as in PyTorch."""
    def make(m):
        return m.Sequential(m.Conv2d(2, 3, 3, padding=1), m.BatchNorm2d(3), m.GELU(),
                            m.MaxPool2d(2), m.Conv2d(3, 4, 2, stride=2), m.Flatten(),
                            m.Linear(4, 3))
    ours, theirs = _pair_of(make)
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((4, 2, 4, 4)).astype(np.float32)
    y0 = np.array([0, 2, 1, 2])
    for T, model in ((tg, ours), (torch, theirs)):
        x = T.tensor(x0, requires_grad=True)
        loss = T.nn.functional.cross_entropy(model(x), T.tensor(y0))
        gx, = T.autograd.grad(loss, x, create_graph=True)
        (gx * gx).sum().backward()
    for (name, p), t in zip(ours.named_parameters(), theirs.parameters()):
        _close(p.grad, t.grad, f"second-order grad of {name}", rtol=1e-4, atol=1e-4)


# ---- pooling -----------------------------------------------------------------------------------
POOLS = [
    lambda m: m.MaxPool2d(2),
    lambda m: m.MaxPool2d(3, stride=2, padding=1),
    lambda m: m.MaxPool2d((2, 3), stride=(1, 2), dilation=(2, 1), ceil_mode=True),
    lambda m: m.MaxPool2d(3, 2, ceil_mode=True),
    lambda m: m.AvgPool2d(2),
    lambda m: m.AvgPool2d(3, stride=2, padding=1),
    lambda m: m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
    lambda m: m.AvgPool2d((2, 3), stride=1, divisor_override=4),
    lambda m: m.AdaptiveAvgPool2d((1, 1)),
    lambda m: m.AdaptiveAvgPool2d(3),
    lambda m: m.AdaptiveAvgPool2d((None, 2)),
]


@pytest.mark.parametrize("make", POOLS, ids=lambda f: repr(f(torch.nn)))
def test_pooling(make):
    check_layer(make, (2, 3, 9, 7))
    check_layer(make, (3, 8, 8))


def test_max_pool_ties_go_to_the_first():
    """ReLU outputs are full of tied zeros: the whole gradient goes to the first of them."""
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 3, 3] = 1.0
    check_layer(lambda m: m.MaxPool2d(2), make_inputs=lambda rng: [x])
    check_layer(lambda m: m.MaxPool2d(3, 1, 1), make_inputs=lambda rng: [x])


def test_max_pool_return_indices():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, dilation=1),
               dict(kernel_size=2, stride=2, dilation=2, ceil_mode=True)):
        out, idx = F.max_pool2d(tg.tensor(x), return_indices=True, **kw)
        want, widx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        _close(out, want, f"values {kw}")
        assert idx.dtype == tg.int64
        np.testing.assert_array_equal(idx.numpy(), widx.numpy())


def test_max_pool_propagates_nan():
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4)).astype(np.float32)
    x[0, 0, 1, 2] = np.nan
    out = F.max_pool2d(tg.tensor(x), 2)
    want = torch.nn.functional.max_pool2d(torch.tensor(x), 2)
    np.testing.assert_array_equal(np.isnan(out.numpy()), np.isnan(want.numpy()))


# ---- normalization -----------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
@pytest.mark.parametrize("make,shape", [
    (lambda m, mom: m.BatchNorm2d(3, momentum=mom), (4, 3, 5, 5)),
    (lambda m, mom: m.BatchNorm1d(3, momentum=mom), (6, 3)),
    (lambda m, mom: m.BatchNorm1d(3, momentum=mom, eps=1e-3), (4, 3, 5)),
], ids=["2d", "1d", "1d_seq"])
def test_batch_norm_train_then_eval(make, shape, momentum):
    ours, theirs = _pair_of(lambda m: make(m, momentum))
    for step in range(3):   # running statistics after several training steps
        check = check_layer(lambda m: ours if m is nn else theirs, shape, seed=step)
        check_buffers(*check)
    assert int(ours.num_batches_tracked) == 3 and ours.num_batches_tracked.dtype == tg.int64
    check_layer(lambda m: ours if m is nn else theirs, shape, train=False, seed=7)
    check_buffers(ours, theirs)


@pytest.mark.parametrize("kw", [dict(affine=False), dict(track_running_stats=False),
                                dict(affine=False, track_running_stats=False), dict(bias=False)],
                         ids=str)
def test_batch_norm_options(kw):
    for train in (True, False):
        ours, theirs = check_layer(lambda m: m.BatchNorm2d(3, **kw), (2, 3, 4, 4), train=train)
        check_buffers(ours, theirs)
        assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


def test_batch_norm_affine_parameters_in_train_mode_get_gradients():
    ours, theirs = check_layer(lambda m: m.BatchNorm2d(2), (3, 2, 2, 2))
    assert ours.weight.grad is not None and ours.bias.grad is not None


@pytest.mark.parametrize("make,shape", [
    (lambda m: m.LayerNorm(5), (3, 5)),
    (lambda m: m.LayerNorm((3, 4), eps=1e-3), (2, 3, 4)),
    (lambda m: m.LayerNorm(4, elementwise_affine=False), (2, 4)),
    (lambda m: m.LayerNorm(4, bias=False), (2, 3, 4)),
])
def test_layer_norm(make, shape):
    check_layer(make, shape)


# ---- embedding and dropout ---------------------------------------------------------------------
def _indices(*shape, high=10):
    return lambda rng: [rng.integers(0, high, shape)]


def test_embedding():
    check_layer(lambda m: m.Embedding(10, 3), make_inputs=_indices(4, 5))


def test_embedding_padding_idx_gets_no_gradient():
    ours, _ = check_layer(lambda m: m.Embedding(10, 3, padding_idx=2),
                          make_inputs=lambda rng: [np.array([[2, 1, 2], [0, 2, 5]])])
    assert not ours.weight.grad.numpy()[2].any()
    fresh = nn.Embedding(6, 2, padding_idx=-1)
    assert fresh.padding_idx == 5 and not fresh.weight.detach().numpy()[5].any()


def test_embedding_max_norm_and_frequency_scaling():
    check_layer(lambda m: m.Embedding(10, 4, max_norm=1.0), make_inputs=_indices(3, 4))
    check_layer(lambda m: m.Embedding(10, 4, scale_grad_by_freq=True),
                make_inputs=lambda rng: [np.array([1, 1, 3, 1, 7])])


def test_embedding_from_pretrained():
    w = torch.randn(4, 3)
    ours = nn.Embedding.from_pretrained(tg.tensor(w.numpy()))
    assert not ours.weight.requires_grad
    idx = np.array([3, 0])
    _close(ours(tg.tensor(idx)), torch.nn.Embedding.from_pretrained(w)(torch.tensor(idx)), "rows")


def test_dropout_train_and_eval():
    tg.manual_seed(0)
    x = tg.ones(200, 100)
    layer = nn.Dropout(0.3)
    y = layer(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    layer.eval()
    assert layer(x) is x
    assert (nn.Dropout(1.0)(x).numpy() == 0).all()
    assert nn.Dropout(0.0)(x) is x


def test_dropout_gradient_uses_the_same_mask():
    tg.manual_seed(1)
    x = tg.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (y.detach().numpy() != 0) * 2.0)


def test_dropout_inplace_and_bad_p():
    x = tg.ones(10, 10)
    assert F.dropout(x, 0.5, inplace=True) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# ---- activations and shape layers --------------------------------------------------------------
ACTIVATIONS = [
    lambda m: m.ReLU(), lambda m: m.LeakyReLU(), lambda m: m.LeakyReLU(0.2),
    lambda m: m.GELU(), lambda m: m.GELU(approximate="tanh"), lambda m: m.SiLU(),
    lambda m: m.Tanh(), lambda m: m.Sigmoid(), lambda m: m.Softmax(dim=1),
    lambda m: m.LogSoftmax(dim=-1), lambda m: m.Identity(), lambda m: m.Flatten(),
    lambda m: m.Flatten(0, 1), lambda m: m.Unflatten(1, (2, 3)),
]


@pytest.mark.parametrize("make", ACTIVATIONS, ids=lambda f: repr(f(torch.nn)))
def test_activation_and_shape_layers(make):
    check_layer(make, (4, 6))
    check_layer(make, (2, 6, 3))


@pytest.mark.parametrize("make", [lambda m: m.ReLU(inplace=True), lambda m: m.SiLU(True),
                                  lambda m: m.LeakyReLU(0.1, inplace=True)])
def test_inplace_activations(make):
    x = tg.randn(3, 4, requires_grad=True)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    y, yt = make(nn)(x * 1), make(torch.nn)(xt * 1)
    _close(y, yt, "output")
    y.sum().backward()
    yt.sum().backward()
    _close(x.grad, xt.grad, "grad")


def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(tg.randn(2, 3))
    np.testing.assert_allclose(out.numpy().sum(1), 1, rtol=1e-6)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="none or tanh"):
        F.gelu(tg.randn(2), approximate="erf")


# ---- functional extras -------------------------------------------------------------------------
def test_one_hot():
    t = np.array([[0, 3], [2, 1]])
    out = F.one_hot(tg.tensor(t))
    assert out.dtype == tg.int64
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.one_hot(torch.tensor(t)))
    assert F.one_hot(tg.tensor(t), 6).shape == (2, 2, 6)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(tg.tensor(t), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(tg.tensor([-1, 0]))


def test_pad_modes():
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    for pad, kw in [((1, 2), {}), ((1, 1, 2, 0), dict(value=-1.5)), ((-1, 1, 0, -1), {}),
                    ((2, 1, 1, 2), dict(mode="reflect")), ((3, 0, 1, 4), dict(mode="replicate")),
                    ((4, 1, 3, 0), dict(mode="circular"))]:
        _close(F.pad(tg.tensor(x), pad, **kw), torch.nn.functional.pad(torch.tensor(x), pad, **kw),
               f"pad {pad} {kw}")
    with pytest.raises(RuntimeError, match="less than the corresponding input dimension"):
        F.pad(tg.tensor(x), (4, 0), mode="reflect")
    with pytest.raises(ValueError, match="divisible by 2"):
        F.pad(tg.tensor(x), (1,))


# ---- bad input -----------------------------------------------------------------------------------
def test_linear_with_wrong_in_features_names_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=3.*\(2x5 and 3x4\).*\[2, 5\]"):
        nn.Linear(3, 4)(tg.randn(2, 5))
    with pytest.raises(RuntimeError, match=r"\(2x5 and 3x4\)"):
        F.linear(tg.randn(2, 5), tg.randn(4, 3))


@pytest.mark.parametrize("shape", [(6, 6), (1, 2, 3, 6, 6), (6,)])
def test_conv_rejects_inputs_that_are_not_3d_or_4d(shape):
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 4.*3D \(unbatched\) or 4D"):
        nn.Conv2d(3, 4, 3)(tg.randn(*shape))


def test_conv_errors_name_layer_and_shapes():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 4.*expected input\[2, 5, 6, 6\] to have "
                                           r"3 channels, but got 5"):
        conv(tg.randn(2, 5, 6, 6))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        conv(tg.randn(1, 3, 2, 2))
    with pytest.raises(RuntimeError, match="same dtype|should be the same"):
        conv(tg.randn(1, 3, 5, 5, dtype=tg.float64))
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(tg.randn(2, 3, 4))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(tg.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(tg.randn(1, 3))
    bn = nn.BatchNorm1d(4)
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(4.*4 channels.*\[2, 3\]"):
        bn(tg.randn(2, 3))
    assert int(bn.num_batches_tracked) == 0      # nothing changed
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(tg.randn(2, 3), tg.zeros(4), tg.ones(4))


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(tg.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="3D or 4D"):
        F.max_pool2d(tg.randn(4, 4), 2)
    with pytest.raises(RuntimeError, match="too small"):
        F.avg_pool2d(tg.randn(1, 1, 2, 2), 3)


def test_embedding_errors():
    with pytest.raises(IndexError, match="index out of range"):
        nn.Embedding(4, 2)(tg.tensor([1, 4]))
    with pytest.raises(IndexError, match="index out of range"):
        nn.Embedding(4, 2)(tg.tensor([-1]))
    with pytest.raises(RuntimeError, match="Long, Int"):
        nn.Embedding(4, 2)(tg.tensor([1.0]))
    with pytest.raises(AssertionError, match="Padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)

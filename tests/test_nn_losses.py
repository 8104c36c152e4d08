"""Loss modules and functions against PyTorch: values and input gradients for every reduction,
class weights, ignore_index, label smoothing, class probabilities and pos_weight; bad targets."""
import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")

REDUCTIONS = ["mean", "sum", "none"]


def _close(a, b, what):
    b = b.detach().numpy()
    scale = max(float(np.abs(b).max()) if b.size else 0.0, 0.1)
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-5, atol=1e-5 * scale, err_msg=what)


def check_loss(make, input, target, *, input_grad=True, target_grad=False, **buffers):
    """make(module_namespace, **buffers as tensors) on float32 input/target in both libraries."""
    ours = make(nn, **{k: tg.tensor(v) for k, v in buffers.items()})
    theirs = make(torch.nn, **{k: torch.tensor(v) for k, v in buffers.items()})
    floating = target.dtype.kind == "f"
    x, t = tg.tensor(input, requires_grad=input_grad), \
        tg.tensor(target, requires_grad=target_grad and floating)
    xt, tt = torch.tensor(input, requires_grad=input_grad), \
        torch.tensor(target, requires_grad=target_grad and floating)
    out, want = ours(x, t), theirs(xt, tt)
    _close(out, want, "loss")
    assert out.dtype == tg.float32
    if input_grad or target_grad:
        g = np.random.default_rng(5).standard_normal(tuple(want.shape)).astype(np.float32)
        out.backward(tg.tensor(g))
        want.backward(torch.tensor(g))
        if input_grad:
            _close(x.grad, xt.grad, "input grad")
        if target_grad and floating:
            _close(t.grad, tt.grad, "target grad")
    return ours


RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 4)).astype(np.float32)
CLASSES = np.array([0, 3, 1, 1, 2, 3])
WEIGHT = RNG.uniform(0.5, 2.0, 4).astype(np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction):
    a, b = RNG.standard_normal((2, 3, 4)).astype(np.float32), \
        RNG.standard_normal((2, 3, 4)).astype(np.float32)
    for make in (lambda m: m.MSELoss(reduction=reduction), lambda m: m.L1Loss(reduction=reduction)):
        check_loss(make, a, b, target_grad=True)


def test_pointwise_losses_weight_and_broadcast_warning():
    a, b = RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal((3, 4))
    w = RNG.uniform(0.5, 2, (3, 4)).astype(np.float32)
    for name in ("mse_loss", "l1_loss"):
        for red in REDUCTIONS:
            ours = getattr(F, name)(tg.tensor(a), tg.tensor(b.astype(np.float32)),
                                    weight=tg.tensor(w), reduction=red)
            want = getattr(torch.nn.functional, name)(torch.tensor(a),
                                                      torch.tensor(b.astype(np.float32)),
                                                      weight=torch.tensor(w), reduction=red)
            _close(ours, want, f"{name} {red}")
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(tg.randn(3, 1), tg.randn(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_class_indices(reduction, weighted, smoothing):
    target = CLASSES.copy()
    target[[1, 4]] = -100
    kw = dict(weight=WEIGHT) if weighted else {}
    check_loss(lambda m, **b: m.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing,
                                                 **b), LOGITS, target, **kw)
    check_loss(lambda m, **b: m.CrossEntropyLoss(reduction=reduction, ignore_index=3,
                                                 label_smoothing=smoothing, **b),
               LOGITS, CLASSES, **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_class_probabilities(reduction, smoothing):
    probs = RNG.dirichlet(np.ones(4), 6).astype(np.float32)
    check_loss(lambda m, **b: m.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing,
                                                 **b), LOGITS, probs, target_grad=True,
               weight=WEIGHT)


def test_cross_entropy_spatial_and_unbatched():
    x = RNG.standard_normal((2, 4, 3, 5)).astype(np.float32)
    t = RNG.integers(0, 4, (2, 3, 5))
    for red in REDUCTIONS:
        check_loss(lambda m, **b: m.CrossEntropyLoss(reduction=red, **b), x, t, weight=WEIGHT)
        check_loss(lambda m: m.CrossEntropyLoss(reduction=red), LOGITS[0], np.array(2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    logp = np.log(RNG.dirichlet(np.ones(4), 6)).astype(np.float32)
    check_loss(lambda m, **b: m.NLLLoss(reduction=reduction, ignore_index=1, **b), logp, CLASSES,
               weight=WEIGHT)


def test_nll_loss_all_ignored_mean_is_nan():
    out = F.nll_loss(tg.randn(2, 3), tg.tensor([-100, -100]))
    want = torch.nn.functional.nll_loss(torch.randn(2, 3), torch.tensor([-100, -100]))
    assert np.isnan(out.item()) and np.isnan(want.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    p = RNG.uniform(0.05, 0.95, (3, 4)).astype(np.float32)
    y = RNG.uniform(0, 1, (3, 4)).astype(np.float32)
    check_loss(lambda m, **b: m.BCELoss(reduction=reduction, **b), p, y, target_grad=True)
    check_loss(lambda m, **b: m.BCELoss(reduction=reduction, **b), p, y, weight=WEIGHT)


def test_bce_saturated_inputs_as_pytorch():
    """Probabilities of exactly 0 and 1 (a saturated float32 sigmoid): the logs are clamped at
    -100 and the input gradient is (x - y) / max(x (1 - x), 1e-12), finite, as in PyTorch;
    the target gradient is PyTorch's unclamped log(1 - x) - log(x), infinite there."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 1.0], np.float32)
    check_loss(lambda m: m.BCELoss(reduction="none"), p, y)
    x, t = tg.tensor(p, requires_grad=True), tg.tensor(y, requires_grad=True)
    xt, tt = torch.tensor(p, requires_grad=True), torch.tensor(y, requires_grad=True)
    F.binary_cross_entropy(x, t, reduction="sum").backward()
    torch.nn.functional.binary_cross_entropy(xt, tt, reduction="sum").backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_array_equal(np.isinf(t.grad.numpy()), np.isinf(tt.grad.numpy()))
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    x = (RNG.standard_normal((3, 4)) * 30).astype(np.float32)    # large logits: stability
    y = RNG.uniform(0, 1, (3, 4)).astype(np.float32)
    check_loss(lambda m, **b: m.BCEWithLogitsLoss(reduction=reduction, **b), x, y,
               target_grad=True)
    ours = check_loss(lambda m, **b: m.BCEWithLogitsLoss(reduction=reduction, **b), x, y,
                      weight=WEIGHT, pos_weight=RNG.uniform(0.5, 3, 4).astype(np.float32))
    assert list(ours.state_dict()) == ["weight", "pos_weight"]


def test_bce_with_logits_gradient_at_zero():
    """The gradient at x = 0 is sigmoid(0) - y exactly: max(-x, 0) has a kink there."""
    x = tg.zeros(3, requires_grad=True)
    y = tg.tensor([0.0, 0.5, 1.0])
    F.binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.0, -0.5], atol=1e-7)


def test_legacy_size_average_and_reduce():
    x, t = tg.tensor(LOGITS), tg.tensor(CLASSES)
    with pytest.warns(UserWarning, match="deprecated"):
        loss = nn.CrossEntropyLoss(size_average=False)
    assert loss.reduction == "sum"
    with pytest.warns(UserWarning):
        assert F.cross_entropy(x, t, reduce=False).shape == (6,)


def test_weight_is_a_buffer():
    loss = nn.CrossEntropyLoss(weight=tg.tensor(WEIGHT))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert repr(loss) == "CrossEntropyLoss()"


# ---- bad targets ---------------------------------------------------------------------------------
def test_class_index_out_of_range():
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(tg.tensor(LOGITS), tg.tensor([0, 1, 4, 0, 0, 0]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(tg.tensor(LOGITS), tg.tensor([0, 1, -1, 0, 0, 0]))


def test_target_shape_and_dtype_errors():
    with pytest.raises(ValueError, match=r"batch_size \(6\) to match target batch_size \(2\)"):
        F.cross_entropy(tg.tensor(LOGITS), tg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="Long"):
        F.nll_loss(tg.tensor(LOGITS), tg.tensor(CLASSES.astype(np.float32)))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(tg.tensor(LOGITS), tg.tensor(CLASSES), weight=tg.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(tg.tensor(LOGITS), tg.tensor(CLASSES), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(tg.tensor(LOGITS), tg.tensor(LOGITS), ignore_index=1)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


def test_binary_losses_check_shapes_and_range():
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(tg.rand(3), tg.rand(3, 1))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(tg.rand(3) + 1, tg.rand(3))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(tg.rand(3), tg.rand(3, 1))

"""nn.CTCLoss and F.ctc_loss against PyTorch: values and gradients for several lengths, blanks,
repeated labels, padded and concatenated targets, unbatched input and zero_infinity."""
import numpy as np
import pytest

import tapegrad as tg
from tests.optable.ctc import brute_ctc

torch = pytest.importorskip("torch")

# (T, N, C, targets (padded), input lengths, target lengths, blank)
CASES = [
    (6, 3, 5, [[1, 2, 2], [3, 1, 0], [4, 4, 4]], [6, 5, 4], [3, 2, 2], 0),
    (8, 2, 4, [[1, 1, 1, 2], [2, 3, 2, 3]], [8, 8], [4, 4], 0),
    (5, 2, 4, [[0, 1], [2, 2]], [5, 3], [2, 1], 3),          # blank is the last class
    (7, 3, 6, [[5, 5, 1], [2, 3, 4], [1, 1, 1]], [7, 2, 7], [0, 3, 2], 0),   # empty target
    (1, 2, 3, [[1], [2]], [1, 1], [1, 0], 0),
]


def _both(case, dtype=np.float64, seed=0):
    t, n, c, targets, il, tl, blank = case
    x = np.random.default_rng(seed).standard_normal((t, n, c)).astype(dtype)
    return x, np.array(targets), np.array(il), np.array(tl), blank


def _run(lib, x, targets, il, tl, raw=False, **kw):
    xt = lib.tensor(x, requires_grad=True)
    lp = xt if raw else xt.log_softmax(2)
    loss = lib.nn.functional.ctc_loss(lp, lib.tensor(targets), lib.tensor(il), lib.tensor(tl),
                                      **kw)
    loss.sum().backward()
    return loss.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("raw", [False, True])
def test_values_and_gradients_match_torch(case, reduction, raw):
    x, targets, il, tl, blank = _both(CASES[case])
    kw = dict(blank=blank, reduction=reduction, zero_infinity=True)
    ours = _run(tg, x, targets, il, tl, raw, **kw)
    theirs = _run(torch, x, targets, il, tl, raw, **kw)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9, atol=1e-12)


def test_matches_a_sum_over_every_alignment():
    x, targets, il, tl, blank = _both(CASES[2])
    got = tg.nn.functional.ctc_loss(tg.tensor(x).log_softmax(2), tg.tensor(targets),
                                    tg.tensor(il), tg.tensor(tl), blank=blank, reduction="none")
    np.testing.assert_allclose(got.numpy(), brute_ctc(x, targets, il, tl, blank), rtol=1e-12)


def test_concatenated_targets_and_float32():
    x, targets, il, tl, blank = _both(CASES[0], np.float32, seed=3)
    flat = np.concatenate([row[:k] for row, k in zip(targets, tl)])
    ours = _run(tg, x, flat, il, tl)
    theirs = _run(torch, x, flat, il, tl)
    padded = _run(tg, x, targets, il, tl)
    assert ours[0].dtype == np.float32 and ours[1].dtype == np.float32
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours[0], padded[0], rtol=1e-6)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_impossible_alignment_and_zero_infinity(zero_infinity):
    # two repeated labels need 3 frames: with 2 the loss is infinite
    x = np.random.default_rng(1).standard_normal((2, 2, 3))
    targets, il, tl = np.array([[1, 1], [1, 2]]), np.array([2, 2]), np.array([2, 2])
    kw = dict(reduction="none", zero_infinity=zero_infinity)
    ours, theirs = _run(tg, x, targets, il, tl, **kw), _run(torch, x, targets, il, tl, **kw)
    assert np.isinf(ours[0][0]) != zero_infinity and np.isfinite(ours[0][1])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    if zero_infinity:
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9, atol=1e-12)
    else:
        np.testing.assert_allclose(ours[1][:, 1], theirs[1][:, 1], rtol=1e-9, atol=1e-12)


def test_unbatched_and_module():
    x = np.random.default_rng(2).standard_normal((5, 4))
    got = tg.nn.CTCLoss(blank=0)(tg.tensor(x).log_softmax(1), tg.tensor([1, 2]), tg.tensor(5),
                                 tg.tensor(2))
    want = torch.nn.CTCLoss(blank=0)(torch.tensor(x).log_softmax(1), torch.tensor([1, 2]),
                                     torch.tensor(5), torch.tensor(2))
    assert got.shape == want.shape == ()
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    none = tg.nn.CTCLoss(reduction="none")(tg.tensor(x).log_softmax(1), tg.tensor([1, 2]),
                                           tg.tensor(5), tg.tensor(2))
    assert none.shape == () and none.item() == pytest.approx(2 * got.item())
    # lengths as tuples of ints, as PyTorch accepts
    x3, targets, il, tl, _ = _both(CASES[0])
    a = tg.nn.CTCLoss()(tg.tensor(x3), tg.tensor(targets), tuple(il.tolist()),
                        tuple(tl.tolist()))
    b = torch.nn.CTCLoss()(torch.tensor(x3), torch.tensor(targets), tuple(il.tolist()),
                           tuple(tl.tolist()))
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


def test_errors():
    lp = tg.randn(4, 2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="ctc_loss: .*labels"):
        tg.nn.functional.ctc_loss(lp, tg.tensor([[1, 5], [1, 1]]), [4, 4], [2, 2])
    with pytest.raises(RuntimeError, match="input_lengths"):
        tg.nn.functional.ctc_loss(lp, tg.tensor([[1, 2], [1, 1]]), [5, 4], [2, 2])
    with pytest.raises(ValueError):
        tg.nn.functional.ctc_loss(lp, tg.tensor([[1, 2], [1, 1]]), [4, 4], [2, 2],
                                  reduction="avg")
    loss = tg.nn.functional.ctc_loss(lp.log_softmax(2), tg.tensor([[1, 2], [1, 1]]), [4, 4],
                                     [2, 2])
    with pytest.raises(RuntimeError, match="double backward"):
        tg.autograd.grad(loss, lp, create_graph=True)

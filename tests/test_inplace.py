"""In-place ops (design.md 1.8): version counters, leaf rules, history rebase, optimizer updates."""
import numpy as np
import pytest

import tapegrad as tg


def leaf(values):
    return tg.tensor(values, dtype=tg.float64, requires_grad=True)


def test_sgd_update_under_no_grad_keeps_the_same_leaf():
    w = leaf([1.0, 2.0])
    (w * w).backward(tg.ones(2, dtype=tg.float64))
    data = w.numpy(force=True)
    with tg.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    assert w.numpy(force=True) is data           # updated in its own memory
    np.testing.assert_allclose(data, [0.8, 1.6])


def test_in_place_on_a_leaf_that_requires_grad_raises():
    w = leaf([1.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w += 1
    assert w.tolist() == [1.0] and w._version == 0


def test_modifying_a_saved_input_makes_backward_raise():
    x = leaf([1.0, 2.0])
    h = x * 1.0
    y = h * h                    # mul saves h
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MulBackward0"):
        y.backward(tg.ones(2, dtype=tg.float64))


def test_modifying_a_saved_output_makes_backward_raise():
    x = leaf([1.0, 2.0])
    y = tg.sigmoid(x)
    y.add_(1)
    with pytest.raises(RuntimeError, match="SigmoidBackward0"):
        y.backward(tg.ones(2, dtype=tg.float64))


def test_modifying_a_view_of_a_saved_tensor_is_detected():
    x = leaf([1.0, 2.0, 3.0])
    base = x * 1.0
    y = base * base
    with tg.no_grad():
        base.detach().add_(1)    # same memory, same version counter
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward(tg.ones(3, dtype=tg.float64))


def test_in_place_ops_that_save_nothing_do_not_raise():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = h + 1                    # add reads no values
    h.add_(5)
    y.backward(tg.ones(2, dtype=tg.float64))
    assert x.grad.tolist() == [3.0, 3.0]


def test_in_place_on_a_non_leaf_rebases_history_like_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for T in (tg, torch):
        x = T.tensor([0.5, -1.5], dtype=T.float64, requires_grad=True)
        h = x * 2
        h += x * x               # h = 2x + x^2
        h.mul_(3)                # h = 6x + 3x^2
        h.exp_()
        h.backward(T.ones(2, dtype=T.float64))
        results.append((h.detach().numpy(), x.grad.numpy(), h.grad_fn.name()))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])
    assert results[0][2] == results[1][2] == "ExpBackward0"


def test_in_place_adds_history_to_a_tensor_that_had_none():
    x = leaf([1.0, 2.0])
    acc = tg.zeros(2, dtype=tg.float64)
    acc += x * x
    acc += x
    assert acc.requires_grad and not acc.is_leaf
    acc.backward(tg.ones(2, dtype=tg.float64))
    assert x.grad.tolist() == [3.0, 5.0]


def test_in_place_result_must_fit_shape_and_dtype():
    a = tg.zeros(3)
    with pytest.raises(RuntimeError, match="broadcast shape"):
        a.add_(tg.ones(2, 3))
    b = tg.zeros(3, dtype=tg.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        b.add_(1.5)
    assert b.tolist() == [0, 0, 0] and a.tolist() == [0.0, 0.0, 0.0]


def test_version_counter_counts_writes():
    t = tg.zeros(2)
    assert t._version == 0
    t.add_(1)
    t.mul_(2)
    t.zero_()
    assert t._version == 3


def test_relu_reads_its_output_as_in_pytorch():
    """relu's rule reads out (out > 0 where x > 0): changing x afterwards is harmless, changing
    the output is caught, and relu_ after batch_norm (torchvision's pattern) trains correctly."""
    torch = pytest.importorskip("torch")
    for T in (tg, torch):
        x = T.tensor([0.5, -1.5, 2.0], dtype=T.float64, requires_grad=True)
        h = x * 1.0
        y = T.relu(h)
        h.add_(10)               # would flip every sign test if the rule read h
        y.backward(T.ones(3, dtype=T.float64))
        assert x.grad.tolist() == [1.0, 0.0, 1.0]
        y = T.relu(x * 1.0)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="inplace"):
            y.backward(T.ones(3, dtype=T.float64))

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4, 3, 5, 5))
    grads = []
    for T, inplace in ((tg, True), (tg, False), (torch, True)):
        x = T.tensor(x0, requires_grad=True)
        bn = T.nn.BatchNorm2d(3).double()
        out = T.nn.ReLU(inplace=inplace)(bn(x))
        (out * T.tensor(x0)).sum().backward()
        grads.append((x.grad.numpy(), bn.weight.grad.numpy()))
    for got in grads[:2]:
        for a, b in zip(got, grads[2]):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ---- unrecorded arithmetic computed straight into the tensor (inplace._into_self) --------------
FAST_CASES = [
    ("float32 -= float32", np.float32, lambda r: r.standard_normal((4, 3)).astype(np.float32)),
    ("float64 += row", np.float64, lambda r: r.standard_normal(3)),
    ("float32 *= python float", np.float32, lambda r: 0.9),
    ("float64 -= python int", np.float64, lambda r: 2),
    ("int64 += int64 column", np.int64, lambda r: r.integers(-5, 5, (4, 1))),
    ("float32 += float64 (promotes: the general path)", np.float32, lambda r: r.standard_normal(3)),
    ("int64 *= python float (refused)", np.int64, lambda r: 1.5),
    ("float32 += larger shape (refused)", np.float32, lambda r: np.ones((2, 4, 3), np.float32)),
]


@pytest.mark.parametrize("label,dtype,make", FAST_CASES, ids=[c[0] for c in FAST_CASES])
@pytest.mark.parametrize("op", ["__iadd__", "__isub__", "__imul__"])
def test_unrecorded_arithmetic_in_place_matches_torch(label, dtype, make, op):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a0 = (rng.standard_normal((4, 3)) * 10).astype(dtype)
    other = make(rng)
    results = []
    for lib in (tg, torch):
        a = lib.tensor(a0.copy())
        b = lib.tensor(other) if isinstance(other, np.ndarray) else other
        try:
            with lib.no_grad():
                out = getattr(a, op)(b)
            results.append((out is a, a.numpy().copy(), a._version if lib is tg else None))
        except Exception as exc:     # the refusal, by type: both libraries must refuse
            results.append(type(exc).__name__)
    mine, theirs = results
    if isinstance(theirs, str) or isinstance(mine, str):
        assert isinstance(mine, str) and isinstance(theirs, str), results
        return
    assert mine[0] and theirs[0]
    np.testing.assert_array_equal(mine[1], theirs[1])
    assert mine[1].dtype == theirs[1].dtype and mine[2] == 1


def test_unrecorded_arithmetic_in_place_writes_through_views_and_refuses_read_only():
    base = tg.zeros(4, 3)
    view = base[1:3]
    with tg.no_grad():
        view += tg.ones(3)
        view *= 2.0
    np.testing.assert_array_equal(base.numpy()[1:3], np.full((2, 3), 2.0, np.float32))
    np.testing.assert_array_equal(base.numpy()[[0, 3]], np.zeros((2, 3), np.float32))
    assert base._version == 2 and view._version == 2
    expanded = tg.ones(3).expand(4, 3)
    with tg.no_grad(), pytest.raises(RuntimeError, match="read-only|expanded"):
        expanded -= tg.ones(4, 3)

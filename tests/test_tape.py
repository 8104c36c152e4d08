"""The tape's invariants (design.md section 1): recording, replay, accumulation, release, tapes."""
import threading
import warnings

import numpy as np
import pytest

import tapegrad as tg


def leaf(values, dtype=tg.float64):
    return tg.tensor(values, dtype=dtype, requires_grad=True)


# ---- 1. linear record ---------------------------------------------------------------------------
def test_op_is_recorded_iff_grad_mode_is_on_and_an_input_requires_grad():
    x, c = leaf([1.0, 2.0]), tg.tensor([3.0, 4.0])
    with tg.Tape() as tape:
        y = x * c          # recorded
        z = c * c          # no input requires grad
        with tg.no_grad():
            w = x * 2      # grad mode off
    assert [e.name() for e in tape] == ["MulBackward0"]
    assert y.requires_grad and not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None
    assert not w.requires_grad and w.grad_fn is None


def test_tape_order_is_execution_order_and_printable():
    x = leaf([1.0, 2.0])
    with tg.Tape() as tape:
        y = tg.exp(x * 3)
        z = y / (x + 1)
    assert [e.prim.name for e in tape] == ["mul", "exp", "add", "div"]
    assert str(tape).splitlines() == [
        "t0 = mul(x0, 3)  # (2,) float64",
        "t1 = exp(t0)  # (2,) float64",
        "t2 = add(x0, 1)  # (2,) float64",
        "t3 = div(t1, t2)  # (2,) float64",
    ]
    assert len(tape) == 4 and z.grad_fn is tape.entries()[-1] and y.grad_fn is tape.entries()[1]


def test_requires_grad_only_for_floating_tensors():
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        (leaf([1.0]) * 2).requires_grad_(False)


# ---- 2. reverse replay --------------------------------------------------------------------------
def test_tutorial_gradients_with_external_gradient():
    a = tg.tensor([2.0, 3.0], requires_grad=True)
    b = tg.tensor([6.0, 4.0], requires_grad=True)
    q = 3 * a ** 3 - b ** 2
    q.backward(gradient=tg.tensor([1.0, 1.0]))
    assert (9 * a ** 2 == a.grad).tolist() == [True, True]
    assert (-2 * b == b.grad).tolist() == [True, True]
    assert a.grad.dtype == tg.float32


def test_long_chain_has_no_recursion_and_is_freed():
    x = leaf([0.5])
    y = x
    for _ in range(200_000):
        y = y * 1.0000001
    y.backward(tg.ones(1, dtype=tg.float64))
    np.testing.assert_allclose(x.grad.numpy(), [1.0000001 ** 200_000], rtol=1e-9)
    del y    # the chain is released from its end without a deep recursive free


def test_shared_subexpression_accumulates_in_topological_order():
    x = leaf([1.5, -2.0])
    y = x * x
    z = y * y + y          # z = x^4 + x^2
    z.backward(tg.ones(2, dtype=tg.float64))
    xv = np.array([1.5, -2.0])
    np.testing.assert_allclose(x.grad.numpy(), 4 * xv ** 3 + 2 * xv)


def test_unrelated_live_graphs_do_not_change_the_result():
    x = leaf([1.0, 2.0])
    others = [x * k for k in range(50)]    # noqa: F841  (kept alive on the tape)
    y = tg.sin(x)
    others2 = [y * k for k in range(50)]   # noqa: F841  (recorded after y)
    y.backward(tg.ones(2, dtype=tg.float64))
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]))


# ---- 4. accumulation, retain_grad, hooks --------------------------------------------------------
def test_leaf_grads_accumulate_until_zeroed_or_reset():
    x = leaf([1.0, 2.0])
    for _ in range(3):
        (x * 2).backward(tg.ones(2, dtype=tg.float64))
    assert x.grad.tolist() == [6.0, 6.0]
    g = x.grad
    (x * 2).backward(tg.ones(2, dtype=tg.float64))
    assert x.grad is g                   # accumulated in place, like PyTorch
    x.grad.zero_()
    (x * 1).backward(tg.ones(2, dtype=tg.float64))
    assert x.grad.tolist() == [1.0, 1.0]
    x.grad = None
    (x * 5).backward(tg.ones(2, dtype=tg.float64))
    assert x.grad.tolist() == [5.0, 5.0]


def test_grads_of_two_leaves_never_share_a_buffer():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seed = tg.ones(2, dtype=tg.float64)
    (a + b).backward(seed)
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0] and seed.tolist() == [1.0, 1.0]
    assert a.grad.numpy().flags.writeable


def test_non_leaf_grad_is_none_unless_retained():
    x = leaf([1.0, 2.0])
    h = x * 3
    k = x * 4
    k.retain_grad()
    (h * k).backward(tg.ones(2, dtype=tg.float64))
    with pytest.warns(UserWarning, match="not a leaf"):
        assert h.grad is None and k.retains_grad
    np.testing.assert_allclose(k.grad.numpy(), h.detach().numpy())


def test_hooks_run_before_use_and_can_replace_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(("leaf", g.tolist())))
    y = x * 3
    handle = y.register_hook(lambda g: g * 10)
    (y * 1).backward(tg.ones(2, dtype=tg.float64))
    assert x.grad.tolist() == [30.0, 30.0] and seen == [("leaf", [30.0, 30.0])]
    handle.remove()
    x.grad = None
    y2 = x * 3
    y2.register_hook(lambda g: None)    # returning None keeps the gradient
    y2.backward(tg.ones(2, dtype=tg.float64))
    assert x.grad.tolist() == [3.0, 3.0]


# ---- 5. release ---------------------------------------------------------------------------------
def test_second_backward_needs_retain_graph():
    x = leaf([1.0, 2.0])
    y = tg.exp(x) * x
    y.backward(tg.ones(2, dtype=tg.float64), retain_graph=True)
    y.backward(tg.ones(2, dtype=tg.float64))
    xv = np.array([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp(xv) * (1 + xv)))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward(tg.ones(2, dtype=tg.float64))


def test_failed_backward_changes_no_grad():
    x = leaf([1.0, 2.0])
    y = tg.exp(x)
    z = y * x
    y.add_(1)            # invalidates exp's saved output
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward(tg.ones(2, dtype=tg.float64))
    assert x.grad is None


def test_unreachable_entries_are_freed_and_tape_stays_short():
    tape = tg.tape.global_tape()
    x = leaf(np.ones(4))
    before = len(tape)
    for _ in range(5000):
        y = tg.tanh(x * 2 + 1) * x
    assert len(tape) <= before + 8
    del y


# ---- 6. higher order ----------------------------------------------------------------------------
def test_grad_of_grad():
    x = leaf([0.3, -1.2])
    y = tg.sin(x) * x
    (g,) = tg.autograd.grad(y, x, tg.ones(2, dtype=tg.float64), create_graph=True)
    assert g.requires_grad
    (gg,) = tg.autograd.grad(g, x, tg.ones(2, dtype=tg.float64))
    xv = np.array([0.3, -1.2])
    np.testing.assert_allclose(g.detach().numpy(), np.cos(xv) * xv + np.sin(xv))
    np.testing.assert_allclose(gg.numpy(), 2 * np.cos(xv) - xv * np.sin(xv))


def test_backward_with_create_graph_gives_differentiable_grad():
    x = leaf([2.0])
    (x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.tolist() == [12.0]
    (h,) = tg.autograd.grad(g, x)
    assert h.tolist() == [12.0]


def test_nested_tapes_give_second_derivative():
    x = leaf([0.7, 1.1])
    with tg.Tape() as outer:
        with tg.Tape() as inner:
            y = tg.exp(x) * x
        g = inner.gradient(y, x, output_gradients=tg.ones(2, dtype=tg.float64))
    h = outer.gradient(g, x, output_gradients=tg.ones(2, dtype=tg.float64))
    xv = np.array([0.7, 1.1])
    np.testing.assert_allclose(g.detach().numpy(), np.exp(xv) * (1 + xv))
    np.testing.assert_allclose(h.numpy(), np.exp(xv) * (2 + xv))


def test_tape_gradient_sees_only_its_entries():
    x = leaf([1.0, 2.0])
    y = x * 3                    # recorded before the tape: y is a constant to it
    with tg.Tape() as tape:
        z = y * x
    (gx, gy) = tape.gradient(z, [x, y], output_gradients=tg.ones(2, dtype=tg.float64))
    assert gx.tolist() == y.tolist()
    assert gy.tolist() == x.tolist()
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(z, x, output_gradients=tg.ones(2, dtype=tg.float64))


# ---- autograd.grad and backward(inputs=...) -----------------------------------------------------
def test_grad_does_not_touch_dot_grad_and_checks_unused():
    x, u = leaf([1.0, 2.0]), leaf([5.0])
    y = x * x
    (g,) = tg.autograd.grad(y, [x], tg.ones(2, dtype=tg.float64), retain_graph=True)
    assert g.tolist() == [2.0, 4.0] and x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.autograd.grad(y, [x, u], tg.ones(2, dtype=tg.float64), retain_graph=True)
    g2 = tg.autograd.grad(y, [x, u], tg.ones(2, dtype=tg.float64), allow_unused=True)
    assert g2[1] is None


def test_grad_with_respect_to_an_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = h * h
    (gh,) = tg.autograd.grad(y, h, tg.ones(2, dtype=tg.float64))
    assert gh.tolist() == [6.0, 12.0]


def test_backward_inputs_accumulates_only_into_them():
    a, b = leaf([1.0]), leaf([2.0])
    (a * b).backward(tg.ones(1, dtype=tg.float64), inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


# ---- threads ------------------------------------------------------------------------------------
def test_each_thread_has_its_own_tape_and_grad_mode():
    results = {}

    def worker(k):
        x = leaf([float(k)])
        with tg.no_grad():
            results[(k, "nograd")] = (x * 2).requires_grad
        y = x * x
        y.backward(tg.ones(1, dtype=tg.float64))
        results[k] = (x.grad.item(), len(tg.tape.global_tape()) < 10)

    with tg.no_grad():        # this thread's mode does not leak into the workers
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for k in range(4):
        assert results[k] == (2.0 * k, True)
        assert results[(k, "nograd")] is False


def test_grad_of_a_non_leaf_warns_as_torch_unless_retained():
    x = tg.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None
    y.retain_grad()
    (y * y).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad is not None and x.grad is not None
        assert (tg.ones(2) * 2).grad is None      # no history, nothing to warn about

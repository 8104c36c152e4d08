"""Issue 9's core cases: writes through views, rebased histories, casts, threads, .grad buffers.

Each test states PyTorch 2.13's answer as the expected value; none needs torch installed.
"""
import threading

import numpy as np
import pytest

import tapegrad as T


def _grad(t):
    return None if t.grad is None else t.grad.numpy()


# ---- a) writes through a view of a base that does not require grad ---------------------------
def test_setitem_through_view_gives_the_base_history():
    w = T.ones(2, requires_grad=True)
    out = T.zeros(2, 3)
    out[0][1:] = w * 3
    assert out.requires_grad and out.grad_fn is not None
    (out.sum() + w.sum()).backward()
    np.testing.assert_array_equal(_grad(w), [4, 4])


def test_copy_into_view_of_plain_tensor():
    w = T.ones(3, requires_grad=True)
    out = T.zeros(2, 3)
    out[1:].copy_(w * 2)
    (out * T.tensor([[1.], [5.]])).sum().backward()
    np.testing.assert_array_equal(_grad(w), [10, 10, 10])


# ---- b) views taken before an in-place op on their base -------------------------------------
def test_view_taken_before_base_write_follows_the_base():
    w = T.ones(4, requires_grad=True)
    x = w * 2
    v = x[:2]
    x.mul_(3)
    v.sum().backward()
    np.testing.assert_array_equal(_grad(w), [6, 6, 0, 0])


def test_chunks_taken_before_base_write_follow_the_base():
    # torch raises here (multi-output views); tapegrad regenerates them correctly
    w = T.ones(4, requires_grad=True)
    x = w * 2
    a, b = x.chunk(2)
    x.mul_(3)
    (a.sum() + 2 * b.sum()).backward()
    np.testing.assert_array_equal(_grad(w), [6, 6, 12, 12])


def test_consumer_recorded_before_the_write_keeps_the_old_value():
    w = T.ones(4, requires_grad=True)
    x = w * 2
    v = x[1:3]
    before = v * 10          # recorded before x changes: its gradient reaches w through x's old value
    x.mul_(3)
    (before.sum() + v.sum()).backward()
    np.testing.assert_array_equal(_grad(w), [0, 26, 26, 0])


# ---- c) zero_/fill_/uniform_/normal_ on non-leaves record a write ------------------------------
@pytest.mark.parametrize("write", [lambda v: v.zero_(), lambda v: v.fill_(7.0),
                                   lambda v: v.uniform_(), lambda v: v.normal_()])
def test_overwrites_of_a_non_leaf_cut_the_gradient_there(write):
    w = T.ones(2, 3, requires_grad=True)
    x = w * 2
    write(x[0])
    x.sum().backward()
    np.testing.assert_array_equal(_grad(w), [[0, 0, 0], [2, 2, 2]])


def test_fill_with_a_tensor_value_is_differentiable_in_it():
    w = T.ones(3, requires_grad=True)
    c = T.tensor(2.0, requires_grad=True)
    x = w * 1
    x[1:].fill_(c)
    (x * T.tensor([1., 2., 3.])).sum().backward()
    np.testing.assert_array_equal(_grad(w), [1, 0, 0])
    assert c.grad.item() == 5.0


# ---- d) integer and bool casts are not differentiable ---------------------------------------------
@pytest.mark.parametrize("cast", ["long", "int", "bool"])
def test_integer_casts_do_not_require_grad(cast):
    x = T.tensor([1.7, -2.2], requires_grad=True)
    y = getattr(x, cast)()
    assert not y.requires_grad and y.grad_fn is None
    (y.float() * 3 + x).sum().backward()
    np.testing.assert_array_equal(_grad(x), [1, 1])


def test_integer_outputs_of_multi_output_ops_do_not_require_grad():
    x = T.tensor([[1., 5.], [3., 2.]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.requires_grad and not indices.requires_grad


# ---- e, f) graphs spanning threads; concurrent accumulation ------------------------------------
def test_backward_in_another_thread_follows_the_whole_graph():
    w = T.ones(3, requires_grad=True)
    h = w * 2
    t = threading.Thread(target=lambda: (h * 3).sum().backward())
    t.start()
    t.join()
    np.testing.assert_array_equal(_grad(w), [6, 6, 6])


def test_part_recorded_in_a_finished_worker_thread_is_followed():
    w = T.ones(3, requires_grad=True)
    got = {}
    t = threading.Thread(target=lambda: got.update(h=w * 2))
    t.start()
    t.join()
    ((got["h"] * 3).sum() + (w * w).sum()).backward()
    np.testing.assert_array_equal(_grad(w), [8, 8, 8])


def test_interleaved_threads_keep_topological_order():
    # main: h = w*2; worker: k = h*3; main: m = k + h  ->  dm/dw = 2*3 + 2 = 8
    w = T.ones(3, requires_grad=True)
    h = w * 2
    got = {}
    t = threading.Thread(target=lambda: got.update(k=h * 3))
    t.start()
    t.join()
    (got["k"] + h).sum().backward()
    np.testing.assert_array_equal(_grad(w), [8, 8, 8])


def test_concurrent_backward_into_one_leaf_loses_nothing():
    w = T.ones(512, 512, requires_grad=True)
    n = 8

    def work():
        for _ in range(4):
            (w * 1.0).sum().backward()
    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.all(w.grad.numpy() == n * 4)


# ---- g, h) .grad is always tapegrad's own buffer; hooks are checked ---------------------------
def test_create_graph_grad_is_a_buffer_of_its_own():
    a = T.ones(3, requires_grad=True)
    b = T.ones(3, requires_grad=True)
    seed = T.ones(3)
    (a + b).backward(seed, create_graph=True)
    assert a.grad is not b.grad and a.grad is not seed
    (a * 2).sum().backward()               # accumulates into the create_graph gradient
    np.testing.assert_array_equal(_grad(a), [3, 3, 3])
    np.testing.assert_array_equal(_grad(b), [1, 1, 1])
    np.testing.assert_array_equal(seed.numpy(), [1, 1, 1])


def test_tensor_returned_by_a_hook_is_not_adopted_as_grad():
    w = T.ones(3, requires_grad=True)
    mine = T.full((3,), 5.0)
    w.register_hook(lambda g: mine)
    (w * 1).sum().backward()
    (w * 1).sum().backward()
    np.testing.assert_array_equal(mine.numpy(), [5, 5, 5])
    np.testing.assert_array_equal(_grad(w), [10, 10, 10])


def test_non_leaf_hook_result_is_not_adopted_either():
    w = T.ones(3, requires_grad=True)
    mine = T.full((3,), 2.0)
    y = w + 0
    y.register_hook(lambda g: mine)
    y.sum().backward()
    w.grad.add_(1)
    np.testing.assert_array_equal(mine.numpy(), [2, 2, 2])


@pytest.mark.parametrize("bad, words", [(lambda g: T.tensor(1.0, dtype=T.float64), "size"),
                                        (lambda g: g.double(), "type")])
def test_hook_that_changes_size_or_type_raises(bad, words):
    x = T.ones(3, requires_grad=True)
    x.register_hook(bad)
    with pytest.raises(RuntimeError, match=f"hook '.*' has changed the {words} of value"):
        (x * 2).sum().backward()
    assert x.grad is None


# ---- i) retain_grad follows an in-place op ---------------------------------------------------------
def test_retained_grad_is_of_the_new_value():
    x = T.ones(3, requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.mul_(2)
    y.sum().backward()
    np.testing.assert_array_equal(_grad(y), [1, 1, 1])
    np.testing.assert_array_equal(_grad(x), [6, 6, 6])


def test_retain_grad_with_create_graph_then_backward():
    x = T.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    (g,) = T.autograd.grad((y * y).sum(), x, create_graph=True)
    (y * y).sum().backward(create_graph=True)
    g.sum().backward()
    assert y.grad is not None


# ---- l) requires_grad_ after use ---------------------------------------------------------------------
def test_requires_grad_turned_on_after_use_gets_no_gradient():
    x = T.ones(3)
    w = T.ones(3, requires_grad=True)
    y = (x * w).sum()
    x.requires_grad_()
    y.backward()
    assert x.grad is None
    np.testing.assert_array_equal(_grad(w), [1, 1, 1])


# ---- section 3: false alarms --------------------------------------------------------------------------
def test_in_place_on_view_of_non_leaf_rebases_the_base():
    w = T.ones(2, 3, requires_grad=True)
    x = w * 1
    x[:, :2] *= 3
    x.sum().backward()
    np.testing.assert_array_equal(_grad(w), [[3, 3, 1], [3, 3, 1]])
    w2 = T.ones(4, requires_grad=True)
    x2 = w2 * 1
    x2[1:3].mul_(5)
    x2.sum().backward()
    np.testing.assert_array_equal(_grad(w2), [1, 5, 5, 1])


def test_only_values_that_needed_rules_read_are_version_checked():
    x = T.ones(2, 3, requires_grad=True)
    y = x.clone()
    y[:, 1] = y[:, 1] * 2
    (y * 2).sum().backward()
    np.testing.assert_array_equal(_grad(x), [[2, 4, 2], [2, 4, 2]])


def test_pow_output_may_change_and_exp_input_may_change():
    x = T.tensor([1., 2.], requires_grad=True)
    y = x ** 3
    y.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(_grad(x), [3, 12])
    a = T.tensor([0.5, 1.0], requires_grad=True)
    b = a * 1
    e = b.exp()
    with T.no_grad():
        b.mul_(2)
    e.sum().backward()
    np.testing.assert_allclose(_grad(a), np.exp([0.5, 1.0]))


def test_masked_fill_in_place_then_backward():
    x = T.tensor([1., -2., 3.], requires_grad=True)
    y = x.clone().masked_fill_(x < 0, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(_grad(x), [1, 0, 1])


def test_zero_dim_setitem_used_twice():
    w = T.tensor(2.0, requires_grad=True)
    x = T.zeros(())
    x[()] = w * 3
    (x * x + x).backward()
    assert w.grad.item() == pytest.approx(3 * (2 * 6 + 1))


def test_second_backward_through_entries_that_saved_nothing():
    x = T.ones(3, requires_grad=True)
    z = x.sum()
    z.backward()
    z.backward()
    np.testing.assert_array_equal(_grad(x), [2, 2, 2])
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(_grad(x), [4, 4, 4])


def test_second_backward_through_saved_values_still_raises():
    x = T.ones(3, requires_grad=True)
    z = (x * T.ones(3)).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        z.backward()


def test_reshape_that_copies_is_not_a_view():
    x = T.ones(2, 3, requires_grad=True) * 1
    y = x.t().reshape(-1)          # had to copy
    z = y * y
    x.mul_(2)                      # not y's memory: no version error, no rebase of y
    z.sum().backward()
    assert y._base is None


def test_view_of_leaf_that_requires_grad_refuses_in_place():
    w = T.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[:2].mul_(2)
    with T.no_grad():
        w[:2].mul_(2)              # allowed without grad mode
    np.testing.assert_array_equal(w.detach().numpy(), [2, 2, 1, 1])


def test_view_made_in_no_grad_refuses_tracked_in_place():
    x = T.ones(3, requires_grad=True) * 1
    with T.no_grad():
        v = x[:2]
    with pytest.raises(RuntimeError, match="view was created in no_grad mode"):
        v.mul_(T.ones(2, requires_grad=True))


def test_next_functions_report_the_output_index():
    x = T.ones(4, requires_grad=True)
    a, b = (x * 1).split(2)
    y = a * b
    assert [i for _, i in y.grad_fn.next_functions] == [0, 0]
    v, i = (x * 1).reshape(2, 2).max(dim=0)
    z = v * 1
    assert z.grad_fn.next_functions[0] == (v.grad_fn, 0)


def test_grad_runs_hooks_only_of_requested_leaves():
    a = T.ones(2, requires_grad=True)
    b = T.ones(2, requires_grad=True)
    ran = []
    b.register_hook(lambda g: ran.append("b"))
    T.autograd.grad((a * b).sum(), a)
    assert ran == []


def test_dead_graph_is_swept_from_the_tape():
    from tapegrad.tape import global_tape
    tape = global_tape()
    x = T.ones(1, requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0
    del y
    w = T.ones(1, requires_grad=True)
    for _ in range(3):
        (w * 2).sum().backward()
    assert len(tape._refs) < 10_000


# ---- l) index tensors modified in place after use ---------------------------------------------------
@pytest.mark.parametrize("use", [
    lambda x, i: x.gather(0, i.reshape(1, 2).expand(1, 2)),
    lambda x, i: x.index_select(0, i),
    lambda x, i: x[i],
])
def test_index_changed_after_use_does_not_change_the_gradient(use):
    # torch raises here; tapegrad keeps the index as it was when the op ran
    x = T.arange(6.0).reshape(3, 2).requires_grad_()
    i = T.tensor([0, 2])
    y = use(x, i)
    i.add_(1) if isinstance(i, T.Tensor) else None
    y.sum().backward()
    assert x.grad[0].sum().item() > 0 and x.grad[1].sum().item() == 0


def test_mask_changed_after_masked_fill_does_not_change_the_gradient():
    x = T.ones(4, requires_grad=True)
    m = T.tensor([True, False, True, False])
    y = x.masked_fill(m, 0.0)
    m.logical_not_() if hasattr(m, "logical_not_") else m.copy_(~m)
    y.sum().backward()
    np.testing.assert_array_equal(_grad(x), [0, 1, 0, 1])


def test_function_with_two_dirty_inputs_keeps_both_earlier_states():
    class Double(T.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            a.mul_(2)
            b.mul_(2)
            ctx.mark_dirty(a, b)
            return a, b

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2, gb * 2

    w = T.ones(2, requires_grad=True)
    a, b = w * 1, w * 3
    before = a * 10 + b * 100          # recorded before the in-place Function
    a2, b2 = Double.apply(a, b)
    assert a2 is a and b2 is b
    (before.sum() + a.sum() + b.sum()).backward()
    # d/dw: 10 + 100*3 (old values) + 2 + 2*3 (new ones)
    np.testing.assert_array_equal(_grad(w), [318, 318])


def test_grad_prunes_branches_that_do_not_lead_to_the_inputs():
    a = T.randn(3, requires_grad=True)
    b = T.randn(3, requires_grad=True)
    t = T.softmax(a, 0)
    t -= b                        # softmax's saved output is overwritten: only a's branch needs it
    (gb,) = T.autograd.grad((t ** 3).mean(), [b], create_graph=True)
    np.testing.assert_allclose(gb.detach().numpy(), -(t.detach().numpy() ** 2), rtol=1e-6)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        T.autograd.grad((t ** 3).mean(), [a])


def test_backward_inputs_runs_only_the_needed_rules():
    a = T.randn(3, requires_grad=True)
    b = T.randn(3, requires_grad=True)
    t = a.exp() * 1
    t.mul_(b)
    t.sum().backward(inputs=[b])
    assert a.grad is None
    np.testing.assert_allclose(b.grad.numpy(), a.detach().exp().numpy(), rtol=1e-6)


def test_view_made_in_no_grad_says_it_requires_grad_but_gets_none():
    a = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with T.no_grad():
        v = a[1:]
    assert v.requires_grad and v.is_leaf and v.grad_fn is None    # torch's answers
    v.sin().sum().backward()
    assert v.grad is None and a.grad is None
    with pytest.raises(RuntimeError, match="view was created in no_grad mode"):
        v.mul_(2)


def test_requires_grad_on_a_base_reaches_its_live_views():
    a = T.tensor([0.5, -1.0])
    v = a[0:1]
    a.requires_grad_()
    assert v.requires_grad and v._base is a
    (v * 3).sum().backward()
    np.testing.assert_array_equal(_grad(a), [3, 0])


def test_log_softmax_reads_only_its_output():
    a = T.randn(3, 4, dtype=T.float64, requires_grad=True)
    t = a.log_softmax(0)
    with T.no_grad():
        a[::2, 0] = 1.5           # torch saves only the result: no version error
    (g,) = T.autograd.grad((t ** 3).mean(), [a], create_graph=True)
    assert g.shape == (3, 4)


def test_advanced_index_put_needs_matching_dtypes():
    b = T.zeros(3)
    with pytest.raises(RuntimeError, match="Index put requires the source and destination"):
        b[T.tensor([0])] = T.ones(1, dtype=T.float64)
    b[0] = T.ones((), dtype=T.float64)        # a basic index copies with a cast, as in torch
    b[T.tensor([1])] = 2.0
    b[T.tensor([False, False, True])] = T.full((), 3.0, dtype=T.float64)   # a masked fill
    np.testing.assert_array_equal(b.numpy(), [1, 2, 3])


def test_in_place_on_stack_output_is_recorded():
    a = T.ones(3, requires_grad=True)
    s = T.stack([a * 1, a * 2])
    s.clamp_(max=1.5)
    s.sum().backward()
    np.testing.assert_array_equal(_grad(a), [1, 1, 1])


def test_einsum_permutation_is_a_view():
    a = T.arange(6.0).reshape(2, 3)
    t = T.einsum("ij->ji", a)
    t[0].fill_(-1)
    np.testing.assert_array_equal(a[:, 0].numpy(), [-1, -1])


def test_zero_gradient_ops_read_nothing():
    a = T.tensor([[-0.19, 2.5]], requires_grad=True)
    t = a.sign() + a.floor() + a.round()
    with T.no_grad():
        a.fill_(1.0)
    t.sum().backward()
    np.testing.assert_array_equal(_grad(a), [[0, 0]])


def test_leaf_hook_runs_as_soon_as_its_gradient_is_final():
    order = []
    w1 = T.ones(2, requires_grad=True)
    w2 = T.ones(2, requires_grad=True)
    w2.register_hook(lambda g: order.append("w2"))
    w1.register_hook(lambda g: order.append("w1"))
    a = w1 * 2
    a.register_hook(lambda g: order.append("a"))
    b = a * w2                      # w2's only use: final once this entry is replayed
    b.sum().backward()
    assert order == ["w2", "a", "w1"]      # torch's order (AccumulateGrad runs when ready)
    np.testing.assert_array_equal(_grad(w2), [2, 2])
    np.testing.assert_array_equal(_grad(w1), [2, 2])


def test_leaf_used_twice_is_finished_once_after_its_oldest_use():
    seen = []
    w = T.ones(2, requires_grad=True)
    w.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = w * 3
    z = y * w
    z.sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [6, 6])


def test_gradients_from_grad_are_writable():
    a = T.tensor([[-1.29], [1.96]], requires_grad=True)
    (g,) = T.autograd.grad(a.sum(dim=1).sin().sum(), [a])
    g.zero_()
    (g2,) = T.autograd.grad(a.sum(), [a], create_graph=True)
    g2.clamp_(max=0.5)
    np.testing.assert_array_equal(g2.detach().numpy(), [[0.5], [0.5]])


def test_rule_of_an_input_that_required_grad_only_later_reads_nothing():
    a1 = T.tensor([1.41], requires_grad=True)
    a2 = T.tensor(1.16)
    c3 = a1.double()
    c3[::2] /= a2
    a2.requires_grad_()
    (g,) = T.autograd.grad(c3.sin().sum(), [a1])
    np.testing.assert_allclose(g.numpy(), np.cos(1.41 / 1.16) / 1.16, rtol=1e-6)


def test_abs_of_bool_raises_as_torch():
    with pytest.raises(NotImplementedError):
        T.tensor([True, False]).abs()


def test_filling_a_buffer_in_a_loop_records_linearly():
    # each h[t - 1] view stays alive in the graph; a write to h must not re-record them all
    from tapegrad.tape import global_tape
    n = 300
    w = T.randn(n + 1, 4, requires_grad=True)
    h = T.zeros(n + 1, 4)
    before = len(global_tape())
    for t in range(1, n + 1):
        h[t] = h[t - 1] + w[t]
    assert len(global_tape()) - before < 8 * n
    h.sum().backward()
    expected = np.arange(n + 1, 0, -1, dtype=np.float32)[:, None]   # w[s] reaches rows s..n
    np.testing.assert_array_equal(_grad(w)[1:], np.broadcast_to(expected[1:], (n, 4)))


def test_a_view_is_regenerated_when_used_after_its_base_changed():
    w = T.ones(3, requires_grad=True)
    x = w * 1
    v = x[1:]
    assert v.grad_fn is not None
    x.mul_(5)                          # v is stale now; reading it brings it up to date
    assert v.requires_grad and v.grad_fn.name() == "SliceBackward0"
    (v * 1).sum().backward()
    np.testing.assert_array_equal(_grad(w), [0, 5, 5])


def test_number_divided_by_tensor_reads_only_its_result():
    a1 = T.tensor(0.3, requires_grad=True)
    a2 = T.tensor(-0.84, requires_grad=True)
    t = -1 / a2                    # torch: reciprocal(a2) * -1, which saves only the result
    with T.no_grad():
        a2.fill_(-1.61)
    (a1 * t).sum().backward()
    assert a1.grad.item() == pytest.approx(1 / 0.84)


def test_no_grad_view_follows_its_base_requires_grad():
    a = T.tensor([-0.15, -1.49, 2.0])
    with T.no_grad():
        v = a[0]
    w = T.ones(1, requires_grad=True)
    a[T.tensor([2])] = w * 3
    assert v.requires_grad and v.grad_fn is None       # torch's answers


def test_retained_grad_of_a_written_view_moves_to_its_new_value():
    a = T.tensor([[0.0], [1.5]], requires_grad=True)
    t3 = a.square()
    t4 = t3.unsqueeze(1)
    t4.retain_grad()
    t4[t4 > 0] = -2.5
    (g,) = T.autograd.grad(t3.sin().sum(), [a])
    assert t4.grad is None         # the new t4 is not on the loss's path (torch agrees)


def test_grad_through_a_freed_graph_raises_even_with_allow_unused():
    """A released entry keeps where its inputs came from: `grad` sees it lies on the path to
    what was asked, and says the graph was freed (torch's error), never "no gradient"."""
    a, c = T.ones(3, requires_grad=True), T.ones(3, requires_grad=True)
    y = (a * c).sum()
    T.autograd.grad(y, [c])
    for kw in ({}, {"allow_unused": True}):
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            T.autograd.grad(y, [c], **kw)


def test_grad_past_a_freed_part_raises_where_torch_could_skip_it():
    """A deliberate difference (docs/differences.rst): a released entry no longer knows where
    its inputs came from, so `grad` reaching it raises even when, as here, it does not lead to
    the input asked for (torch returns w's gradient); it never answers "no gradient" wrongly."""
    x, w = T.ones(3, requires_grad=True), T.ones(3, requires_grad=True)
    inter = x * 2
    inter.exp().sum().backward()             # frees the saved values of mul and exp
    (gw,) = T.autograd.grad((inter.detach().exp() * w).sum(), [w])      # detached: fine
    assert T.allclose(gw, inter.detach().exp())
    with pytest.raises(RuntimeError, match="second time"):
        T.autograd.grad((inter.exp() * w).sum(), [w])
    with pytest.raises(RuntimeError, match="second time"):      # x is behind the freed mul
        T.autograd.grad((inter * w).sum(), [x])


def test_grad_wrt_a_view_made_under_no_grad_runs_no_rule_toward_it():
    # found by the differential tester: such a view gets no gradient (as in torch), so grad()
    # must not replay entries whose only use is reaching it, nor check their saved values
    a = T.tensor([[-0.6, -1.47, -1.33]], dtype=T.float64, requires_grad=True)
    with T.no_grad():
        v = a[:]
    s = T.softmax(v, dim=0)
    with T.no_grad():
        s[0] = 0.5          # softmax's saved output changes: only a replay through it may fail
    loss = s.sin().sum()
    assert T.autograd.grad(loss, [a, v], allow_unused=True) == (None, None)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()     # backward() does replay it, and fails, as torch's does


def test_grad_fires_no_hook_and_retains_nothing_off_the_path_to_its_inputs():
    # found by the differential tester: torch computes no gradient toward tensors that lead to
    # none of grad()'s inputs, so their hooks do not fire and retained .grad stays None; a
    # requested non-leaf's hooks and retain_grad do fire
    fired = []
    a = T.ones(2, requires_grad=True)
    b = T.ones(2, requires_grad=True)
    t = a * 2
    t.retain_grad()
    t.register_hook(lambda g: fired.append("t"))
    u = b * 2
    u.retain_grad()
    u.register_hook(lambda g: fired.append("u"))
    z = (u * t).sum()
    (ga,) = T.autograd.grad(z, [a], retain_graph=True)
    assert fired == ["t"] and u.grad is None and ga.tolist() == [4.0, 4.0]
    (gu,) = T.autograd.grad(z, [u], retain_graph=True)
    assert fired == ["t", "u"] and u.grad.tolist() == gu.tolist() == [2.0, 2.0]
    z.backward(inputs=[b])
    assert fired == ["t", "u", "u"] and b.grad.tolist() == [4.0, 4.0]


def test_relu_passes_a_nan_output_s_gradient_on_as_torch():
    # torch's mask is `out <= 0`: at a NaN the cotangent flows (the NaN stays visible) where a
    # `out > 0` mask would hide it behind a zero
    x = T.tensor([float("nan"), -1.0, 2.0], requires_grad=True)
    (T.relu(x) * T.tensor([1.0, 1.0, 3.0])).sum().backward()
    g = x.grad.tolist()
    assert g == [1.0, 0.0, 3.0]


def test_relu_refuses_bool_input_as_torch():
    m = T.tensor([1.0, 2.0]) == T.tensor([1.0, 0.0])
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        T.relu(m)
    assert T.relu(T.tensor([-1, 2])).tolist() == [0, 2]     # integers are fine, as in torch


def test_where_and_relu_give_torch_s_signed_zeros():
    # found by the differential tester: where(c, x, 0) gave -0.0 for a masked negative x (a
    # multiply by the mask), so 1 / where(...) was -inf where torch's is inf
    torch = pytest.importorskip("torch")
    x0 = np.array([-1.5, 2.0, -0.0, 3.0, 0.0], np.float32)
    for lib in (T, torch):
        x = lib.tensor(x0)
        got = [1.0 / lib.where(x > 0, x, 0), 1.0 / lib.where(x > 0, 0, x),
               1.0 / lib.where(x < 1, x, 0), 1.0 / lib.relu(x)]
        if lib is T:
            mine = [g.numpy() for g in got]
        else:
            theirs = [g.numpy() for g in got]
    for m, t in zip(mine, theirs):
        np.testing.assert_array_equal(m, t)


def test_std_gradient_is_zero_where_std_is_zero_even_for_an_infinite_cotangent():
    # torch zeroes g / std where std is 0; g * 0 / 1 gave NaN for an inf g (differential tester)
    torch = pytest.importorskip("torch")
    results = []
    for lib in (T, torch):
        x = lib.zeros(4, requires_grad=True)
        s = x.std()
        (lib.ones(()) / s).backward()       # d/ds of 1/s at s = 0 is -inf
        results.append(x.grad.numpy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.isnan(results[0]).any()


def test_cat_result_is_contiguous_so_view_works_as_torch():
    a = T.arange(12.0).reshape(3, 4).transpose(-1, 0)       # Fortran-ordered memory
    joined = T.cat([a, a.abs()], dim=0)
    assert joined.is_contiguous()
    assert joined.view(3, -1).shape == (3, 8)


def test_argmax_and_argmin_refuse_bool_as_torch():
    m = T.tensor([True, False])
    for f in (T.argmax, T.argmin):
        with pytest.raises(RuntimeError, match="does not support bool input"):
            f(m)

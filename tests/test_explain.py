"""tapegrad.autograd.explain: what cut the gradient path, one cause at a time; each case also
runs the backward, so the explanation is checked against what actually happens."""
import inspect
import os

import pytest

import tapegrad as tg
from tapegrad.autograd import explain
from tapegrad.ops.attention import sdpa

HERE = os.path.abspath(__file__)


def here():
    """"file:line" of the caller's line."""
    return f"{HERE}:{inspect.currentframe().f_back.f_lineno}"


def leaf(*values):
    return tg.tensor(list(values), requires_grad=True)


def test_a_fine_path_says_the_grad_will_be_set():
    x = leaf(1.0, 2.0)
    loss = (x * 3).exp().sum()
    assert "wrt.grad will be set by t.backward()" in explain(loss, x)
    loss.backward()
    assert x.grad is not None
    assert "t.grad will be set" in explain(x)


@pytest.mark.parametrize("mode, word", [(tg.no_grad, "no_grad()"),
                                        (tg.inference_mode, "inference_mode()")])
def test_made_under_no_grad_or_inference_mode_with_the_source_line(mode, word):
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    with tg.Tape(record_source=True):
        with mode():
            y = x * 2; line = here()        # noqa: E702  (the line to find)
        loss = (y * w).sum()
    assert explain(y) == f"t does not require grad: it was made by 'mul' under {word}, " \
                         f"which records nothing (at {line})."
    why = explain(loss, x)
    assert f"under {word}" in why and line in why
    loss.backward()
    assert x.grad is None and w.grad is not None


def test_no_grad_without_source_lines_says_how_to_turn_them_on():
    x = leaf(1.0, 2.0)
    with tg.no_grad():
        y = x * 2
    why = explain(y)
    assert "no_grad()" in why and "Tape(record_source=True)" in why and "detect_anomaly" in why


@pytest.mark.parametrize("how, word", [("detach", "detach()"), ("data", ".data")])
def test_detach_and_data(how, word):
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    with tg.Tape(record_source=True):
        d = x.detach() if how == "detach" else x.data; line = here()       # noqa: E702
        loss = (d * w).sum()
    why = explain(loss, x)
    assert "shares wrt's memory but not its history" in why and word in why and line in why
    # without source lines it still sees the shared memory, and names both suspects
    loss2 = ((x.detach() if how == "detach" else x.data) * w).sum()
    assert "detach() or .data" in explain(loss2, x)
    loss.backward()
    assert x.grad is None


def test_an_integer_cast():
    x = leaf(1.5, 2.5)
    with tg.Tape(record_source=True):
        i = x.long(); line = here()        # noqa: E702
    assert explain(i) == ("t does not require grad: it is the non-float result of 'cast' (an "
                          "integer cast, an index or a comparison), and only floating point "
                          f"tensors carry gradients (at {line}).")
    assert "dtype is torch.int64" in explain(x.long())      # known without source lines too
    assert "dtype is torch.bool" in explain(x > 2)


def test_an_op_with_no_derivative_for_that_input():
    q = tg.ones(1, 2, 3, requires_grad=True)
    mask = tg.ones(1, 2, 2, requires_grad=True)     # a dropout mask: no rule for it
    out, _ = sdpa(q, q, q, None, mask)
    loss = out.sum()
    why = explain(loss, mask)
    assert "'scaled_dot_product_attention' (ScaledDotProductAttentionBackward0)" in why
    assert "no derivative for its input 4" in why
    loss.backward()
    assert mask.grad is None and q.grad is not None


def test_a_leaf_that_never_required_grad():
    x, c = leaf(1.0, 2.0), tg.tensor([3.0, 4.0])
    loss = (x * c).sum()
    why = explain(loss, c)
    assert why.startswith("wrt does not require grad and has no history")
    assert "wrt.requires_grad_()" in why and why.endswith("So wrt.grad stays None.")


def test_grad_of_a_non_leaf_without_retain_grad():
    x = leaf(1.0, 2.0)
    with tg.Tape(record_source=True):
        h = x * 2; line = here()       # noqa: E702
    loss = (h * h).sum()
    why = explain(h)
    assert "not a leaf (made by MulBackward0" in why and line in why and "retain_grad()" in why
    assert "wrt is not a leaf" in explain(loss, h)
    loss.backward(retain_graph=True)
    with pytest.warns(UserWarning, match="not a leaf"):
        assert h.grad is None
    h.retain_grad()
    assert "will be set" in explain(h) and "wrt.grad will be set" in explain(loss, h)
    loss.backward()
    assert h.grad is not None


def test_a_tensor_replaced_by_an_in_place_op_after_its_use():
    x = leaf(1.0, 2.0)
    a = x * 1
    b = (a * 2).sum()
    a.mul_(3)                     # a now names a new history; b used the old one
    a.retain_grad()
    why = explain(b, a)
    assert "changed by an in-place op (MulBackward0)" in why and "earlier value" in why
    b.backward()
    assert a.grad is None and x.grad is not None


def test_requires_grad_turned_on_after_the_use():
    x, w = leaf(1.0, 2.0), tg.tensor([3.0, 4.0])
    loss = (x * w).sum()
    w.requires_grad_()
    assert "wrt started requiring grad after 'mul'" in explain(loss, w)
    loss.backward()
    assert w.grad is None


def test_a_graph_freed_by_an_earlier_backward():
    x, w = leaf(1.0, 2.0), leaf(1.0, 1.0)
    y = (x * w).exp()
    y.sum().backward()
    other = leaf(5.0)
    assert "freed by an earlier backward" in explain((y * 2).sum(), other)


def test_a_tensor_t_is_not_computed_from():
    x, other = leaf(1.0, 2.0), leaf(5.0)
    why = explain((x * 2).sum(), other)
    assert why.startswith("t was not computed from wrt") and "record_source=True" in why


def test_explain_refuses_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="explain: wrt must be a Tensor, got list"):
        explain(leaf(1.0), [1.0])


class Double(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_a_custom_function_and_a_variadic_op_are_paths():
    x, w = leaf(1.0, 2.0), leaf(3.0)
    loss = tg.cat([Double.apply(x), w]).sum()
    assert "wrt.grad will be set" in explain(loss, x) and "wrt.grad will be set" in explain(loss, w)
    loss.backward()
    assert x.grad is not None and w.grad is not None


def test_a_view_made_under_no_grad():
    x = leaf(1.0, 2.0, 3.0)
    with tg.no_grad():
        v = x[:2]
    assert v.requires_grad and explain(v).startswith("t is a view made under no_grad()")
    loss = (v * 2).sum()
    assert "from a view of wrt made under no_grad()" in explain(loss, x)
    loss.backward()
    assert x.grad is None

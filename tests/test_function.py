"""autograd.Function: custom ops recorded as one tape entry whose VJP is the user's backward."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import Function, gradcheck, gradgradcheck
from tapegrad.autograd.function import FunctionBackward, once_differentiable
from tapegrad.primitives import REGISTRY


def make_exp(T):
    """The same Function class body for tapegrad and for PyTorch (T is either library)."""
    class MyExp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = T.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y
    return MyExp


def make_scale(T):
    """Two tensor inputs, a Python scalar in between, an attribute on ctx."""
    class Scale(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, w):
            ctx.k = k
            ctx.save_for_backward(x, w)
            return x * w * k

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            gx = g * w * ctx.k if ctx.needs_input_grad[0] else None
            gw = g * x * ctx.k if ctx.needs_input_grad[2] else None
            return gx, None, gw
    return Scale


def make_split(T):
    """Two outputs, one of them the input itself returned as-is."""
    class Split(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x, T.sin(x)

        @staticmethod
        def backward(ctx, g1, g2):
            x, = ctx.saved_tensors
            return g1 + g2 * T.cos(x)
    return Split


def _seed(shape, k=1):
    return np.random.default_rng(k).standard_normal(shape)


@pytest.fixture
def x():
    return tg.tensor(_seed((3, 4)), requires_grad=True)


def test_forward_backward_and_grad_fn_name(x):
    MyExp = make_exp(tg)
    y = MyExp.apply(x)
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "MyExpBackward"
    assert "grad_fn=<MyExpBackward>" in repr(y)
    np.testing.assert_allclose(y.detach().numpy(), np.exp(x.detach().numpy()))
    y.backward(tg.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()))


def test_one_entry_on_the_tape_and_not_registered(x):
    MyExp = make_exp(tg)
    before = set(REGISTRY)
    with tg.Tape() as tape:
        y = MyExp.apply(x)
    assert [e.name() for e in tape] == ["MyExpBackward"]
    assert "MyExp(" in repr(tape)
    assert set(REGISTRY) == before
    (node, index), = y.grad_fn.next_functions
    assert node.variable is x and index == 0 and node.name() == "torch::autograd::AccumulateGrad"


def test_node_mirrors_every_primitive_attribute(x):
    """The engine reads Primitive attributes from entry.prim: the Function node has them all."""
    y = make_exp(tg).apply(x)
    node = y.grad_fn.prim
    assert isinstance(node, FunctionBackward)
    builtin = REGISTRY["exp"]
    missing = [k for k in vars(builtin) if not hasattr(node, k)]
    assert not missing, f"FunctionBackward lacks Primitive attributes {missing}"


def test_gradcheck_and_double_backward():
    MyExp = make_exp(tg)
    x = tg.tensor(_seed((2, 3)), requires_grad=True)
    assert gradcheck(MyExp.apply, (x,))
    assert gradgradcheck(MyExp.apply, (x,))
    # d/dx of (dy/dx . v) = exp(x) * v: the saved output is wired back to the entry
    v = tg.tensor(_seed((2, 3), 2))
    g, = tg.autograd.grad(MyExp.apply(x), x, v, create_graph=True)
    assert g.requires_grad
    gg, = tg.autograd.grad(g, x, tg.ones_like(g))
    np.testing.assert_allclose(gg.numpy(), np.exp(x.detach().numpy()) * v.numpy())


def test_matches_pytorch_with_scalar_argument_and_two_inputs():
    torch = pytest.importorskip("torch")
    a, b, s = _seed((3, 4)), _seed((4,), 2), _seed((3, 4), 3)
    results = []
    for T in (tg, torch):
        x, w = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        y = make_scale(T).apply(x, 2.5, w)
        gx, gw = T.autograd.grad(y, (x, w), T.tensor(s), create_graph=True)
        ggx, = T.autograd.grad(gw, x, T.ones_like(gw))
        results.append([t.detach().numpy() for t in (y, gx, gw, ggx)])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_input_returned_as_is_and_two_outputs_match_pytorch():
    torch = pytest.importorskip("torch")
    a = _seed((5,))
    grads = []
    for T in (tg, torch):
        x = T.tensor(a, requires_grad=True)
        y1, y2 = make_split(T).apply(x)
        assert y1 is not x and y1.requires_grad
        g, = T.autograd.grad(y1 * 3.0 + y2, x, T.ones_like(y2), create_graph=True)
        gg, = T.autograd.grad(g, x, T.ones_like(g))
        grads.append((g.detach().numpy(), gg.numpy()))
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_needs_input_grad_and_kwargs():
    seen = {}

    class Affine(Function):
        @staticmethod
        def forward(ctx, x, b, scale=2.0):
            seen["needs"] = ctx.needs_input_grad
            seen["grad_mode"] = tg.is_grad_enabled()
            return x * scale + b

        @staticmethod
        def backward(ctx, g):
            return g * 3.0, g, None, None      # trailing Nones beyond the inputs are allowed

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([0.5, 0.5])
    y = Affine.apply(x, b, scale=3.0)
    assert seen == {"needs": (True, False, False), "grad_mode": False}
    np.testing.assert_allclose(y.detach().numpy(), [3.5, 6.5])
    y.backward(tg.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    assert b.grad is None


def test_not_recorded_without_grad():
    MyExp = make_exp(tg)
    x = tg.tensor([1.0, 2.0])
    assert MyExp.apply(x).grad_fn is None
    with tg.no_grad():
        y = MyExp.apply(tg.tensor([1.0], requires_grad=True))
    assert not y.requires_grad and y.grad_fn is None


def test_wrong_number_of_gradients_names_the_function(x):
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            return g, g

    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match=r"TooManyBackward returned an incorrect number of "
                                           r"gradients \(expected 1, got 2\)"):
        TooMany.apply(x).backward(tg.ones_like(x))
    with pytest.raises(RuntimeError, match=r"TooFewBackward .*expected 2, got 1"):
        TooFew.apply(x, x).backward(tg.ones_like(x))


def test_gradient_for_non_tensor_and_bad_shape_raise(x):
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, n):
            return x * n

        @staticmethod
        def backward(ctx, g):
            return g, g

    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return tg.ones(7, dtype=tg.float64)

    with pytest.raises(RuntimeError, match="BadBackward returned a gradient different than None "
                                           "at position 2"):
        Bad.apply(x, 3).backward(tg.ones_like(x))
    with pytest.raises(RuntimeError, match=r"BadShapeBackward returned an invalid gradient at "
                                           r"index 0 - got \[7\]"):
        BadShape.apply(x).backward(tg.ones_like(x))


def test_unused_output_gets_zeros_or_none():
    got = []

    def make(materialize):
        class Two(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2.0, x * 3.0

            @staticmethod
            def backward(ctx, g1, g2):
                got.append((g1, g2))
                return g2 * 3.0
        return Two

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    _, b = make(True).apply(x)
    b.backward(tg.ones_like(b))
    g1, g2 = got.pop()
    np.testing.assert_array_equal(g1.numpy(), [0.0, 0.0])
    _, b = make(False).apply(x)
    b.backward(tg.ones_like(b))
    g1, g2 = got.pop()
    assert g1 is None and g2 is not None
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_mark_non_differentiable_and_integer_outputs():
    received = []

    class WithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            doubled = x * 2.0
            flag = x > 0
            ctx.mark_non_differentiable(flag)
            return doubled, flag, tg.tensor(3), "label"

        @staticmethod
        def backward(ctx, g, gflag, gint, gstr):
            received.append((gflag, gint, gstr))
            return g * 2.0

    x = tg.tensor([1.0, -2.0], requires_grad=True)
    y, flag, n, label = WithIndex.apply(x)
    assert y.requires_grad and not flag.requires_grad and not n.requires_grad
    assert label == "label"
    y.backward(tg.ones_like(y))
    gflag, gint, gstr = received[0]
    assert gflag.shape == (2,) and not gflag.numpy().any()
    assert gint.shape == () and gstr is None
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_inplace_change_of_saved_tensor_raises_at_backward():
    MyExp = make_exp(tg)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = MyExp.apply(x)
    z = y + 1.0                       # add does not read y: only MyExp's check can fire
    y.mul_(2.0)                       # y is the saved output
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MyExp"):
        z.backward(tg.ones_like(z))
    h = x * 1.0
    s = make_split(tg).apply(h)[1]    # h is a saved input
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.backward(tg.ones_like(s))


def test_saved_tensors_after_release_raise():
    holder = {}

    class Keep(Function):
        @staticmethod
        def forward(ctx, x):
            holder["ctx"] = ctx
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2.0 * g * x

    x = tg.tensor([1.0, 3.0], requires_grad=True)
    y = Keep.apply(x)
    y.backward(tg.ones_like(y), retain_graph=True)
    y.backward(tg.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 12.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        holder["ctx"].saved_tensors
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward(tg.ones_like(y))


def test_save_for_backward_rejects_non_tensors():
    class Saves(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1.0

    with pytest.raises(TypeError, match="argument 1 is of type int"):
        Saves.apply(tg.tensor([1.0], requires_grad=True))


def test_setup_context_style():
    class Cube(Function):
        @staticmethod
        def forward(x):
            return x * x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3.0 * g * x * x

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    y.backward(tg.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_once_differentiable():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2.0 * g * x

    x = tg.tensor([1.0, 3.0], requires_grad=True)
    g, = tg.autograd.grad(Square.apply(x), x, tg.ones(2, dtype=tg.float64))
    np.testing.assert_allclose(g.numpy(), [2.0, 6.0])
    v = tg.ones(2, dtype=tg.float64, requires_grad=True)
    g, = tg.autograd.grad(Square.apply(x), x, v, create_graph=True)
    # as in torch: grad() prunes the error node (no path to x), backward() runs it
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        tg.autograd.grad(g, x, tg.ones_like(g))
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_nested_functions_and_gradgradcheck_with_torch_values():
    torch = pytest.importorskip("torch")
    a = _seed((4,))
    outs = []
    for T in (tg, torch):
        MyExp = make_exp(T)
        x = T.tensor(a, requires_grad=True)
        y = MyExp.apply(MyExp.apply(x) * 0.5)
        g, = T.autograd.grad(y, x, T.ones_like(y), create_graph=True)
        gg, = T.autograd.grad(g, x, T.ones_like(g))
        outs.append((g.detach().numpy(), gg.numpy()))
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-12)

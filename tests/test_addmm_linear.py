"""The fused addmm (one entry, PyTorch's AddmmBackward0) and F.linear / nn.Linear on it: parity
with PyTorch, one entry per layer, gradients in the parameters' layout, PyTorch's errors."""
import numpy as np
import pytest

import tapegrad as tg


def _pair(torch, *arrays):
    return ([tg.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def test_linear_layer_records_one_entry_named_as_pytorch():
    lin = tg.nn.Linear(4, 3)
    with tg.Tape() as tape:
        y = lin(tg.ones(2, 4))
    assert len(tape) == 1 and y.grad_fn.name() == "AddmmBackward0"
    assert repr(y.grad_fn).startswith("<AddmmBackward0 object at ")
    assert "grad_fn=<AddmmBackward0>" in repr(y)
    nodes = [n.variable for n, _ in y.grad_fn.next_functions if n is not None]
    assert nodes[0] is lin.bias and nodes[1] is lin.weight


def test_gradients_take_the_parameters_layout():
    lin = tg.nn.Linear(5, 3)
    lin(tg.randn(7, 5)).pow(2).sum().backward()
    assert lin.weight.grad.stride() == lin.weight.stride() == (5, 1)
    assert lin.bias.grad.stride() == (1,)


@pytest.mark.parametrize("shape", [(6, 4), (1, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch(shape, bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape), rng.standard_normal((3, 4))]
    if bias:
        arrays.append(rng.standard_normal(3))
    ours, theirs = _pair(torch, *arrays)
    y, yt = tg.nn.functional.linear(*ours), torch.nn.functional.linear(*theirs)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(yt.shape)
    y.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_sgd_steps_on_a_linear_layer_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((3, 5)), rng.standard_normal(3)
    x, target = rng.standard_normal((8, 5)), rng.standard_normal((8, 3))
    results = []
    for T in (tg, torch):
        lin = T.nn.Linear(5, 3).double()
        with T.no_grad():
            lin.weight.copy_(T.tensor(w))
            lin.bias.copy_(T.tensor(b))
        opt = T.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
        for _ in range(5):
            opt.zero_grad()
            T.nn.functional.mse_loss(lin(T.tensor(x)), T.tensor(target)).backward()
            opt.step()
        results.append([lin.weight.detach().numpy(), lin.bias.detach().numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2), (0, 3)])
def test_addmm_matches_pytorch_to_second_order(beta, alpha):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((1, 2)), rng.standard_normal((3, 4)),
              rng.standard_normal((4, 2))]
    results = []
    for T, xs in zip((tg, torch), _pair(torch, *arrays)):
        y = T.addmm(*xs, beta=beta, alpha=alpha)
        gs = T.autograd.grad((y * y).sum(), xs, create_graph=True)
        hs = T.autograd.grad(sum((g * g).sum() for g in gs), xs)
        results.append([t.detach().numpy() for t in (y, *gs, *hs)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_beta_zero_ignores_nan_in_input():
    y = tg.addmm(tg.full((2, 2), float("nan")), tg.ones(2, 3), tg.ones(3, 2), beta=0)
    assert y.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_addmm_out_and_method():
    out = tg.empty(2, 2)
    got = tg.addmm(tg.ones(2), tg.ones(2, 3), tg.ones(3, 2), alpha=2, out=out)
    assert got is out and out.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tg.ones(2).addmm(tg.ones(2, 3), tg.ones(3, 2), beta=2).tolist() == [[5.0] * 2] * 2


ERRORS = [
    ("mismatched", lambda T: T.addmm(T.ones(2), T.ones(4, 3), T.ones(2, 3)),
     r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 2x3\)"),
    ("linear_mismatched", lambda T: T.nn.functional.linear(T.ones(4, 3), T.ones(2, 4),
                                                           T.ones(2)),
     r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 4x2\)"),
    ("vector", lambda T: T.addmm(T.ones(2), T.ones(3), T.ones(3, 2)), "mat1 must be a matrix"),
    ("bias_dtype", lambda T: T.addmm(T.ones(2, dtype=T.float64), T.ones(4, 3), T.ones(3, 2)),
     "self and mat2 must have the same dtype, but got Double and Float"),
    ("linear_bias_dtype", lambda T: T.nn.functional.linear(T.ones(4, 3), T.ones(2, 3),
                                                           T.ones(2, dtype=T.float64)),
     "self and mat2 must have the same dtype, but got Double and Float"),
]


@pytest.mark.parametrize("name", [e[0] for e in ERRORS])
def test_errors_as_pytorch(name):
    torch = pytest.importorskip("torch")
    _, fn, message = next(e for e in ERRORS if e[0] == name)
    for T in (tg, torch):
        with pytest.raises(RuntimeError, match=message):
            fn(T)


def test_unbroadcastable_input_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"addmm: the input of shape \[3, 2\] can't be "
                                           r"broadcast to the product's shape \[4, 2\]"):
        tg.addmm(tg.ones(3, 2), tg.ones(4, 3), tg.ones(3, 2))
    with pytest.raises(TypeError, match="argument 'input' must be Tensor, not float"):
        tg.addmm(1.0, tg.ones(4, 3), tg.ones(3, 2))


def test_a_released_matmul_entry_keeps_a_name():
    x = tg.ones(2, 2, 3, requires_grad=True)
    y = x @ tg.ones(3, 2)
    assert y.grad_fn.name() == "UnsafeViewBackward0"
    y.sum().backward()               # its operands are dropped: the primitive's name remains
    assert y.grad_fn.name() == "MmBackward0"


def test_bmm_differentiates_as_matmul():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    ours, theirs = _pair(torch, rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5)))
    tg.bmm(*ours).pow(2).sum().backward()
    torch.bmm(*theirs).pow(2).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)

"""grad_fn names and next_functions as PyTorch's, for the ops whose node names already agree."""
import pytest

import tapegrad as tg

EXPRESSIONS = {
    "mul": lambda T, x: x * 2,
    "add": lambda T, x: x + x,
    "sum": lambda T, x: x.sum(),
    "mean": lambda T, x: x.mean(),
    "max_all": lambda T, x: x.max(),
    "min_all": lambda T, x: x.min(),
    "max_dim": lambda T, x: x.max(0).values,
    "exp": lambda T, x: x.exp(),
    "tanh": lambda T, x: x.tanh(),
    "relu": lambda T, x: x.relu(),
    "softmax": lambda T, x: T.softmax(x, 0),
    "log_softmax": lambda T, x: T.log_softmax(x, 0),
    "clamp": lambda T, x: x.clamp(0.1, 0.5),
    "clamp_tensor": lambda T, x: T.clamp(x, T.zeros(3)),
    "neg": lambda T, x: -x,
    # matmul by the operands' dims (above 2-D PyTorch's node is the last step of its plan)
    "matmul_dot": lambda T, x: x @ x,
    "matmul_mv": lambda T, x: T.ones(2, 3) @ x,
    "matmul_vm": lambda T, x: x @ T.ones(3, 2),
    "matmul_mm": lambda T, x: T.outer(x, x) @ T.ones(3, 2),
    "matmul_nd_2d": lambda T, x: x.expand(4, 2, 3) @ T.ones(3, 2),
    "matmul_nd_nd": lambda T, x: x.expand(4, 2, 3) @ x.expand(4, 3, 3),
    "matmul_nd_1d": lambda T, x: x.expand(4, 2, 3) @ x,
    "matmul_1d_nd": lambda T, x: x @ T.ones(4, 3, 2),
    "matmul_2d_nd": lambda T, x: T.outer(x, x)[:2] @ T.ones(4, 3, 2),
    "matmul_row_nd": lambda T, x: x.reshape(1, 3) @ T.ones(4, 3, 2),
    "matmul_2d_nd_constant_lhs": lambda T, x: T.ones(2, 3) @ x.expand(4, 3, 3),
    "mm": lambda T, x: T.mm(T.outer(x, x), T.ones(3, 2)),
    "bmm": lambda T, x: T.bmm(x.expand(4, 2, 3), T.ones(4, 3, 2)),
    "mv": lambda T, x: T.mv(T.ones(2, 3), x),
    "dot": lambda T, x: T.dot(x, x),
    "addmm": lambda T, x: T.addmm(x[:2], T.ones(4, 3), T.outer(x, x)[:, :2]),
    "linear": lambda T, x: T.nn.functional.linear(T.ones(4, 3), T.outer(x, x), x),
    "linear_no_bias": lambda T, x: T.nn.functional.linear(T.ones(4, 3), T.outer(x, x)),
    # writes through a view
    "setitem_slice": lambda T, x: _written(x * 1, slice(1, 3), x[:2]),
    "setitem_int": lambda T, x: _written(T.outer(x, x), 1, x),
    "setitem_index": lambda T, x: _written(x * 1, T.tensor([0, 2]), x[:2]),
    "view_add_": lambda T, x: _through_view(T.outer(x, x)),
}


def _written(t, key, value):
    t[key] = value
    return t


def _through_view(t):
    t[:, 1].add_(1)
    return t


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_grad_fn_names_match_pytorch(name):
    torch = pytest.importorskip("torch")
    fn = EXPRESSIONS[name]
    ours = fn(tg, tg.ones(3, requires_grad=True)).grad_fn.name()
    theirs = fn(torch, torch.ones(3, requires_grad=True)).grad_fn.name()
    assert ours == theirs


def test_a_leaf_that_requires_grad_shows_its_accumulate_grad_node():
    x = tg.ones(2, requires_grad=True)
    c = tg.ones(2)
    nodes = (x * c).grad_fn.next_functions
    assert nodes[1] == (None, 0)          # a constant: no node
    node, index = nodes[0]
    assert index == 0 and node.variable is x and node.next_functions == ()
    assert node.name() == "torch::autograd::AccumulateGrad"
    assert (x + c).grad_fn.next_functions[0][0] is node     # one node per leaf while held
    y = x * 2
    assert y.grad_fn.next_functions[0][0].variable is x


@pytest.mark.parametrize("name", ["setitem_slice", "view_add_", "linear", "matmul_nd_2d"])
def test_node_and_tensor_reprs_match_pytorch(name):
    torch = pytest.importorskip("torch")
    fn = EXPRESSIONS[name]
    ours = fn(tg, tg.ones(3, requires_grad=True))
    theirs = fn(torch, torch.ones(3, requires_grad=True))
    assert repr(ours.grad_fn).split(" object")[0] == repr(theirs.grad_fn).split(" object")[0]
    assert repr(ours).split("grad_fn=")[1] == repr(theirs).split("grad_fn=")[1]

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
}


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

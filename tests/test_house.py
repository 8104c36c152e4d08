"""The house rules that are not about imports (those are in test_layers.py): methods come from
the tables in `_methods.py`, private helpers never become methods, primitives follow one naming
convention, and a custom Function's entry is a real Primitive."""
import importlib.util
import re

import pytest

import tapegrad as tg
from tapegrad import _methods
from tapegrad._tensor import Tensor
from tapegrad.autograd.function import FunctionBackward
from tapegrad.primitives import REGISTRY, Primitive, primitive


def test_every_installed_method_is_the_function_in_its_table():
    for table in (_methods.METHODS, _methods.OPERATORS, _methods.REFLECTED):
        for name, fn in table.items():
            assert Tensor.__dict__[name] is fn, name
    assert Tensor.add is tg.ops.elementwise.add        # grep "def add" leads to Tensor.add
    assert tg.Tape.gradient is tg.engine.tape_gradient


def test_private_helpers_never_become_methods():
    private = [n for n, v in vars(Tensor).items()
               if n.startswith("_") and not n.startswith("__") and callable(v)]
    assert private == []
    for name in ("_inplace", "_write_check", "_store", "_overwrite"):
        assert not hasattr(Tensor, name)


def test_methods_bound_from_the_tables_behave_as_methods():
    x = tg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = (2 - x).relu().T @ x + 1 / x
    y.sum().backward()
    assert x.grad.shape == (2, 2)
    assert x.double().dtype == tg.float64 and x.long().dtype == tg.int64
    assert x.to(tg.float64).type() == "torch.DoubleTensor"


def test_primitive_names_follow_pytorchs_op_names():
    bad = [n for n in REGISTRY if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", n)]
    assert bad == []
    assert not [n for n in REGISTRY if n.endswith("_prim")]
    assert tg.softmax(tg.ones(3, requires_grad=True), 0).grad_fn.name() == "SoftmaxBackward0"


@pytest.mark.parametrize("name", ["_private", "CamelCase", "clamp-prim", "x__y"])
def test_primitive_refuses_a_name_off_the_convention(name):
    with pytest.raises(ValueError, match="lower snake case"):
        primitive(name)


def test_primitive_refuses_a_name_already_registered():
    with pytest.raises(ValueError, match="already registered"):
        primitive("mul")(lambda x, y: x * y)


def test_a_functions_entry_is_a_real_primitive():
    class Double(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = tg.ones(3, requires_grad=True)
    y = Double.apply(x)
    prim = y.grad_fn.prim
    assert isinstance(prim, FunctionBackward) and isinstance(prim, Primitive)
    assert prim.name == "Double" and prim.grad_fn_name == "DoubleBackward"
    assert prim.reads_inputs is False and prim.saves is False and prim.n_out == 1
    assert "Double" not in REGISTRY         # the registry holds built-in ops only
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_the_tensor_module_is_not_shadowed_by_the_tensor_function():
    assert importlib.util.find_spec("tapegrad.tensor") is None     # PyTorch's _tensor, too
    assert callable(tg.tensor) and tg.Tensor.__module__ == "tapegrad._tensor"


def test_state_lives_in_named_attributes_not_positional_cells():
    x = tg.ones(2)
    v = x[0]
    assert (x._counter.version, x._counter.written) == (0, 0)
    x.add_(1)
    assert v._counter is x._counter and v._version == 1 and x._counter.written > 0
    before = tg.get_default_dtype()
    try:
        tg.set_default_dtype(tg.float64)
        assert tg.tensor([1.5]).dtype == tg.float64 and tg.Tensor([1]).dtype == tg.float64
    finally:
        tg.set_default_dtype(before)
    tg.manual_seed(3)
    a = tg.rand(4)
    tg.manual_seed(3)
    assert tg.equal(a, tg.rand(4))


def test_grad_takes_the_layout_of_its_leaf_as_in_pytorch():
    lin = tg.nn.Linear(4, 3)
    lin(tg.ones(2, 4)).sum().backward()
    assert lin.weight.grad.stride() == lin.weight.stride()        # not the transposed matmul's
    w = tg.ones(4, 3).t().detach().requires_grad_()
    (w * 2).sum().backward()
    assert w.grad.stride() == w.stride() and w.grad.tolist() == [[2.0] * 4] * 3


def test_version_counters_are_made_only_when_written_or_shared():
    from tapegrad._state import FRESH
    x = tg.ones(3, requires_grad=True)
    y = x * 2                                  # nobody writes or shares it: no counter yet
    assert y._counter is FRESH and y._version == 0
    v = y[1:]                                  # a view shares its base's own counter
    assert v._counter is y._counter and y._counter is not FRESH
    z = x * 3
    z.add_(1)                                  # a write gives it one, and counts
    assert z._counter is not FRESH and z._version == 1
    d = (x * 4).detach()
    assert d._counter is not FRESH
    with pytest.raises(RuntimeError, match="FRESH"):
        FRESH.version = 1                      # the shared counter never changes
    w = x.exp()                                # its rule reads the output: watched from the start
    w.detach().mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_counters_made_concurrently_are_one_counter():
    import threading
    for _ in range(20):
        base = tg.ones(4, requires_grad=True) * 1.0
        views = []
        start = threading.Barrier(4)

        def take():
            start.wait()
            views.append(base[1:])
        threads = [threading.Thread(target=take) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(v._counter is base._counter for v in views)

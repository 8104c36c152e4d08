"""Bad input (design.md section 4): PyTorch's exception type, a message naming the op, no state
change. Each case runs on tapegrad and, when installed, on PyTorch to confirm the type."""
import numpy as np
import pytest

import tapegrad as tg

CASES = {
    "broadcast_mismatch": (lambda T: T.ones(2, 3) + T.ones(4), RuntimeError, r"add.*\(2, 3\)"),
    "bool_subtract": (lambda T: T.tensor([True]) - T.tensor([True]), RuntimeError, "sub"),
    "where_mismatch": (lambda T: T.where(T.ones(3) > 0, T.ones(2), T.ones(4)), RuntimeError,
                       "where"),
    "dim_out_of_range": (lambda T: T.ones(2, 3).sum(5), IndexError, "sum.*range"),
    "softmax_dim": (lambda T: T.softmax(T.ones(2, 3), 2), IndexError, "range"),
    "cat_dim": (lambda T: T.cat([T.ones(2), T.ones(2)], 1), IndexError, "range"),
    "index_out_of_bounds": (lambda T: T.ones(2, 3)[5], IndexError, "out of bounds"),
    "matmul_mismatch": (lambda T: T.ones(2, 3) @ T.ones(2, 3), RuntimeError, r"2x3 and 2x3"),
    "mm_rank": (lambda T: T.mm(T.ones(2, 3, 4), T.ones(4, 2)), RuntimeError, "matrix|2D"),
    "reshape_size": (lambda T: T.ones(2, 3).reshape(4), RuntimeError, "invalid for input"),
    "cat_sizes": (lambda T: T.cat([T.ones(2, 3), T.ones(3, 2)]), RuntimeError, "Sizes"),
    "expand": (lambda T: T.ones(2, 3).expand(3, 3), RuntimeError, "expanded size"),
    "permute_dims": (lambda T: T.ones(2, 3).permute(0), RuntimeError, "permute"),
    "gather_index": (lambda T: T.ones(3).gather(0, T.tensor([5])), RuntimeError, "out of bounds"),
    "int_requires_grad": (lambda T: T.tensor([1, 2], requires_grad=True), RuntimeError,
                          "floating point"),
    "backward_non_scalar": (lambda T: (T.ones(2, requires_grad=True) * 2).backward(),
                            RuntimeError, "scalar outputs"),
    "backward_wrong_gradient": (lambda T: (T.ones(2, requires_grad=True) * 2).backward(
        T.ones(3)), RuntimeError, "shape"),
    "backward_no_grad": (lambda T: T.ones(2).sum().backward(), RuntimeError,
                         "does not require grad"),
    "item_many": (lambda T: T.ones(2).item(), RuntimeError, "elements"),
    "leaf_in_place": (lambda T: T.ones(2, requires_grad=True).mul_(2), RuntimeError,
                      "leaf Variable"),
    "mean_of_ints": (lambda T: T.tensor([1, 2]).mean(), RuntimeError, "mean"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_pytorchs_exception_type(name):
    fn, exc, pattern = CASES[name]
    with pytest.raises(exc, match=pattern):
        fn(tg)


@pytest.mark.parametrize("name", sorted(CASES))
def test_pytorch_raises_the_same_type(name):
    torch = pytest.importorskip("torch")
    fn, exc, _ = CASES[name]
    with pytest.raises(exc):
        fn(torch)


def test_failed_in_place_op_changes_nothing():
    x = tg.ones(2, 3)
    with pytest.raises(RuntimeError):
        x.add_(tg.ones(4))
    assert x.tolist() == [[1.0] * 3] * 2 and x._version == 0


def test_failed_grad_assignment_changes_nothing():
    w = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="size"):
        w.grad = tg.ones(4)
    with pytest.raises(RuntimeError, match="type"):
        w.grad = tg.ones(3, dtype=tg.float64)
    assert w.grad is None


def test_rule_returning_an_unreducible_shape_names_the_entry():
    from tapegrad.primitives import primitive, defvjp, REGISTRY

    @primitive("broken_for_test")
    def broken(x):
        return x * 2

    defvjp(broken, lambda g, out, x: tg.ones(7))
    try:
        y = broken(tg.ones(3, requires_grad=True))
        with pytest.raises(RuntimeError, match="BrokenForTestBackward0.*shape \\[3\\]"):
            y.backward(tg.ones(3))
    finally:
        del REGISTRY["broken_for_test"]


def test_error_messages_name_shapes_and_dtypes():
    with pytest.raises(RuntimeError) as info:
        tg.ones(2, 3) * tg.ones(4, dtype=tg.float64)
    message = str(info.value)
    assert "mul" in message and "(2, 3) torch.float32" in message and "(4,) torch.float64" in message
    np.testing.assert_equal(tg.ones(2).numpy(), [1, 1])

"""Tensor basics: creation defaults, dtype promotion, repr, conversions (against PyTorch)."""
import numpy as np
import pytest

import tapegrad as tg


def test_creation_dtype_defaults_follow_pytorch():
    assert tg.tensor([1.0, 2.0]).dtype == tg.float32
    assert tg.tensor([1, 2]).dtype == tg.int64
    assert tg.tensor([True]).dtype == tg.bool
    assert tg.tensor(np.array([1.0])).dtype == tg.float64     # arrays keep their dtype
    assert tg.from_numpy(np.zeros(2, np.float16)).dtype == tg.float16
    assert tg.zeros(2, 3).dtype == tg.float32 and tg.zeros(2, 3).shape == (2, 3)
    assert tg.arange(5).dtype == tg.int64 and tg.arange(0.0, 1.0, 0.25).dtype == tg.float32
    assert tg.full((2,), 7).dtype == tg.int64 and tg.full((2,), 7.0).dtype == tg.float32
    assert tg.rand(3, dtype=tg.float64).dtype == tg.float64
    x = tg.tensor([1.0, 2.0], dtype=tg.float64)
    assert x.tolist() == [1.0, 2.0]


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(3)
    t, c = tg.from_numpy(a), tg.tensor(a)
    a[0] = 5
    assert t[0].item() == 5 and c[0].item() == 0


def test_manual_seed_makes_draws_repeatable():
    tg.manual_seed(3)
    a = tg.randn(4)
    tg.manual_seed(3)
    assert a.tolist() == tg.randn(4).tolist()
    g = tg.Generator().manual_seed(7)
    r = tg.randint(0, 10, (5,), generator=g)
    assert r.dtype == tg.int64 and ((r >= 0) & (r < 10)).all() if hasattr(r, "all") else True


def test_manual_seed_returns_the_default_generator_as_torch():
    g = tg.manual_seed(5)
    assert g is tg.default_generator
    first = tg.randn(3)
    g.manual_seed(5)            # reseeding what manual_seed returned reseeds the global stream
    assert first.tolist() == tg.randn(3).tolist()


@pytest.mark.parametrize("a,b", [
    ("float32", "float64"), ("int64", "float32"), ("int32", "float16"), ("bool", "int32"),
    ("int32", "int64"), ("float16", "float32"),
])
def test_binary_promotion_matches_pytorch(a, b):
    torch = pytest.importorskip("torch")
    for shapes in [((2,), (2,)), ((2,), ()), ((), (2,))]:
        x = tg.ones(shapes[0], dtype=getattr(tg, a))
        y = tg.ones(shapes[1], dtype=getattr(tg, b))
        tx = torch.ones(shapes[0], dtype=getattr(torch, a))
        ty = torch.ones(shapes[1], dtype=getattr(torch, b))
        for op in (lambda u, v: u + v, lambda u, v: u * v, lambda u, v: u / v):
            assert str(op(x, y).dtype) == str(op(tx, ty).dtype)


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_python_scalar_promotion_matches_pytorch(dtype):
    torch = pytest.importorskip("torch")
    x, tx = tg.ones(2, dtype=getattr(tg, dtype)), torch.ones(2, dtype=getattr(torch, dtype))
    for op in (lambda u: u + 1, lambda u: u * 2.5, lambda u: u / 2, lambda u: 2 ** u):
        assert str(op(x).dtype) == str(op(tx).dtype)


def test_float32_stays_float32_through_ops_and_grads():
    x = tg.randn(3, requires_grad=True)
    y = tg.exp(x) * 2.0 + x / 3
    assert y.dtype == tg.float32
    y.backward(tg.ones(3))
    assert x.grad.dtype == tg.float32


def test_repr_looks_like_pytorch():
    assert repr(tg.tensor([1.0, 2.0], requires_grad=True)) == \
        "tensor([1., 2.], requires_grad=True)"
    assert repr(tg.tensor(3.5)) == "tensor(3.5000)"
    assert repr(tg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tg.tensor([0.1, 2.0], dtype=tg.float64)) == \
        "tensor([0.1000, 2.0000], dtype=torch.float64)"
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr(tg.tensor([True, False])) == "tensor([ True, False])"


def test_conversions():
    x = tg.tensor([[1.0, 2.0]])
    assert x.shape == (1, 2) and x.size(1) == 2 and x.dim() == 2 and x.numel() == 2
    assert repr(x.shape) == "torch.Size([1, 2])"
    assert x.double().dtype == tg.float64 and x.long().dtype == tg.int64
    assert x.to(tg.float16).dtype == tg.float16 and x.to("cpu") is x
    assert np.asarray(x).shape == (1, 2)
    assert float(tg.tensor(2.5)) == 2.5 and int(tg.tensor(3)) == 3
    with pytest.raises(RuntimeError, match="requires grad"):
        tg.ones(2, requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="cuda"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="elements cannot be converted"):
        x.item()


def test_detach_shares_data_but_not_history():
    x = tg.ones(2, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    with tg.no_grad():
        d.add_(1)
    assert y.tolist() == [3.0, 3.0]

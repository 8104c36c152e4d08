"""Hypothesis draws mutually broadcastable shapes: VJPs must sum back to each input's shape."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tapegrad as tg
from tapegrad.autograd import gradcheck

BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y * y + 1),
    "maximum": lambda x, y: tg.maximum(x, y),
    "where": lambda x, y: tg.where(x > 0, x, y),
    "pow": lambda x, y: (x * x + 1) ** y,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=15, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_binary_vjp_on_broadcastable_shapes(name, shapes, seed):
    rng = np.random.default_rng(seed)
    xs = [tg.tensor(rng.standard_normal(s), dtype=tg.float64, requires_grad=True)
          for s in shapes.input_shapes]
    out = BINARY[name](*xs)
    assert out.shape == shapes.result_shape
    assert gradcheck(BINARY[name], xs)
    out.backward(tg.ones(out.shape, dtype=tg.float64))
    for x in xs:
        assert x.grad.shape == x.shape and x.grad.dtype == x.dtype


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
def test_gradient_of_a_broadcast_sum_counts_repetitions(shapes):
    x = tg.ones(shapes.input_shapes[0], dtype=tg.float64, requires_grad=True)
    y = tg.ones(shapes.input_shapes[1], dtype=tg.float64, requires_grad=True)
    z = x * y
    z.backward(tg.ones(z.shape, dtype=tg.float64))
    size = int(np.prod(shapes.result_shape))
    np.testing.assert_allclose(x.grad.numpy(), size / max(x.numel(), 1) if x.numel() else 0)
    np.testing.assert_allclose(y.grad.numpy(), size / max(y.numel(), 1) if y.numel() else 0)

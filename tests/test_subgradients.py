"""At kinks and ties tapegrad picks PyTorch's subgradients (skipped without PyTorch)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

KINKS = [0.0, 0.0, -1.0, 1.0, 2.0, 2.0]
CASES = {
    "relu": lambda T, x: T.relu(x),
    "abs": lambda T, x: T.abs(x),
    "clamp": lambda T, x: T.clamp(x, 0.0, 2.0),
    "clamp_min": lambda T, x: T.clamp(x, min=0.0),
    "maximum": lambda T, x: T.maximum(x, T.zeros_like(x)),
    "minimum": lambda T, x: T.minimum(x, T.zeros_like(x) + 2),
    "maximum_self": lambda T, x: T.maximum(x, x),
    "sign": lambda T, x: T.sign(x),
    "floor": lambda T, x: T.floor(x),
    "sqrt_at_1": lambda T, x: T.sqrt(x * x + 1),
    "pow_zero_base": lambda T, x: (x * 0) ** 2,
    "pow_zero_exponent": lambda T, x: T.zeros_like(x) ** (x * 0 + 1),
    "where_tie": lambda T, x: T.where(x > 0, x, -x),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_kinks_match_pytorch(name):
    fn = CASES[name]
    x = tg.tensor(KINKS, dtype=tg.float64, requires_grad=True)
    tx = torch.tensor(KINKS, dtype=torch.float64, requires_grad=True)
    y, ty = fn(tg, x), fn(torch, tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
    seed = np.arange(1.0, 7.0)
    y.backward(tg.tensor(seed))
    ty.backward(torch.tensor(seed))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), err_msg=name)

"""The worked example of docs/new_op.rst: a new primitive, log(cosh(x)), forward to table row.

Run it from the repository root: `python docs/examples/new_op.py`. tests/test_docs.py runs it,
so the page's code is known to work. In tapegrad itself the three parts below would go to
tapegrad/ops/unary.py (forward and rule), tapegrad/_methods.py (the Tensor method) and
tests/optable/unary_more.py (the row).
"""
import os
import sys

import numpy as np

import tapegrad as torch
from tapegrad.autograd import gradcheck, gradgradcheck
from tapegrad.primitives import defvjp, primitive

# the op table lives in the checkout's tests/ folder
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from tests.optable.case import OpCase  # noqa: E402
from tests.optable.elementwise import UNARY  # noqa: E402


# ---- 1. the forward: NumPy arrays in, a NumPy array out ------------------------------------
@primitive("logcosh")
def logcosh(input):
    """log(cosh(x)) elementwise, without overflow for large |x|."""
    a = np.abs(input)
    return a + np.log1p(np.exp(-2.0 * a)) - np.log(2.0)


# ---- 2. the VJP rule, right under it: d/dx log(cosh(x)) = tanh(x) --------------------------
# Rules are rule(g, out, *inputs): g is the output's cotangent. Written with tapegrad ops, the
# rule is recorded under create_graph=True, so second derivatives come for free. It reads its
# input (index 0), so an in-place change to x before backward raises instead of lying.
defvjp(logcosh, lambda g, out, x: g * torch.tanh(x), reads=((0,),))


# ---- using it ------------------------------------------------------------------------------
x = torch.tensor([-30.0, -0.5, 0.0, 2.0, 400.0], dtype=torch.float64, requires_grad=True)
y = logcosh(x)
y.sum().backward()
print("logcosh(x):", y)
print("x.grad == tanh(x):", np.allclose(x.grad.numpy(), np.tanh(x.detach().numpy())))
print("grad_fn:", y.grad_fn.name())

with torch.Tape() as tape:
    z = logcosh(x * 2).mean()
print(tape)

# ---- 3. the op-table row: what tests/test_optable.py checks for every row --------------------
ROW = OpCase("logcosh", lambda T, x: logcosh(x), lambda x: np.log(np.cosh(x)), UNARY,
             torch=False)       # PyTorch has no logcosh to compare with

for group in ROW.shapes:
    arrays = ROW.inputs(group)
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    np.testing.assert_allclose(ROW.fn(torch, *xs).detach().numpy(), ROW.ref(*arrays),
                               rtol=ROW.rtol, atol=ROW.atol)         # forward vs NumPy
    assert gradcheck(lambda *a: ROW.fn(torch, *a), xs, eps=ROW.eps)       # VJP vs differences
    assert gradgradcheck(lambda *a: ROW.fn(torch, *a), xs, eps=ROW.eps)   # second order
print(f"op-table checks passed for {len(ROW.shapes)} shape groups")

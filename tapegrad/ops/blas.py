"""torch.addmm, addmv, addbmm, baddbmm: beta * input + alpha * (a product), composed of mm,
mv, bmm and arithmetic (their rules give the gradients). As in PyTorch, beta=0 ignores input's
values (NaN and inf in it do not propagate), and input must broadcast to the product's shape."""
import numpy as np

from .linalg import mm, mv, bmm
from .reduction import sum as _sum


def _combine(op, input, product, beta, alpha):
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(product.shape))
    except ValueError:
        shape = None
    if shape != tuple(product.shape):
        raise RuntimeError(f"{op}: the input of shape {list(input.shape)} can't be broadcast to "
                           f"the product's shape {list(product.shape)}")
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return (input if beta == 1 else input * beta) + product


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """torch.addmm: beta * input + alpha * (mat1 @ mat2), for 2-d mat1 and mat2."""
    return _combine("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """torch.addmv: beta * input + alpha * (mat @ vec), for a 2-d mat and a 1-d vec."""
    return _combine("addmv", input, mv(mat, vec), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """torch.addbmm: beta * input + alpha * sum over the batch of batch1[i] @ batch2[i]."""
    return _combine("addbmm", input, _sum(bmm(batch1, batch2), 0), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """torch.baddbmm: beta * input + alpha * (batch1 @ batch2), batch by batch."""
    return _combine("baddbmm", input, bmm(batch1, batch2), beta, alpha)


__all__ = ["addmm", "addmv", "addbmm", "baddbmm"]

"""torch.addmm as one primitive (one entry, one rule per input: Linear's AddmmBackward0), and
addmv, addbmm, baddbmm composed of mv, bmm and arithmetic. As in PyTorch, beta=0 ignores input's
values (NaN and inf in it do not propagate), and input must broadcast to the product's shape."""
import numpy as np

from ..dtypes import wide
from .._tensor import Tensor
from ..primitives import defvjp, primitive, scalar_name
from .linalg import matmul, mv, bmm
from .out import into
from .reduction import sum as _sum
from .shape import permute_prim


def _combine(op, input, product, beta, alpha):
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(product.shape))
    except ValueError:
        shape = None
    if shape != tuple(product.shape):
        raise RuntimeError(_unbroadcastable(op, input.shape, product.shape))
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return (input if beta == 1 else input * beta) + product


def _unbroadcastable(op, shape, product_shape):
    return (f"{op}: the input of shape {list(shape)} can't be broadcast to the product's shape "
            f"{list(product_shape)}")


# ---- addmm: one primitive --------------------------------------------------------------------
@primitive("addmm", raw=True)
def addmm_prim(input, mat1, mat2, beta=1, alpha=1, mat2_transposed=False):
    """beta * input + alpha * (mat1 @ mat2); mat2 comes as its transpose with `mat2_transposed`
    (F.linear's weight, whose gradient is then made in the weight's own layout)."""
    if mat1.ndim != 2 or mat2.ndim != 2 or input.dtype != mat2.dtype or mat1.dtype != mat2.dtype:
        _refuse(input, mat1, mat2)
    m2 = mat2.T if mat2_transposed else mat2
    if mat1.shape[1] != m2.shape[0]:
        raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {m2.shape[0]}x{m2.shape[1]})")
    dt = wide(mat2.dtype)
    if dt is not mat2.dtype:     # bfloat16: computed in float32 and rounded once, as PyTorch
        return addmm_prim(input.astype(dt), mat1.astype(dt), m2.astype(dt), beta,
                          alpha).astype(mat2.dtype)
    product = np.matmul(mat1, m2)      # a new array: scaled and added to in place
    if alpha != 1:
        product *= alpha
    if beta != 0:
        try:
            product += input if beta == 1 else input * beta
        except ValueError:
            raise RuntimeError(_unbroadcastable("addmm", input.shape, product.shape)) from None
    return product


def _refuse(input, mat1, mat2):
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"addmm: {name} must be a matrix, got {m.ndim}-D tensor")
    first = ("self", input) if input.dtype != mat2.dtype else ("mat1", mat1)
    raise RuntimeError(f"addmm: {first[0]} and mat2 must have the same dtype, but got "
                       f"{scalar_name(first[1].dtype)} and {scalar_name(mat2.dtype)}")


def _t(x):
    return permute_prim(x, (1, 0))


def _scaled(x, s):
    return x if s == 1 else x * s


def _mat1_grad(g, out, input, mat1, mat2, beta=1, alpha=1, mat2_transposed=False):
    return _scaled(matmul(g, mat2 if mat2_transposed else _t(mat2)), alpha)


def _mat2_grad(g, out, input, mat1, mat2, beta=1, alpha=1, mat2_transposed=False):
    # (p, k) = g.T @ mat1 directly for a transposed mat2: C-ordered as the weight it is
    return _scaled(matmul(_t(g), mat1) if mat2_transposed else matmul(_t(mat1), g), alpha)


# beta=0: input's gradient is g * 0, as PyTorch's; each product rule reads the other matrix only
defvjp(addmm_prim, lambda g, out, input, mat1, mat2, beta=1, alpha=1, mat2_transposed=False:
       _scaled(g, beta), _mat1_grad, _mat2_grad, reads=((), (2,), (1,)))


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """`beta` * `input` + `alpha` * (`mat1` @ `mat2`) for 2-d mat1 and mat2, as torch.addmm.

    `input` broadcasts to the product's shape. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, addmm, input, mat1, mat2, beta=beta, alpha=alpha)
    for name, t in (("input", input), ("mat1", mat1), ("mat2", mat2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"addmm(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if beta == 1 and alpha == 1:
        return addmm_prim(input, mat1, mat2)
    return addmm_prim(input, mat1, mat2, beta=beta, alpha=alpha)


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

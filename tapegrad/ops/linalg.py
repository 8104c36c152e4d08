"""Matrix products. Forward and VJP side by side.

`matmul` (NumPy/PyTorch semantics, 1-D promotion, broadcast batch dimensions) is the primitive
(`bmm` shares its rules); `mm`, `mv`, `dot`, `outer` and `inner` validate as PyTorch does and
compose it. einsum is in einsum.py.
"""
import numpy as np

from ..dtypes import wide
from .._tensor import Tensor
from ..primitives import primitive, defvjp
from .elementwise import mul
from .out import into
from .shape import permute_prim, reshape, reshape_prim

ndarray = np.ndarray


# ---- matmul ----------------------------------------------------------------------------------
@primitive("matmul", raw=True)
def matmul(input, other):
    """Matrix product of `input` and `other`, as torch.matmul.

    1-D operands are promoted to matrices (and the added dimension removed afterwards); batch
    dimensions broadcast.
    """
    try:
        if input.dtype != other.dtype:
            if input.ndim >= 3 and other.ndim >= 3 and (input.size == 0 or other.size == 0):
                input = input.astype(other.dtype)   # PyTorch's batched product of empty operands
            else:
                raise RuntimeError(f"matmul: expected m1 and m2 to have the same dtype, but "
                                   f"got: {input.dtype} != {other.dtype}")
    except AttributeError:
        bad, pos = (other, 2) if hasattr(input, "dtype") else (input, 1)
        raise TypeError(f"matmul(): argument '{('input', 'other')[pos - 1]}' (position {pos}) "
                        f"must be Tensor, not {type(bad).__name__}") from None
    try:
        dt = wide(input.dtype)
        if dt is not input.dtype:      # bfloat16: multiplied in float32, rounded once
            return np.matmul(input.astype(dt), other.astype(dt)).astype(input.dtype)
        return np.matmul(input, other)
    except ValueError:
        raise RuntimeError(_mismatch(np.shape(input), np.shape(other))) from None


def _mismatch(a, b):
    """PyTorch's message for operands that matmul cannot multiply."""
    if not a or not b:
        return (f"both arguments to matmul need to be at least 1D, but they are {len(a)}D and "
                f"{len(b)}D")
    if len(a) == len(b) == 1:
        return (f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have the "
                f"same number of elements, but got {a[0]} and {b[0]} elements respectively")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        return (f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, a2))} and "
                f"{'x'.join(map(str, b2))})")
    for i, (m, n) in enumerate(zip(a2[-3::-1], b2[-3::-1])):
        if m != n and m != 1 and n != 1:
            return (f"matmul: the batch dimensions of {list(a)} and {list(b)} do not broadcast: "
                    f"the size of tensor a ({m}) must match the size of tensor b ({n}) at "
                    f"non-singleton dimension {i}")
    return f"matmul: cannot multiply shapes {list(a)} and {list(b)}"


def _mT(x):
    n = x.ndim
    return permute_prim(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _row(g):
    """(..., n) -> (..., 1, n): the cotangent of a product whose left operand was 1-D."""
    return reshape_prim(g, g.shape[:-1] + (1, g.shape[-1]))


# Rules use only primitives, so they also run on bare arrays; the engine sums broadcast batch
# dims (and the promoted row of a 1-D operand, shaped (..., 1, k)) back to the input's shape.
def _matmul_lhs(g, out, a, b):
    if b.ndim == 1:
        if a.ndim == 1:
            return g * b
        return matmul(reshape_prim(g, g.shape + (1,)), reshape_prim(b, (1, b.shape[0])))
    return matmul(_row(g) if a.ndim == 1 else g, _mT(b))


def _matmul_rhs(g, out, a, b):
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return matmul(reshape_prim(a, (a.shape[0], 1)), _row(g))
    if b.ndim == 1:
        return matmul(_row(g), a)
    return matmul(_mT(a), g)


defvjp(matmul, _matmul_lhs, _matmul_rhs)

# PyTorch's node for torch.matmul by the operands' dims: one op for 1-D/2-D operands; above,
# its last step (a view of a folded mm/bmm product, or a copy of a transposed one)
_MATMUL_NODES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
                 (1, 2): "SqueezeBackward4"}


def _matmul_node(entry):
    a, b = entry.inputs
    dims = (a.ndim, b.ndim)
    if dims in _MATMUL_NODES:
        return _MATMUL_NODES[dims]
    if a.ndim == 2 and isinstance(a, Tensor) and a._requires_grad:
        return "TransposeBackward0" if a.shape[0] == 1 else "CloneBackward0"
    return "UnsafeViewBackward0"


matmul.prim.grad_fn_name = "MmBackward0"     # (a released entry's name: its operands are gone)
matmul.prim.grad_fn_for = _matmul_node


@primitive("bmm", raw=True)
def bmm_prim(input, mat2):
    """torch.bmm's product once `bmm` has checked its operands: matmul's forward and rules,
    its own node (PyTorch's BmmBackward0, where torch.matmul's batched node is a view)."""
    return matmul.__wrapped__(input, mat2)


defvjp(bmm_prim, _matmul_lhs, _matmul_rhs)


def mm(input, mat2, *, out=None):
    """Product of the matrices `input` and `mat2`, no broadcasting, as torch.mm.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, mm, input, mat2)
    if input.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix, got a {input.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix, got a {mat2.ndim}-D tensor")
    return matmul(input, mat2)


def bmm(input, mat2, *, out=None):
    """Batched product of the 3-D tensors `input` and `mat2`, as torch.bmm.

    Both have the same batch size; nothing broadcasts. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, bmm, input, mat2)
    for name, t in (("batch1", input), ("batch2", mat2)):
        if t.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3D tensor, got shape {list(t.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {list(input.shape)} and "
                           f"{list(mat2.shape)}")
    return bmm_prim(input, mat2)


def mv(input, vec, *, out=None):
    """Product of the matrix `input` and the vector `vec`, as torch.mv.

    `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, mv, input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected, got a {input.ndim}-D matrix "
                           f"and a {vec.ndim}-D vector")
    return matmul(input, vec)


def dot(input, tensor, *, out=None):
    """Inner product of the 1-D tensors `input` and `tensor`, as torch.dot.

    Both have the same length and dtype. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, dot, input, tensor)
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                           "tensors")
    if input.dtype != tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{input.dtype} and {tensor.dtype}")
    return matmul(input, tensor)


def vdot(input, other):
    """Inner product of 1-D `input` (conjugated) and `other`, as torch.vdot.

    Only real tensors exist here, so it is `dot`.
    """
    if input.dtype.is_complex or other.dtype.is_complex:
        raise RuntimeError("vdot: complex tensors are not supported by tapegrad")
    return dot(input, other)


def outer(input, vec2, *, out=None):
    """Outer product input[i] * vec2[j] of 1-D `input` and `vec2`, as torch.outer (alias `ger`).

    Dtypes promote as for `*`. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, outer, input, vec2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return mul(reshape_prim(input, (input.shape[0], 1)), vec2)


ger = outer


def inner(input, other, *, out=None):
    """Sum over the last dimension of `input` and of `other`, as torch.inner.

    The result has shape input.shape[:-1] + other.shape[:-1]. `out`, if given, receives the result.
    """
    if out is not None:
        return into(out, inner, input, other)
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"inner: both inputs should have same dtype, got {input.dtype} and "
                           f"{other.dtype}")
    k = input.shape[-1]
    prod = matmul(reshape(input, (-1, k)), _mT(reshape(other, (-1, k))))
    return reshape(prod, input.shape[:-1] + other.shape[:-1])


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner"]

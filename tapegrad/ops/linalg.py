"""Matrix products and einsum. Forward and VJP side by side.

Two primitives: `matmul` (NumPy/PyTorch semantics, 1-D promotion, broadcast batch dimensions)
and `einsum` (an explicit equation; each operand's VJP is another einsum). `mm`, `bmm`, `mv`,
`dot`, `outer` and `inner` validate as PyTorch does and compose them.
"""
import functools
import string

import numpy as np

from ..dtypes import _pair, wide
from .._tensor import _leaf, Tensor
from ..primitives import primitive, defvjp
from .elementwise import mul
from .out import into
from .shape import broadcast_to, permute_prim, reshape, reshape_prim

ndarray = np.ndarray


# ---- matmul ----------------------------------------------------------------------------------
@primitive("matmul", raw=True)
def matmul(input, other):
    """torch.matmul: 1-D operands are promoted to matrices and batch dimensions broadcast."""
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
    """torch.mm: product of two matrices, no broadcasting."""
    if out is not None:
        return into(out, mm, input, mat2)
    if input.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix, got a {input.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix, got a {mat2.ndim}-D tensor")
    return matmul(input, mat2)


def bmm(input, mat2, *, out=None):
    """torch.bmm: batched product of two 3-D tensors with the same batch size, no broadcasting."""
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
    """torch.mv: matrix @ vector."""
    if out is not None:
        return into(out, mv, input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected, got a {input.ndim}-D matrix "
                           f"and a {vec.ndim}-D vector")
    return matmul(input, vec)


def dot(input, tensor, *, out=None):
    """torch.dot: inner product of two 1-D tensors of the same length and dtype."""
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
    """torch.vdot: dot with the first operand conjugated (real tensors only here: dot)."""
    if input.dtype.is_complex or other.dtype.is_complex:
        raise RuntimeError("vdot: complex tensors are not supported by tapegrad")
    return dot(input, other)


def outer(input, vec2, *, out=None):
    """torch.outer / torch.ger: input[i] * vec2[j]; dtypes promote as for `*`."""
    if out is not None:
        return into(out, outer, input, vec2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return mul(reshape_prim(input, (input.shape[0], 1)), vec2)


ger = outer


def inner(input, other, *, out=None):
    """torch.inner: sum over the last dimension of both; shape input[:-1] + other[:-1]."""
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


# ---- einsum ----------------------------------------------------------------------------------
_MAX_OPERANDS = 64   # NumPy's limit on the arguments of one ufunc-like call


@primitive("einsum", raw=True)
def _einsum(*operands, eq, optimize):
    dt = np.result_type(*operands)
    if wide(dt) is not dt:             # bfloat16: NumPy's einsum has no loop for it
        wider = [a.astype(wide(dt)) for a in operands]
        return np.einsum(eq, *wider, optimize=optimize).astype(dt)
    out = np.einsum(eq, *operands, optimize=optimize)
    # one-operand einsums (transpose, diagonal) can return a view: outputs own their memory
    if len(operands) == 1 and np.may_share_memory(out, operands[0]):
        out = out.copy()
    return out if type(out) is ndarray else np.asarray(out)


def _einsum_vjp(k):
    """The VJP for operand k: contract the cotangent with the other operands."""
    def rule(g, out, *operands, eq, optimize):
        geq, deltas, ones, many = _grad_plan(eq, k)
        shape, dt = tuple(operands[k].shape), g.dtype
        consts = [np.eye(shape[p], dtype=dt) for p in deltas]
        consts += [np.ones(shape[p], dt) for p in ones]
        if type(g) is not ndarray:
            consts = [_leaf(c) for c in consts]
        # the letters (and so the work) are the forward's: so is the choice of contraction path
        r = _einsum(g, *operands[:k], *operands[k + 1:], *consts, eq=geq,
                    optimize="greedy" if many else optimize)
        if r.shape != shape:
            # a letter of size n here that only size-1 dims of the other terms carry: stretch it
            # (the engine sums the opposite case, size 1 here and n elsewhere)
            r = broadcast_to(r, np.broadcast_shapes(r.shape, shape))
        return r
    return rule


defvjp(_einsum, *[_einsum_vjp(k) for k in range(_MAX_OPERANDS)])


@functools.lru_cache(maxsize=1024)
def _grad_plan(eq, k):
    """Equation of operand k's VJP, the positions in operand k that need a constant, and
    whether it has more than two terms.

    A letter repeated within operand k (a diagonal) is renamed in the result and tied to its
    first occurrence by an identity matrix; a letter that no other term carries (summed away
    from operand k alone) comes from a vector of ones, which broadcasts the cotangent back.
    """
    lhs, rhs = eq.split("->")
    terms = lhs.split(",")
    fresh = iter(c for c in string.ascii_letters if c not in eq)
    target, deltas, delta_terms, first = [], [], [], {}
    for pos, c in enumerate(terms[k]):
        if c in first:
            f = next(fresh)
            target.append(f)
            deltas.append(first[c])
            delta_terms.append(c + f)
        else:
            first[c] = pos
            target.append(c)
    carried = set(rhs + "".join(t for j, t in enumerate(terms) if j != k) + "".join(delta_terms))
    ones = [c for c in first if c not in carried]
    inputs = [rhs] + terms[:k] + terms[k + 1:] + delta_terms + ones
    return (",".join(inputs) + "->" + "".join(target), tuple(deltas),
            tuple(first[c] for c in ones), len(inputs) > 2)


def einsum(*args):
    """torch.einsum(equation, *operands): also `einsum(eq, [ops])` and the sublist form."""
    if args and isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _from_sublists(args)
    for i, op in enumerate(operands):
        if not isinstance(op, (Tensor, ndarray)):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(op).__name__}")
    if len(operands) > _MAX_OPERANDS:
        raise RuntimeError(f"einsum(): at most {_MAX_OPERANDS} operands are supported, got "
                           f"{len(operands)}")
    eq, optimize, dtype = _plan(equation, tuple([op.shape for op in operands]),
                                tuple([op.dtype for op in operands]))
    if dtype is not None:
        operands = [op if op.dtype == dtype else op.to(dtype) for op in operands]
    lhs, rhs = eq.split("->")
    if len(operands) == 1 and len(set(lhs)) == len(lhs) and sorted(lhs) == sorted(rhs):
        # a pure permutation: a view, as in torch (writes through it reach the operand)
        return permute_prim(operands[0], tuple(lhs.index(c) for c in rhs))
    return _einsum(*operands, eq=eq, optimize=optimize)


def _from_sublists(args):
    """torch's sublist form einsum(op1, [0, 1], op2, [1, 2], [0, 2]) as an equation string."""
    def term(sub):
        letters = []
        for s in sub:
            if s is Ellipsis:
                letters.append("...")
            elif isinstance(s, int) and 0 <= s < 52:
                letters.append(string.ascii_letters[(s + 26) % 52])   # 0-25: A-Z, 26-51: a-z
            else:
                raise ValueError(f"einsum(): subscript in subscript list is not within the valid "
                                 f"range [0, 52), got {s!r}")
        return "".join(letters)
    out = "->" + term(args[-1]) if len(args) % 2 else ""
    pairs = args[:-1] if out else args
    return ",".join(term(s) for s in pairs[1::2]) + out, pairs[0::2]


@functools.lru_cache(maxsize=1024)
def _plan(equation, shapes, dtypes):
    """Validate `equation` against the operands (PyTorch's rules) and make it explicit.

    Returns an equation with every ellipsis expanded into letters and an explicit output, and
    whether NumPy should look for a BLAS-backed contraction order (only worth its fixed cost
    for three or more operands or a large contraction).
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        more = "fewer" if len(shapes) < len(terms) else "more"
        raise RuntimeError(f"einsum(): {more} operands were provided than specified in the "
                           f"equation {equation!r} ({len(shapes)} operands, {len(terms)} terms)")
    parsed = [_term(t, f"operand {i}") for i, t in enumerate(terms)]
    free = [c for c in string.ascii_letters if c not in eq]
    n_ell = []
    for i, ((letters, has_ell), shape) in enumerate(zip(parsed, shapes)):
        n = len(shape) - len(letters) + has_ell
        if n < 0 or (n and not has_ell):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(letters) - has_ell}) does not match the number of "
                               f"dimensions ({len(shape)}) for operand {i}"
                               + ("" if has_ell else " and no ellipsis was given"))
        n_ell.append(n)
    width = max(n_ell, default=0)
    if width > len(free):
        raise RuntimeError(f"einsum(): too many dimensions for the letters left in {equation!r}")
    ell = "".join(free[:width])
    # `_term` marks an ellipsis with one "."; its letters are right-aligned, as broadcasting is
    expanded = [a.replace(".", ell[width - n:]) for (a, _), n in zip(parsed, n_ell)]
    sizes = _letter_sizes(expanded, shapes)
    if arrow:
        out = _term(rhs, "the output")[0]
        out = out.replace(".", ell)
        for c in set(out):
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
    else:
        counts = "".join(a for a, _ in parsed).replace(".", "")
        out = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    work = int(np.prod(list(sizes.values()), dtype=np.float64)) if sizes else 1
    optimize = "greedy" if len(shapes) > 2 or work > 100_000 else False
    dtype = None
    if any(d != dtypes[0] for d in dtypes):
        dtype = _mixed_dtype(expanded, out, sizes, dtypes)
    return ",".join(expanded) + "->" + out, optimize, dtype


def _mixed_dtype(terms, out, sizes, dtypes):
    """The result dtype PyTorch's einsum gives operands of different dtypes, or its error.

    PyTorch contracts operands left to right. A step that sums over letters of total size
    other than 1 is a batched matrix product: it needs equal dtypes, except that an empty one
    returns the right operand's dtype. Other steps are broadcast products, which promote.
    """
    letters, dtype = set(terms[0]), np.dtype(dtypes[0])
    for i in range(1, len(terms)):
        right, kept = set(terms[i]), set(out).union(*terms[i + 1:])
        summed = (letters & right) - kept
        if summed and np.prod([sizes[c] for c in summed]) != 1:
            empty = any(sizes[c] == 0 for c in letters | right)
            if dtype != dtypes[i] and not empty:
                raise RuntimeError(f"einsum(): expected scalar type {dtype} but found "
                                   f"{dtypes[i]} (operand {i}): a contraction over "
                                   f"{''.join(sorted(summed))} needs operands of one dtype")
            dtype = np.dtype(dtypes[i])
        else:
            dtype = _pair(dtype, False, np.dtype(dtypes[i]), False)
        letters = (letters | right) - summed
    return dtype


def _term(t, where):
    """Letters of one term, with its ellipsis (if any) kept as a single '.'."""
    has_ell = "..." in t
    letters = t.replace("...", ".", 1)
    for c in letters:
        if c == ".":
            if not has_ell or letters.count(".") > 1:
                raise RuntimeError(f"einsum(): found '.' for {where} that is not part of any "
                                   "ellipsis")
        elif c not in string.ascii_letters:
            raise RuntimeError(f"einsum(): invalid subscript {c!r} for {where}, subscripts must "
                               "be in [a-zA-Z]")
    return letters, has_ell


def _letter_sizes(terms, shapes):
    """Each letter's size; equal letters broadcast across operands (size 1 stretches)."""
    sizes = {}
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        mine = {}
        for c, n in zip(t, shape):
            if mine.setdefault(c, n) != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the "
                                   f"sizes don't match, {n} != {mine[c]}")
        for c, n in mine.items():
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n != 1 and n != seen:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {seen}")
    return sizes


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "einsum"]

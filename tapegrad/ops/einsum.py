"""einsum: one primitive for an explicit equation; each operand's VJP is another einsum.
Forward and VJP side by side."""
import functools
import string

import numpy as np

from ..dtypes import _pair, wide
from .._tensor import _leaf, Tensor
from ..primitives import primitive, defvjp
from .shape import broadcast_to, permute_prim

ndarray = np.ndarray


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
    """Sum of products over the indices of an equation, as torch.einsum.

    `args` are the equation then the operands (einsum('ij,jk->ik', a, b)), the equation and one
    list of operands, or NumPy's sublist form (operand, [indices], ..., [output indices]).
    """
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


__all__ = ["einsum"]

"""Op-table rows for tapegrad/ops/linalg.py and einsum.py: matmul and its 2-D/3-D/vector
forms, einsum."""
import numpy as np

from .case import OpCase

# 1-D promotion on either side, plain matrices, equal and broadcast batch dimensions
MATMUL = [((3,), (3,)), ((3,), (3, 4)), ((4, 3), (3,)), ((2, 3), (3, 4)),
          ((2, 2, 3), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((3,), (2, 3, 4)),
          ((2, 4, 3), (3,)), ((2, 3), (5, 3, 4)), ((2, 1, 3), (1, 3, 2))]


def einsum_row(name, eq, shapes, ref=None, **kw):
    """A row running `einsum(eq, ...)` on both libraries, checked against NumPy's einsum."""
    return OpCase(name, lambda T, *xs: T.einsum(eq, *xs),
                  ref or (lambda *xs: np.einsum(eq, *xs)), shapes, **kw)


ROWS = [
    OpCase("matmul", lambda T, x, y: T.matmul(x, y), np.matmul, MATMUL),
    OpCase("matmul_operator", lambda T, x, y: x @ y, np.matmul, MATMUL[:4]),
    OpCase("matmul_method", lambda T, x, y: x.matmul(y), np.matmul, [((2, 3), (3, 4))]),
    OpCase("matmul_size1", lambda T, x, y: x @ y, np.matmul, [((1, 1), (1, 1)), ((1,), (1, 5))]),
    OpCase("mm", lambda T, x, y: T.mm(x, y), np.matmul, [((2, 3), (3, 4)), ((1, 3), (3, 1))]),
    OpCase("bmm", lambda T, x, y: T.bmm(x, y), np.matmul, [((2, 2, 3), (2, 3, 4))]),
    OpCase("mv", lambda T, x, y: T.mv(x, y), np.matmul, [((4, 3), (3,))]),
    OpCase("dot", lambda T, x, y: T.dot(x, y), np.dot, [((3,), (3,)), ((1,), (1,))]),
    OpCase("outer", lambda T, x, y: T.outer(x, y), np.outer, [((3,), (4,)), ((1,), (2,))]),
    OpCase("ger", lambda T, x, y: T.ger(x, y), np.outer, [((3,), (4,))]),
    OpCase("inner", lambda T, x, y: T.inner(x, y), np.inner,
           [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((2, 1, 3), (2, 3)), ((), (2, 3))]),
    einsum_row("einsum_matmul", "ij,jk->ik", [((2, 3), (3, 4))]),
    einsum_row("einsum_implicit", "ij,jk", [((2, 3), (3, 4))]),
    einsum_row("einsum_implicit_sorted", "ba,ca", [((2, 3), (4, 3))]),
    einsum_row("einsum_uppercase", "Ab,bC->CA", [((2, 3), (3, 4))]),
    einsum_row("einsum_spaces", "i j , j k -> k i", [((2, 3), (3, 4))]),
    OpCase("einsum_list", lambda T, x, y: T.einsum("ij,jk->ik", [x, y]),
           lambda x, y: x @ y, [((2, 3), (3, 4))]),
    OpCase("einsum_sublist", lambda T, x, y: T.einsum(x, [0, 27], y, [27, 2], [2, 0]),
           lambda x, y: (x @ y).T, [((2, 3), (3, 4))]),
    OpCase("einsum_sublist_ellipsis", lambda T, x, y: T.einsum(x, [..., 0, 1], y, [1, 2]),
           lambda x, y: x @ y, [((5, 2, 3), (3, 4))]),
    einsum_row("einsum_batched", "bij,bjk->bik", [((2, 2, 3), (2, 3, 4))]),
    einsum_row("einsum_ellipsis", "...ij,...jk->...ik",
               [((2, 2, 3), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((2, 3), (3, 4))]),
    einsum_row("einsum_ellipsis_implicit", "...ij,jk", [((5, 2, 3), (3, 4))]),
    einsum_row("einsum_ellipsis_middle", "i...j,j->...i", [((2, 3, 4), (4,)), ((2, 4), (4,))]),
    # NumPy refuses to sum an ellipsis away implicitly; PyTorch sums it
    einsum_row("einsum_ellipsis_dropped", "...ij->ij", [((5, 2, 3),)], lambda x: x.sum(0)),
    einsum_row("einsum_broadcast_size1", "ij,ij->ij", [((3, 1), (1, 4)), ((1, 1), (3, 4))]),
    einsum_row("einsum_broadcast_contracted", "ij,jk->ik", [((2, 1), (3, 4))]),
    einsum_row("einsum_summed_in_one", "ij,jk->k", [((2, 3), (3, 4))]),
    einsum_row("einsum_sum_axis", "ij->j", [((2, 3),)]),
    einsum_row("einsum_sum_all", "ijk->", [((2, 3, 4),)]),
    einsum_row("einsum_transpose", "ij->ji", [((2, 3),)]),
    einsum_row("einsum_diagonal", "ii->i", [((3, 3),)]),
    einsum_row("einsum_trace", "ii->", [((3, 3),)]),
    einsum_row("einsum_trace_implicit", "ii", [((3, 3),)]),
    einsum_row("einsum_batched_diagonal", "bii->bi", [((2, 3, 3),)]),
    einsum_row("einsum_diagonal_contracted", "iij,j->ij", [((3, 3, 2), (2,))]),
    einsum_row("einsum_diagonal_shared", "ii,i->i", [((3, 3), (3,))]),
    einsum_row("einsum_triple_diagonal", "iii->i", [((2, 2, 2),)]),
    einsum_row("einsum_outer", "i,j->ij", [((3,), (4,))]),
    einsum_row("einsum_dot", "i,i->", [((3,), (3,))]),
    einsum_row("einsum_chain", "ij,jk,kl->il", [((2, 3), (3, 4), (4, 2))]),
    einsum_row("einsum_bilinear", "bn,anm,bm->ba", [((2, 3), (4, 3, 5), (2, 5))]),
    # a contraction large enough to take NumPy's optimized (BLAS) path
    einsum_row("einsum_large", "ij,jk->ik", [((40, 60), (60, 50))], second=False),
]

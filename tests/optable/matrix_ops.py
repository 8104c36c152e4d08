"""Op-table rows for tapegrad/ops/matrix_ops.py: diagonals, triangles, trace, kron, tensordot,
cross, roll, rot90, meshgrid, cartesian_prod, dist and cdist (compositions of primitives, so
these rows check that the compositions are differentiated right, to second order)."""
import itertools

import numpy as np

from .case import OpCase

MATS = [((3, 4),), ((4, 3),), ((2, 3, 4),)]
PAIR = [((4, 3), (4, 3)), ((2, 4, 3), (1, 1, 3))]


def embed(v, offset=0):
    """NumPy's diag for the last dimension of v (a batch of vectors)."""
    n = v.shape[-1] + abs(offset)
    out = np.zeros(v.shape[:-1] + (n, n))
    for idx in np.ndindex(v.shape[:-1]):
        out[idx] = np.diag(v[idx], offset)
    return out


def pdist(a, b, p):
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == np.inf:
        return d.max(-1)
    return (d ** p).sum(-1) ** (1 / p)


def diagonal_grad(T, x, g):
    """The gradient of diagonal(x * x, 1), as a graph (it requires grad, so no NumPy check:
    PyTorch's values are the reference)."""
    x.requires_grad_()
    return T.autograd.grad(T.diagonal(x * x, 1), x, g, create_graph=True)[0]


def grid(indexing):
    return lambda *xs: tuple(np.meshgrid(*xs, indexing=indexing))


ROWS = [
    # ---- diagonals and triangles
    OpCase("diagonal", lambda T, x: T.diagonal(x), lambda x: np.diagonal(x).copy(), MATS),
    OpCase("diagonal_offset", lambda T, x: x.diagonal(1, -1, -2),
           lambda x: np.diagonal(x, 1, -1, -2).copy(), MATS),
    OpCase("diagonal_below", lambda T, x: T.diagonal(x, offset=-2, dim1=0, dim2=-1),
           lambda x: np.diagonal(x, -2, 0, -1).copy(), MATS),
    # diagonal's VJP, a primitive of its own: reached through a gradient taken with a graph
    OpCase("diagonal_backward", diagonal_grad, None, [((3, 4), (3,))]),
    OpCase("diag_embed", lambda T, x: T.diag_embed(x), embed, [((3,),), ((2, 3),)]),
    OpCase("diag_embed_offset_dims", lambda T, x: T.diag_embed(x, -1, 0, 2),
           lambda x: np.moveaxis(embed(x, -1), (-2, -1), (0, 2)), [((2, 3),)]),
    OpCase("diag_vector", lambda T, x: T.diag(x, -1), lambda x: np.diag(x, -1), [((3,),)]),
    OpCase("diag_matrix", lambda T, x: x.diag(1), lambda x: np.diag(x, 1), MATS[:2]),
    OpCase("triu", lambda T, x: T.triu(x), np.triu, MATS),
    OpCase("triu_offset", lambda T, x: x.triu(1), lambda x: np.triu(x, 1), MATS),
    OpCase("tril", lambda T, x: T.tril(x, -1), lambda x: np.tril(x, -1), MATS),
    OpCase("trace", lambda T, x: T.trace(x), np.trace, [((3, 4),), ((4, 4),)]),
    # ---- products
    OpCase("kron", lambda T, x, y: T.kron(x, y), np.kron, [((2, 3), (3, 2)), ((2,), (3, 1, 2)),
                                                            ((2, 1, 2), (2, 2))]),
    OpCase("tensordot", lambda T, x, y: T.tensordot(x, y), np.tensordot,
           [((2, 3, 4), (3, 4, 5))]),
    OpCase("tensordot_lists", lambda T, x, y: T.tensordot(x, y, dims=([0, 2], [2, 1])),
           lambda x, y: np.tensordot(x, y, ([0, 2], [2, 1])), [((2, 3, 4), (5, 4, 2))]),
    OpCase("tensordot_outer", lambda T, x, y: T.tensordot(x, y, 0),
           lambda x, y: np.tensordot(x, y, 0), [((2, 3), (4,))]),
    OpCase("cross", lambda T, x, y: T.cross(x, y, dim=-1), np.cross, PAIR),
    OpCase("cross_default_dim", lambda T, x, y: T.cross(x, y),
           lambda x, y: np.cross(x, y, axis=0), [((3, 2), (3, 2))]),
    # ---- rearranging
    OpCase("roll_flat", lambda T, x: T.roll(x, 5), lambda x: np.roll(x, 5), MATS + [((),)]),
    OpCase("roll_dims", lambda T, x: x.roll((1, -2), (0, -1)),
           lambda x: np.roll(x, (1, -2), (0, -1)), MATS),
    OpCase("rot90", lambda T, x: T.rot90(x), np.rot90, MATS),
    OpCase("rot90_k", lambda T, x: [x.rot90(k, [1, 0]) for k in (2, 3, -1, 4)],
           lambda x: [np.rot90(x, k, (1, 0)) for k in (2, 3, -1, 4)], MATS[:2]),
    OpCase("meshgrid_ij", lambda T, x, y: T.meshgrid(x, y, indexing="ij"), grid("ij"),
           [((3,), (4,))]),
    OpCase("meshgrid_xy", lambda T, x, y, z: T.meshgrid([x, y, z], indexing="xy"), grid("xy"),
           [((3,), (4,), (2,))]),
    OpCase("cartesian_prod", lambda T, x, y: T.cartesian_prod(x, y),
           lambda x, y: np.array(list(itertools.product(x, y))), [((3,), (2,))]),
    # ---- distances (normal inputs: no two rows coincide)
    OpCase("dist", lambda T, x, y: T.dist(x, y), lambda x, y: np.linalg.norm((x - y).ravel()),
           [((3, 4), (3, 4)), ((3, 4), (4,))]),
    OpCase("dist_p", lambda T, x, y: [T.dist(x, y, p) for p in (1, 3, float("inf"))],
           lambda x, y: [np.linalg.norm((x - y).ravel(), p) for p in (1, 3, np.inf)],
           [((3, 4), (3, 4))]),
    OpCase("cdist", lambda T, x, y: T.cdist(x, y), lambda x, y: pdist(x, y, 2),
           [((3, 4), (5, 4)), ((2, 3, 4), (2, 5, 4)), ((2, 3, 4), (5, 4))]),
    OpCase("cdist_p", lambda T, x, y: [T.cdist(x, y, p) for p in (1.0, 1.5, float("inf"))],
           lambda x, y: [pdist(x, y, p) for p in (1.0, 1.5, np.inf)], [((3, 4), (5, 4))]),
]

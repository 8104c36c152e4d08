"""Op-table rows for tapegrad/linalg/ (torch.linalg): batched and broadcast shapes.

Inputs come from well-conditioned samplers (invertible, positive-definite, separated spectra)
so finite differences are accurate. Symmetric-input ops (cholesky, eigh, hermitian pinv) see
x + x^T, so that every perturbation the checker makes stays symmetric. Eigenvectors and
singular vectors are unique only up to sign: rows compare sign-free functions of them.
"""
import numpy as np
from scipy import linalg as sla

from .case import OpCase


def mT(a):
    return np.swapaxes(a, -1, -2)


def _orthogonal(rng, batch, n):
    q, r = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def invertible(rng, shape):
    """Normal entries; square trailing matrices get n * I added (well conditioned)."""
    x = rng.standard_normal(shape)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        x = x + shape[-1] * np.eye(shape[-1])
    return x


def spd(rng, shape):
    """Half of a symmetric positive-definite matrix with eigenvalues near 1, 2, ..., n (the rows
    add its transpose back); other shapes: normal."""
    if len(shape) < 2 or shape[-1] != shape[-2]:
        return rng.standard_normal(shape)
    n, batch = shape[-1], shape[:-2]
    q = _orthogonal(rng, batch, n)
    lam = np.arange(1, n + 1) + rng.uniform(0, 0.3, batch + (n,))
    return (q * lam[..., None, :]) @ mT(q) / 2


def separated(rng, shape):
    """Matrices U diag(s) V^T with singular values near k, k-1, ..., 1 (k = min(m, n))."""
    if len(shape) < 2:
        return rng.standard_normal(shape)
    (m, n), batch = shape[-2:], shape[:-2]
    k = min(m, n)
    s = np.arange(k, 0, -1) + rng.uniform(0, 0.3, batch + (k,))
    u = _orthogonal(rng, batch, m)[..., :k]
    v = _orthogonal(rng, batch, n)[..., :k]
    return (u * s[..., None, :]) @ mT(v)


def sym(x):
    return x + x.mT if hasattr(x, "mT") else x + mT(x)


def signless(v):
    """Columns times their first entry: the same for v and -v."""
    return v * v[..., :1, :]


def _svd_ref(full=False):
    def ref(a):
        u, s, vh = np.linalg.svd(a, full_matrices=full)
        k = s.shape[-1]
        return (u[..., :k] * s[..., None, :]) @ vh[..., :k, :], s, signless(u[..., :k]), \
            signless(mT(vh[..., :k, :]))
    return ref


def _svd_fn(full=False):
    def fn(T, x):
        U, S, Vh = T.linalg.svd(x, full_matrices=full)
        k = S.shape[-1]
        U, Vh = U[..., :k], Vh[..., :k, :]
        return (U * S[..., None, :]) @ Vh, S, signless(U), signless(Vh.mT)
    return fn


def _eigh_row(name, uplo, shapes):
    def fn(T, x):
        w, v = T.linalg.eigh(sym(x), UPLO=uplo)
        return w, signless(v), (v * w[..., None, :]) @ v.mT
    def ref(x):
        w, v = np.linalg.eigh(sym(x), UPLO=uplo)
        return w, signless(v), (v * w[..., None, :]) @ mT(v)
    return OpCase(name, fn, ref, shapes, spd)


def _lstsq_ref(a, b):
    return np.linalg.pinv(a) @ b


def _matrix_norm_ref(ord):
    def ref(a):
        if ord == "fro":
            return np.sqrt((a * a).sum(axis=(-2, -1)))
        if ord in ("nuc", 2, -2):
            s = np.linalg.svd(a, compute_uv=False)
            return s.sum(-1) if ord == "nuc" else s.max(-1) if ord == 2 else s.min(-1)
        return np.stack([np.linalg.norm(m, ord) for m in a.reshape((-1,) + a.shape[-2:])]
                        ).reshape(a.shape[:-2])
    return ref


SOLVE = [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 2)), ((3, 3), (2, 3, 1)),
         ((2, 1, 3, 3), (3, 3, 2))]
SQUARE = [((3, 3),), ((2, 3, 3),), ((1, 1),)]
ANY = [((4, 3),), ((2, 3, 4),), ((3, 3),)]
INF = float("inf")

ROWS = [
    # ---- solves, inverses, determinants
    OpCase("linalg_solve", lambda T, a, b: T.linalg.solve(a, b), np.linalg.solve, SOLVE,
           invertible),
    OpCase("linalg_solve_vector", lambda T, a, b: T.linalg.solve(a, b),
           lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
           [((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3,))], invertible),
    OpCase("linalg_solve_right", lambda T, a, b: T.linalg.solve(a, b, left=False),
           lambda a, b: b @ np.linalg.inv(a), [((2, 3, 3), (4, 3)), ((3, 3), (2, 1, 3))],
           invertible),
    OpCase("linalg_inv", lambda T, a: T.linalg.inv(a), np.linalg.inv, SQUARE, invertible),
    OpCase("linalg_inv_ex", lambda T, a: tuple(T.linalg.inv_ex(a)),
           lambda a: (np.linalg.inv(a), np.zeros(a.shape[:-2], np.int32)), SQUARE[:2],
           invertible),
    OpCase("linalg_det", lambda T, a: T.linalg.det(a), np.linalg.det, SQUARE, invertible),
    OpCase("linalg_det_negative", lambda T, a: T.linalg.det(-a), lambda a: np.linalg.det(-a),
           [((3, 3),), ((2, 2, 2),)], invertible),
    OpCase("linalg_slogdet", lambda T, a: tuple(T.linalg.slogdet(a)),
           lambda a: tuple(np.linalg.slogdet(a)), SQUARE, invertible),
    OpCase("linalg_solve_triangular_upper",
           lambda T, a, b: T.linalg.solve_triangular(a, b, upper=True),
           lambda a, b: np.linalg.solve(np.triu(a), b), SOLVE, invertible),
    OpCase("linalg_solve_triangular_lower",
           lambda T, a, b: T.linalg.solve_triangular(a, b, upper=False),
           lambda a, b: np.linalg.solve(np.tril(a), b), SOLVE[:2], invertible),
    OpCase("linalg_solve_triangular_unit_right",
           lambda T, a, b: T.linalg.solve_triangular(a, b, upper=False, left=False,
                                                     unitriangular=True),
           lambda a, b: b @ np.linalg.inv(np.tril(a, -1) + np.eye(a.shape[-1])),
           [((3, 3), (2, 4, 3)), ((2, 3, 3), (2, 2, 3))], invertible),
    # ---- factorizations
    OpCase("linalg_cholesky", lambda T, a: T.linalg.cholesky(sym(a)),
           lambda a: np.linalg.cholesky(sym(a)), SQUARE, spd),
    OpCase("linalg_cholesky_upper", lambda T, a: T.linalg.cholesky(sym(a), upper=True),
           lambda a: mT(np.linalg.cholesky(sym(a))), SQUARE[:2], spd),
    OpCase("linalg_cholesky_ex", lambda T, a: tuple(T.linalg.cholesky_ex(sym(a))),
           lambda a: (np.linalg.cholesky(sym(a)), np.zeros(a.shape[:-2], np.int32)),
           SQUARE[:2], spd),
    OpCase("linalg_qr", lambda T, a: tuple(T.linalg.qr(a)), lambda a: tuple(np.linalg.qr(a)),
           ANY + [((2, 2, 5),)], separated),
    OpCase("linalg_qr_complete", lambda T, a: tuple(T.linalg.qr(a, mode="complete")),
           lambda a: tuple(np.linalg.qr(a, mode="complete")), [((3, 3),), ((2, 3, 4),)],
           separated),
    # PyTorch cannot differentiate mode='r' (it does not compute Q); tapegrad can
    OpCase("linalg_qr_r", lambda T, a: T.linalg.qr(a, mode="r")[1],
           lambda a: np.linalg.qr(a, mode="r"), [((4, 3),), ((2, 3, 4),)], separated,
           torch=False),
    # ---- spectral
    _eigh_row("linalg_eigh", "L", SQUARE),
    _eigh_row("linalg_eigh_upper", "U", SQUARE[:2]),
    OpCase("linalg_eigvalsh", lambda T, a: T.linalg.eigvalsh(sym(a)),
           lambda a: np.linalg.eigvalsh(sym(a)), SQUARE, spd),
    OpCase("linalg_svd", _svd_fn(), _svd_ref(), ANY + [((1, 3),)], separated),
    OpCase("linalg_svd_full", _svd_fn(full=True), _svd_ref(full=True),
           [((4, 3),), ((2, 3, 4),)], separated),
    OpCase("linalg_svdvals", lambda T, a: T.linalg.svdvals(a),
           lambda a: np.linalg.svd(a, compute_uv=False), ANY, separated),
    # ---- pseudo-inverse and least squares
    OpCase("linalg_pinv", lambda T, a: T.linalg.pinv(a), np.linalg.pinv, ANY, separated),
    OpCase("linalg_pinv_hermitian", lambda T, a: T.linalg.pinv(sym(a), hermitian=True),
           lambda a: np.linalg.pinv(sym(a)), SQUARE[:2], spd),
    OpCase("linalg_pinv_atol", lambda T, a: T.linalg.pinv(a, atol=0.5),
           lambda a: np.linalg.pinv(a), [((4, 3),)], separated),
    OpCase("linalg_lstsq", lambda T, a, b: T.linalg.lstsq(a, b).solution, _lstsq_ref,
           [((5, 3), (5, 2)), ((2, 4, 3), (2, 4, 1)), ((3, 5), (3, 2)), ((2, 4, 3), (1, 4, 2))],
           separated),
    OpCase("linalg_lstsq_vector", lambda T, a, b: T.linalg.lstsq(a, b).solution,
           lambda a, b: (np.linalg.pinv(a) @ b[..., None])[..., 0],
           [((5, 3), (5,)), ((2, 4, 3), (2, 4))], separated),
    OpCase("linalg_lstsq_residuals",
           lambda T, a, b: tuple(T.linalg.lstsq(a, b, driver="gelsd")[:2]),
           lambda a, b: (_lstsq_ref(a, b), ((a @ _lstsq_ref(a, b) - b) ** 2).sum(-2)),
           [((5, 3), (5, 2)), ((2, 4, 3), (2, 4, 1))], separated),
    # rank and singular values are integers / detached, as in PyTorch
    OpCase("linalg_lstsq_rank", lambda T, a, b: tuple(T.linalg.lstsq(a, b, driver="gelss")[2:]),
           lambda a, b: (np.full(a.shape[:-2], a.shape[-1]), np.linalg.svd(a, compute_uv=False)),
           [((5, 3), (5, 2)), ((2, 4, 3), (2, 4, 1))], separated, grad=False),
    # ---- matrix exponential, cross product
    OpCase("linalg_matrix_exp", lambda T, a: T.linalg.matrix_exp(a), sla.expm,
           SQUARE + [((2, 1, 2, 2),)]),
    OpCase("linalg_cross", lambda T, a, b: T.linalg.cross(a, b),
           lambda a, b: np.cross(a, b), [((4, 3), (4, 3)), ((4, 3), (1, 3)), ((2, 1, 3), (1, 4, 3))]),
    OpCase("linalg_cross_dim", lambda T, a, b: T.linalg.cross(a, b, dim=0),
           lambda a, b: np.cross(a, b, axis=0), [((3, 4), (3, 1)), ((3, 2, 2), (3, 2, 2))]),
    # ---- norms
    *[OpCase(f"linalg_matrix_norm_{o}", lambda T, a, o=o: T.linalg.matrix_norm(a, ord=o),
             _matrix_norm_ref(o), ANY, separated)
      for o in ("fro", "nuc", 2, -2, 1, -1, INF, -INF)],
    OpCase("linalg_matrix_norm_dim", lambda T, a: T.linalg.matrix_norm(a, 2, dim=(2, 0),
                                                                       keepdim=True),
           lambda a: np.linalg.svd(np.moveaxis(a, (2, 0), (-2, -1)), compute_uv=False)
           .max(-1)[None, :, None], [((3, 2, 4),)]),
    OpCase("linalg_matrix_norm_inf_dim", lambda T, a: T.linalg.matrix_norm(a, INF, dim=(0, 2)),
           lambda a: np.abs(a).sum(2).max(0), [((3, 2, 4),)]),
    *[OpCase(f"linalg_vector_norm_{o}", lambda T, x, o=o: T.linalg.vector_norm(x, ord=o),
             lambda x, o=o: np.linalg.norm(x.reshape(-1), o), [((3, 4),), ((5,),)])
      for o in (2, 1, 3, 0.5, -1, INF, -INF)],
    OpCase("linalg_vector_norm_dim", lambda T, x: T.linalg.vector_norm(x, 3, dim=(0, 2),
                                                                       keepdim=True),
           lambda x: (np.abs(x) ** 3).sum(axis=(0, 2), keepdims=True) ** (1 / 3),
           [((2, 3, 4),)]),
    OpCase("linalg_vector_norm_zero", lambda T, x: T.linalg.vector_norm(x, 0, dim=-1),
           lambda x: (x != 0).sum(-1).astype(float), [((2, 3),)]),
    OpCase("linalg_norm", lambda T, x: T.linalg.norm(x), lambda x: np.linalg.norm(x.reshape(-1)),
           [((2, 3, 4),), ((5,),)]),
    OpCase("linalg_norm_ord", lambda T, x: T.linalg.norm(x, ord=INF), lambda x: np.linalg.norm(
        x, INF), [((3, 4),), ((5,),)]),
    OpCase("linalg_norm_dims", lambda T, x: T.linalg.norm(x, ord="nuc", dim=(-1, 0)),
           lambda x: np.linalg.svd(np.moveaxis(x, (-1, 0), (-2, -1)), compute_uv=False).sum(-1),
           [((3, 2, 4),)], separated),
    OpCase("linalg_norm_dim_int", lambda T, x: T.linalg.norm(x, ord=1, dim=1, keepdim=True),
           lambda x: np.abs(x).sum(1, keepdims=True), [((2, 3, 4),)]),
]

"""Op-table rows for tapegrad/special.py (and tapegrad/sparse.py, the other SciPy-backed ops)."""
import numpy as np
from scipy import sparse as sps, special

from .case import OpCase, positive, unit
from .elementwise import UNARY, BINARY


def prob(rng, shape):
    """Inside (0, 1), away from the ends (logit, ndtri)."""
    return rng.uniform(0.05, 0.95, shape)


def left_tail(rng, shape):
    """Far left tail, where ndtr underflows to 0 but log_ndtr is finite."""
    return rng.uniform(-40.0, -10.0, shape)


def above_one(rng, shape):
    """multigammaln with p = 3 needs x > (p - 1) / 2 = 1."""
    return rng.uniform(1.3, 3.0, shape)


def wide(rng, shape):
    return rng.standard_normal(shape) * 3


def unary(name, ref, domain=None, **kw):
    return OpCase(name, lambda T, x: getattr(T.special, name)(x), ref, UNARY, domain, **kw)


ROWS = [
    unary("erf", special.erf),
    unary("erfc", special.erfc),
    unary("erfinv", special.erfinv, unit),
    unary("expit", special.expit),
    unary("logit", special.logit, prob),
    # eps clamps to [0.2, 0.8]: values outside get a zero gradient, as in PyTorch
    OpCase("logit_eps", lambda T, x: T.special.logit(x, eps=0.2),
           lambda x: special.logit(np.clip(x, 0.2, 0.8)), UNARY, prob),
    unary("ndtr", special.ndtr),
    unary("ndtri", special.ndtri, prob),
    unary("log_ndtr", special.log_ndtr, wide),
    OpCase("log_ndtr_tail", lambda T, x: T.special.log_ndtr(x), special.log_ndtr, UNARY[:1],
           left_tail),
    unary("sinc", np.sinc, wide),
    unary("entr", special.entr, positive),
    unary("gammaln", special.gammaln, positive),
    unary("digamma", special.digamma, positive),
    unary("psi", special.psi, positive),
    *[OpCase(f"polygamma{n}", lambda T, x, n=n: T.special.polygamma(n, x),
             lambda x, n=n: special.polygamma(n, x), UNARY, positive) for n in (0, 1, 2, 3)],
    OpCase("multigammaln", lambda T, x: T.special.multigammaln(x, 3),
           lambda x: special.multigammaln(x, 3) if x.ndim == 0 else
           np.vectorize(lambda v: special.multigammaln(v, 3))(x), UNARY, above_one),
    unary("i0", special.i0, wide),
    unary("i0e", special.i0e, wide),
    unary("i1", special.i1, wide),
    unary("i1e", special.i1e, wide),
    OpCase("xlogy", lambda T, x, y: T.special.xlogy(x, y), special.xlogy, BINARY, positive),
    OpCase("xlogy_number_x", lambda T, y: T.special.xlogy(2.5, y), lambda y: 2.5 * np.log(y),
           UNARY, positive),
    OpCase("xlogy_number_y", lambda T, x: T.special.xlogy(x, 3.0), lambda x: x * np.log(3.0),
           UNARY),
    OpCase("xlog1py", lambda T, x, y: T.special.xlog1py(x, y), special.xlog1py, BINARY, positive),
    # torch has no betaln
    OpCase("betaln", lambda T, a, b: T.special.betaln(a, b), special.betaln, BINARY, positive,
           torch=False),
    # the shape parameter a is not differentiable (PyTorch has no derivative for it either)
    OpCase("gammainc", lambda T, a, x: T.special.gammainc(a, x), special.gammainc, BINARY,
           positive, make={0: lambda r, s: r.uniform(0.5, 3.0, s)}),
    OpCase("special_logsumexp", lambda T, x: T.special.logsumexp(x, 1, keepdim=True),
           lambda x: special.logsumexp(x, 1, keepdims=True), [((3, 4),), ((2, 3, 4),)]),
    OpCase("special_softmax", lambda T, x: T.special.softmax(x, -1),
           lambda x: special.softmax(x, -1), [((3, 4),), ((2, 3, 4),)]),
    OpCase("special_log_softmax", lambda T, x: T.special.log_softmax(x, 0),
           lambda x: special.log_softmax(x, 0), [((3, 4),), ((2, 3, 4),)]),
]

# ---- tapegrad.sparse: a fixed 5x4 pattern with 10 stored values ----------------------------
_A = sps.random(5, 4, density=0.5, random_state=0, format="csr")
_A.sum_duplicates()       # canonical CSR: the order of SparseMatrix values and of torch's COO
_COO = _A.tocoo()


def _sparse(T, v, transpose=False):
    """The same matrix in either library: a SparseMatrix, or a torch COO tensor."""
    if T.__name__ == "torch":
        S = T.sparse_coo_tensor(np.vstack([_COO.row, _COO.col]), v, _A.shape,
                                check_invariants=True)
        return S.t() if transpose else S
    S = T.sparse.SparseMatrix(_A, v)
    return S.T if transpose else S


def _dense(v):
    return sps.csr_array((v, _A.indices, _A.indptr), shape=_A.shape).toarray()


NNZ = _A.nnz
ROWS += [
    OpCase("sparse_mm", lambda T, v, x: _sparse(T, v) @ x, lambda v, x: _dense(v) @ x,
           [((NNZ,), (4, 3)), ((NNZ,), (4,))]),
    OpCase("sparse_mm_transposed", lambda T, v, x: _sparse(T, v, True) @ x,
           lambda v, x: _dense(v).T @ x, [((NNZ,), (5, 2)), ((NNZ,), (5,))]),
    # a plain scipy matrix is a constant: only x is differentiated
    OpCase("sparse_mm_scipy", lambda T, x: T.sparse.mm(_A, x) if T.__name__ != "torch" else
           _sparse(T, T.tensor(_A.data)) @ x, lambda x: _A @ x, [((4, 3),), ((4,),)]),
    # torch's sampled_addmm wants CSR tensors and has no gradient for them
    OpCase("sparse_sampled_addmm",
           lambda T, v, a, b: T.sparse.sampled_addmm(_sparse(T, v), a, b, beta=0.5,
                                                     alpha=2.0).values,
           lambda v, a, b: 0.5 * v + 2.0 * (a @ b)[_COO.row, _COO.col],
           [((NNZ,), (5, 3), (3, 4))], torch=False),
    OpCase("sparse_sampled_addmm_transposed",
           lambda T, v, a, b: T.sparse.sampled_addmm(_sparse(T, v, True), a, b).values,
           lambda v, a, b: v + (a @ b)[_COO.col, _COO.row],
           [((NNZ,), (4, 3), (3, 5))], torch=False),
]

"""torch.nn.utils.parametrizations: weight_norm, spectral_norm and orthogonal, registered with
`parametrize`, so state_dict keys are PyTorch's (`parametrizations.weight.original0`, ...)."""
import numpy as np
import scipy.linalg

from ...creation import numpy_rng, tensor
from ...grad_mode import no_grad
from ...linalg import matrix_exp, solve
from ...ops.elementwise import clamp
from ...ops.join import cat
from ...ops.linalg import matmul, mv
from ...ops.reduction import sum as _sum
from ...ops.shape import broadcast_to, flatten, permute, reshape, transpose
from ...ops.statistics import norm
from ..._tensor import Tensor
from ..module import Module
from . import parametrize


def _normalize(x, eps):
    """x / max(norm(x), eps) for a vector (torch.nn.functional.normalize with dim=0)."""
    return x / clamp(norm(x, 2), min=eps)


def _norm_except_dim(v, dim):
    """torch.norm_except_dim(v, 2, dim): the 2-norm over every dim but `dim`, kept as size 1
    (the whole norm, 0-d, for dim -1)."""
    if dim == -1:
        return norm(v, 2)
    dim %= v.ndim
    return norm(v, 2, tuple(d for d in range(v.ndim) if d != dim), True)


class _WeightNorm(Module):
    """weight = g * v / norm(v) (norm over every dim but `dim`)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as g v / ||v|| (nn.utils.parametrizations.weight_norm).

    g and v are learned as ``parametrizations.<name>.original0`` and ``original1``; the norm
    is taken over every dim but ``dim`` (None: the whole tensor). Returns ``module``.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value estimated by power iteration (u and v
    are buffers, refined in training mode on each evaluation, without gradient)."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._matrix(weight)
            h, w = mat.shape
            rng = numpy_rng(None)
            u = tensor(rng.standard_normal(h), dtype=weight.dtype)
            v = tensor(rng.standard_normal(w), dtype=weight.dtype)
            self.register_buffer("_u", _normalize(u, eps))
            self.register_buffer("_v", _normalize(v, eps))
            self._power_method(mat, 15)

    def _matrix(self, weight):
        if self.dim != 0:
            weight = permute(weight, self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return flatten(weight, 1)

    def _power_method(self, mat, n):
        with no_grad():
            mat = mat.detach()
            for _ in range(n):
                self._u = _normalize(mv(mat, self._v), self.eps)
                self._v = _normalize(mv(mat.T, self._u), self.eps)

    def forward(self, weight):
        if weight.ndim == 1:
            return _normalize(weight, self.eps)
        mat = self._matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        sigma = _sum(self._u.clone() * mv(mat, self._v.clone()))
        return weight / sigma

    def right_inverse(self, value):
        return value


def _is_conv_transpose(module):
    return parametrize.type_before_parametrizations(module).__name__.startswith("ConvTranspose")


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (nn.utils.parametrizations.spectral_norm).

    The largest singular value of the weight, reshaped to a matrix with ``dim`` first (default
    1 for ConvTranspose modules, else 0), is estimated by power iteration:
    ``n_power_iterations`` steps per call in training mode, with ``eps`` guarding the
    normalisations. Returns ``module``.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(module, name,
                                         _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


_MAPS = ("matrix_exp", "cayley", "householder")


def _like(a, t):
    """A constant array as a tensor of t's dtype (a float64 array would promote t)."""
    return tensor(a, dtype=t.dtype)


def _householder_product(A, tau):
    """torch.linalg.householder_product, composed: the first k columns of H_1 ... H_k,
    H_i = I - tau_i v_i v_i^T, v_i column i of A below the diagonal with a unit diagonal."""
    n, k = A.shape[-2:]
    V = A * _like(np.tril(np.ones((n, k)), -1), A) + _like(np.eye(n, k), A)
    Q = broadcast_to(tensor(np.eye(n), dtype=A.dtype), tuple(A.shape[:-2]) + (n, n))
    for i in range(k):
        v = V[..., :, i:i + 1]
        t = reshape(tau[..., i:i + 1], tuple(tau.shape[:-1]) + (1, 1))
        Q = Q - matmul(matmul(Q, v) * t, transpose(v, -1, -2))
    return Q[..., :, :k]


def _geqrf(a):
    """LAPACK's geqrf of each matrix in a stack: (the compact reflectors, tau)."""
    flat = a.reshape((-1,) + a.shape[-2:])
    outs = [scipy.linalg.qr(m, mode="raw")[0] for m in flat]
    qr = np.stack([o[0] for o in outs]).reshape(a.shape)
    tau = np.stack([o[1] for o in outs]).reshape(a.shape[:-2] + (min(a.shape[-2:]),))
    return qr, tau


def _make_orthogonal(a):
    """The Q of A's QR with R's diagonal made positive."""
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


class _Orthogonal(Module):
    """An orthogonal (or semi-orthogonal) matrix from an unconstrained one by the matrix
    exponential or Cayley map of its skew part, or by Householder reflectors; with
    `use_trivialization`, relative to the buffer `base` (Q = base @ map(X))."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X = transpose(X, -1, -2)
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X * _like(np.tril(np.ones((n, k))), X)
            if n != k:
                X = cat([X, broadcast_to(tensor(np.zeros((n, n - k)), dtype=X.dtype),
                                         tuple(X.shape[:-2]) + (n, n - k))], -1)
            A = X - transpose(X, -1, -2)
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:
                eye = _like(np.eye(n), X)
                Q = solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :, :k]
        else:
            A = X * _like(np.tril(np.ones((n, k)), -1), X)
            tau = 2.0 / (1.0 + _sum(A * A, -2))
            Q = _householder_product(A, tau)
            signs = np.diagonal(X.detach().numpy(), axis1=-2, axis2=-1).astype(int)
            Q = Q * _like(signs[..., None, :], Q)
        if getattr(self, "base", None) is not None:
            Q = matmul(self.base, Q)
        return transpose(Q, -1, -2) if transposed else Q

    def right_inverse(self, Q):
        """The unconstrained matrix that maps to Q: with a base, Q (completed to a square
        orthogonal matrix) becomes the base and the result maps to the identity."""
        if tuple(Q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {tuple(Q.shape)}.")
        q = Q.detach().numpy()
        n, k = q.shape[-2:]
        transposed = n < k
        if transposed:
            q = np.swapaxes(q, -1, -2)
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            a, tau = _geqrf(q)
            d = np.sign(np.diagonal(a, axis1=-2, axis2=-1)).copy()
            d[tau == 0.0] *= -1
            idx = np.arange(k)
            a[..., idx, idx] = d
            out = np.swapaxes(a, -1, -2) if transposed else a
            return tensor(out, dtype=Q.dtype)
        if n == k:
            eye_k = np.eye(k)
            ok = np.allclose(np.swapaxes(q, -1, -2) @ q, eye_k,
                             atol=10 * n * np.finfo(q.dtype).eps)
            base = q.copy() if ok else _make_orthogonal(q)
        else:
            extra = numpy_rng(None).standard_normal(q.shape[:-2] + (n, n - k)).astype(q.dtype)
            base = _make_orthogonal(np.concatenate([q, extra], -1))
        self.base = tensor(base, dtype=Q.dtype)
        neg_eye = np.zeros(Q.shape)
        idx = np.arange(min(Q.shape[-2:]))
        neg_eye[..., idx, idx] = -1.0
        return tensor(neg_eye, dtype=Q.dtype)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Keep ``module.<name>`` (semi-)orthogonal (torch.nn.utils.parametrizations.orthogonal).

    ``orthogonal_map`` is 'matrix_exp', 'cayley' or 'householder' (default: matrix_exp for
    square matrices, householder otherwise). With ``use_trivialization`` (keyword-only) the
    map is taken around a base that is updated when the weight is assigned, as in PyTorch.
    Returns ``module``.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module

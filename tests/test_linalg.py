"""tapegrad.linalg beyond the op table: errors, undefined gradients, dtypes, return types,
auxiliary outputs (info, rank, residuals) and higher-order derivatives."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad import linalg as LA
from tapegrad.autograd import gradcheck

rng = np.random.default_rng(0)


def t(a, rg=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def invertible(*shape):
    return rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])


def spd(*shape):
    x = rng.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


SINGULAR = np.stack([np.eye(3), np.diag([1.0, 0.0, 1.0])])


# ---- errors ----------------------------------------------------------------------------------
def test_linalg_error_is_a_runtime_error():
    assert issubclass(LA.LinAlgError, RuntimeError)


@pytest.mark.parametrize("fn", [lambda A: LA.inv(A), lambda A: LA.solve(A, tg.ones(3, 2)),
                                lambda A: LA.solve(A, tg.ones(2, 3))])
def test_singular_matrix_raises_naming_op_and_batch_element(fn):
    A = tg.tensor(SINGULAR.astype(np.float32))
    with pytest.raises(LA.LinAlgError, match=r"linalg\.(inv|solve): \(Batch element 1\).*singular"):
        fn(A)


def test_singular_2d_has_no_batch_prefix():
    with pytest.raises(LA.LinAlgError, match=r"^linalg\.inv: The diagonal element 2"):
        LA.inv(t(SINGULAR[1]))


def test_singular_matches_pytorch_exception_type():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.linalg.inv(torch.tensor(SINGULAR))
    with pytest.raises(RuntimeError):
        LA.inv(t(SINGULAR))


def test_triangular_with_zero_diagonal_raises():
    A = np.triu(invertible(2, 3, 3))
    A[1, 2, 2] = 0
    with pytest.raises(LA.LinAlgError, match=r"solve_triangular: \(Batch element 1\).*element 3"):
        LA.solve_triangular(t(A), t(np.ones((2, 3, 1))), upper=True)


def test_not_positive_definite_cholesky():
    A = np.stack([np.eye(3), np.diag([1.0, 1.0, -1.0])])
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 1\).*not positive-definite.*"
                                             r"order 3"):
        LA.cholesky(t(A))
    with pytest.raises(LA.LinAlgError, match="order 2"):
        LA.cholesky(t(np.diag([1.0, -1.0, 1.0])))


@pytest.mark.parametrize("fn", [LA.inv, LA.det, LA.slogdet, LA.cholesky, LA.eigh, LA.eigvalsh,
                                LA.matrix_exp, LA.inv_ex, LA.cholesky_ex])
def test_non_square_input(fn):
    with pytest.raises(RuntimeError, match="square matrices, but they are 2 by 3"):
        fn(tg.zeros(4, 2, 3))


@pytest.mark.parametrize("fn", [LA.inv, LA.svd, LA.qr, LA.pinv, LA.svdvals])
def test_vector_input(fn):
    with pytest.raises(RuntimeError, match=r"at least 2 dimensions, got shape \[3\]"):
        fn(tg.zeros(3))


@pytest.mark.parametrize("dtype,words", [(tg.int64, "floating point"), (tg.float16,
                                                                       "Low precision")])
def test_dtype_errors(dtype, words):
    with pytest.raises(RuntimeError, match=words):
        LA.inv(tg.eye(3, dtype=dtype))


def test_shape_and_dtype_mismatches_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"linalg\.solve: .*\(3x3 and 4x2\)"):
        LA.solve(tg.eye(3), tg.ones(4, 2))
    with pytest.raises(RuntimeError, match=r"linalg\.solve: .*\(3x3 and 4\)"):
        LA.solve(tg.eye(3), tg.ones(4))
    with pytest.raises(RuntimeError, match="same dtype"):
        LA.solve(tg.eye(3), tg.ones(3, 2, dtype=tg.float64))
    with pytest.raises(RuntimeError, match=r"batch dimensions of A \[2, 3, 3\] and B \[4\]"):
        LA.solve(tg.ones(2, 3, 3), tg.ones(4, 3, 1))
    with pytest.raises(RuntimeError, match=r"solve_triangular: .*\(3x3 and 2x2\)"):
        LA.solve_triangular(tg.eye(3), tg.ones(2, 2), upper=True)
    with pytest.raises(RuntimeError, match=r"lstsq: A \[5, 3\] and B \[4, 2\]"):
        LA.lstsq(tg.ones(5, 3), tg.ones(4, 2))
    with pytest.raises(RuntimeError, match="driver"):
        LA.lstsq(tg.ones(5, 3), tg.ones(5, 2), driver="gelsx")


def test_cross_errors():
    with pytest.raises(RuntimeError, match="must have length 3. Got 3 and 4"):
        LA.cross(tg.ones(2, 3), tg.ones(2, 4))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        LA.cross(tg.ones(2, 3), tg.ones(3))
    with pytest.raises(RuntimeError, match=r"do not broadcast"):
        LA.cross(tg.ones(2, 3), tg.ones(4, 3))


def test_norm_errors():
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        LA.matrix_norm(tg.ones(2, 3), ord=3)
    with pytest.raises(RuntimeError, match="must be 1D or 2D. Got 3D"):
        LA.norm(tg.ones(2, 3, 4), ord=2)
    with pytest.raises(TypeError, match="must be Number"):
        LA.vector_norm(tg.ones(3), ord="fro")
    with pytest.raises(RuntimeError, match="dims must be different"):
        LA.matrix_norm(tg.ones(2, 3), dim=(1, -1))


def test_qr_errors():
    with pytest.raises(RuntimeError, match="unrecognized mode 'x'"):
        LA.qr(tg.ones(3, 3), mode="x")
    A = t(rng.standard_normal((4, 2)), rg=True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        LA.qr(A, mode="complete").Q.sum().backward()


# ---- undefined gradients raise instead of returning NaN --------------------------------------
DEGENERATE = np.diag([1.0, 1.0, 2.0])


def test_eigh_degenerate_eigenvectors_raise():
    A = t(DEGENERATE, rg=True)
    with pytest.raises(LA.LinAlgError, match="eigh backward: .*repeated eigenvalues"):
        LA.eigh(A).eigenvectors.sum().backward()


def test_eigh_degenerate_eigenvalues_only_is_fine():
    A = t(DEGENERATE, rg=True)
    LA.eigh(A).eigenvalues.sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), np.eye(3), atol=1e-12)
    B = t(DEGENERATE, rg=True)
    (LA.eigvalsh(B) ** 2).sum().backward()
    np.testing.assert_allclose(B.grad.numpy(), 2 * DEGENERATE, atol=1e-12)


def test_eigh_vector_of_a_simple_eigenvalue_is_fine():
    """Only pairs the loss reaches matter: the vector of the simple eigenvalue 2 is unique."""
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    A0 = Q @ DEGENERATE @ Q.T

    def f(A):
        v = LA.eigh((A + A.mT) / 2).eigenvectors[..., 2]
        return v * v[0]
    assert gradcheck(f, [t(A0, rg=True)])


def test_svd_repeated_singular_values_raise():
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    A = t(Q, rg=True)      # every singular value is 1
    with pytest.raises(LA.LinAlgError, match="svd backward: .*repeated singular values"):
        (LA.svd(A).U * 1.0).sum().backward()
    LA.svdvals(A).sum().backward()      # values only: fine
    np.testing.assert_allclose(A.grad.numpy(), Q, atol=1e-12)


def test_det_of_singular_matrix():
    A = t(SINGULAR[1], rg=True)
    d = LA.det(A)
    assert d.item() == 0
    with pytest.raises(LA.LinAlgError, match="slogdet backward"):
        d.backward()


def test_no_nan_in_norm_gradients_at_zero():
    torch = pytest.importorskip("torch")
    for fn in (lambda L, x: L.linalg.vector_norm(x), lambda L, x: L.linalg.norm(x),
               lambda L, x: L.linalg.matrix_norm(x), lambda L, x: L.linalg.vector_norm(x, 3)):
        x, y = tg.zeros(2, 3, requires_grad=True), torch.zeros(2, 3, requires_grad=True)
        fn(tg, x).backward()
        fn(torch, y).backward()
        np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())
        assert not np.isnan(x.grad.numpy()).any()


# ---- dtypes and return types -----------------------------------------------------------------
A32 = (rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)).astype(np.float32)
FLOAT32 = {
    "solve": lambda A: LA.solve(A, A[..., :2]),
    "inv": LA.inv, "det": LA.det, "slogdet": lambda A: LA.slogdet(A).logabsdet,
    "cholesky": lambda A: LA.cholesky(A @ A.mT),
    "solve_triangular": lambda A: LA.solve_triangular(A, A, upper=True),
    "eigh": lambda A: LA.eigh(A @ A.mT).eigenvectors, "eigvalsh": lambda A: LA.eigvalsh(A @ A.mT),
    "svd": lambda A: LA.svd(A).U, "svdvals": LA.svdvals, "qr": lambda A: LA.qr(A).R,
    "pinv": LA.pinv, "lstsq": lambda A: LA.lstsq(A, A).solution, "matrix_exp": LA.matrix_exp,
    "cross": lambda A: LA.cross(A, A.mT), "matrix_norm": lambda A: LA.matrix_norm(A, "nuc"),
    "vector_norm": LA.vector_norm, "norm": LA.norm,
}


@pytest.mark.parametrize("name", FLOAT32)
def test_float32_stays_float32(name):
    A = tg.tensor(A32, requires_grad=True)
    out = FLOAT32[name](A)
    assert out.dtype == tg.float32
    (g,) = tg.autograd.grad(out.sum(), [A])
    assert g.dtype == tg.float32


def test_return_types_match_pytorch():
    torch = pytest.importorskip("torch")
    a = spd(3, 3)
    pairs = [(LA.slogdet, torch.linalg.slogdet), (LA.eigh, torch.linalg.eigh),
             (LA.svd, torch.linalg.svd), (LA.qr, torch.linalg.qr), (LA.inv_ex, torch.linalg.inv_ex),
             (LA.cholesky_ex, torch.linalg.cholesky_ex),
             (lambda x: LA.lstsq(x, x), lambda x: torch.linalg.lstsq(x, x))]
    for ours, theirs in pairs:
        r, s = ours(t(a)), theirs(torch.tensor(a))
        assert type(r).__name__ == type(s).__name__ and len(r) == len(s)
        for i, field in enumerate(r._fields):
            assert getattr(s, field) is s[i]


def test_value_only_ops_do_not_record_without_grad():
    A = t(spd(3, 3))
    assert not LA.eigvalsh(A).requires_grad and not LA.svdvals(A).requires_grad
    B = t(spd(3, 3), rg=True)
    with tg.no_grad():
        assert not LA.eigvalsh(B).requires_grad


# ---- auxiliary outputs, compared with PyTorch ------------------------------------------------
def test_inv_ex_and_cholesky_ex_info_match_pytorch():
    torch = pytest.importorskip("torch")
    r, s = LA.inv_ex(t(SINGULAR)), torch.linalg.inv_ex(torch.tensor(SINGULAR))
    np.testing.assert_array_equal(r.info.numpy(), s.info.numpy())
    assert r.info.dtype == tg.int32 and np.isnan(r.inverse.numpy()[1]).all()
    np.testing.assert_allclose(r.inverse.numpy()[0], np.eye(3))
    for a in (np.stack([2 * np.eye(3), np.diag([1.0, 1.0, -1.0])]), [[1.0, 2.0], [2.0, 1.0]]):
        r, s = LA.cholesky_ex(t(a)), torch.linalg.cholesky_ex(torch.tensor(a))
        np.testing.assert_array_equal(r.info.numpy(), s.info.numpy())
        np.testing.assert_allclose(r.L.numpy(), s.L.numpy())
    with pytest.raises(LA.LinAlgError):
        LA.inv_ex(t(SINGULAR), check_errors=True)
    with pytest.raises(LA.LinAlgError):
        LA.cholesky_ex(t(-np.eye(2)), check_errors=True)


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shapes", [((2, 5, 3), (2, 5, 2)), ((3, 5), (3, 2)), ((5, 3), (5,))])
def test_lstsq_outputs_match_pytorch(driver, shapes):
    torch = pytest.importorskip("torch")
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    ours = LA.lstsq(t(a), t(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for r, s in zip(ours, theirs):
        assert tuple(r.shape) == tuple(s.shape) and r.dtype == s.numpy().dtype
        np.testing.assert_allclose(r.detach().numpy(), s.numpy(), rtol=1e-6, atol=1e-10)


def test_lstsq_rank_deficient_matches_pytorch():
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((5, 3))
    a[:, 2] = a[:, 1]
    b = rng.standard_normal((5, 2))
    r, s = LA.lstsq(t(a), t(b), driver="gelsd"), torch.linalg.lstsq(torch.tensor(a),
                                                                    torch.tensor(b), driver="gelsd")
    np.testing.assert_allclose(r.solution.numpy(), s.solution.numpy(), atol=1e-10)
    assert r.rank.item() == s.rank.item() == 2 and r.residuals.shape == s.residuals.shape


def test_pinv_tolerances_match_pytorch():
    torch = pytest.importorskip("torch")
    u = np.linalg.qr(rng.standard_normal((2, 4, 4)))[0]
    a = (u * np.array([3.0, 1.0, 0.1, 1e-17])) @ np.swapaxes(u, -1, -2)
    for kw in ({}, {"atol": 0.5}, {"rtol": 0.2}, {"atol": 0.05, "rtol": 0.01},
               {"hermitian": True}, {"atol": 0.5, "hermitian": True}):
        np.testing.assert_allclose(LA.pinv(t(a), **kw).numpy(),
                                   torch.linalg.pinv(torch.tensor(a), **kw).numpy(), atol=1e-9)
    atol = np.array([0.05, 0.5])
    np.testing.assert_allclose(LA.pinv(t(a), atol=t(atol)).numpy(),
                               torch.linalg.pinv(torch.tensor(a), atol=torch.tensor(atol)).numpy(),
                               atol=1e-9)


def test_qr_mode_r_has_an_empty_q():
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((4, 3))
    r, s = LA.qr(t(a), mode="r"), torch.linalg.qr(torch.tensor(a), mode="r")
    assert tuple(r.Q.shape) == tuple(s.Q.shape) == (0,)
    np.testing.assert_allclose(r.R.numpy(), s.R.numpy())


# ---- larger matrices and higher orders -------------------------------------------------------
def test_large_triangular_solve_matches_scipy_and_pytorch():
    """Matrices past the vectorised small-matrix path go through SciPy."""
    torch = pytest.importorskip("torch")
    from scipy.linalg import solve_triangular
    a, b = invertible(2, 80, 80), rng.standard_normal((80, 3))
    A, B = t(a, rg=True), t(b, rg=True)
    X = LA.solve_triangular(A, B, upper=False)
    np.testing.assert_allclose(X.detach().numpy()[1], solve_triangular(a[1], b, lower=True), rtol=1e-10)
    g = rng.standard_normal(X.shape)
    ga, gb = tg.autograd.grad([X], [A, B], [t(g)])
    TA, TB = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ha, hb = torch.autograd.grad([torch.linalg.solve_triangular(TA, TB, upper=False)], [TA, TB],
                                 [torch.tensor(g)])
    np.testing.assert_allclose(ga.numpy(), ha.numpy(), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), hb.numpy(), rtol=1e-7, atol=1e-12)


def _third_derivative(L, fn, a, w1, w2):
    A = L.tensor(a, requires_grad=True)
    (g1,) = L.autograd.grad(fn(L, A), [A], create_graph=True)
    (g2,) = L.autograd.grad((g1 * L.tensor(w1)).sum(), [A], create_graph=True)
    (g3,) = L.autograd.grad((g2 * L.tensor(w2)).sum(), [A])
    return g3.detach().numpy()


@pytest.mark.parametrize("fn", [
    lambda L, A: (L.linalg.matrix_exp(A) ** 2).sum(),
    lambda L, A: L.linalg.slogdet(A)[1].sum() + L.linalg.inv(A).sum(),
    lambda L, A: (L.linalg.eigvalsh(A + A.mT) ** 3).sum(),
])
def test_third_order_matches_pytorch(fn):
    torch = pytest.importorskip("torch")
    a = 0.3 * invertible(2, 3, 3)
    w1, w2 = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    np.testing.assert_allclose(_third_derivative(tg, fn, a, w1, w2),
                               _third_derivative(torch, fn, a, w1, w2), rtol=1e-6, atol=1e-9)


def test_hessian_of_logdet():
    """d^2 log det A [E, E] = -tr(A^-1 E A^-1 E)."""
    a = spd(3, 3)
    H = tg.autograd.functional.hessian(lambda A: LA.slogdet(A).logabsdet, t(a)).numpy()
    ai = np.linalg.inv(a)
    np.testing.assert_allclose(H, -np.einsum("jk,li->ijkl", ai, ai), atol=1e-10)

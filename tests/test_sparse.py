"""tapegrad.sparse beyond the op table: real-size matrices, patterns, dtypes and errors."""
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sps

import tapegrad as tg
from tapegrad.sparse import SparseMatrix, mm, sampled_addmm


def grid_laplacian(side):
    """The 5-point Laplacian of a side x side grid graph (side**2 nodes)."""
    path = sps.diags([-np.ones(side - 1), 2 * np.ones(side), -np.ones(side - 1)], [-1, 0, 1])
    return sps.kronsum(path, path, format="csr")


def test_graph_laplacian_of_100k_nodes_is_never_densified():
    L = grid_laplacian(317)                      # 100,489 nodes: dense would take 80 GB
    n = L.shape[0]
    S = SparseMatrix(L, requires_grad=True)
    x = tg.tensor(np.random.default_rng(0).standard_normal((n, 2)), requires_grad=True)
    tracemalloc.start()
    energy = (x * (S @ x)).sum()                 # Dirichlet energy x^T L x
    energy.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the memory bound is the test (a dense matrix would need 80 GB); no wall-clock bound,
    # which a slow or busy machine would break
    assert peak < 200e6, peak
    xa = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (L @ xa), rtol=1e-10, atol=1e-10)
    coo = L.tocoo()     # canonical CSR order is row-major, as tocoo() lists it
    np.testing.assert_allclose(S.values.grad.numpy(), (xa[coo.row] * xa[coo.col]).sum(1))


def test_laplacian_from_edge_weights_matches_dense():
    """Values computed from parameters: gradients flow through them to the parameters."""
    rng = np.random.default_rng(1)
    W = sps.triu(sps.random(8, 8, density=0.4, random_state=2), 1)
    pattern = (W + W.T + sps.eye(8)).tocsr()
    pattern.sum_duplicates()
    S0 = SparseMatrix(pattern)
    rows = np.repeat(np.arange(8), np.diff(S0.crow_indices().numpy()))
    cols = S0.col_indices().numpy()
    w = tg.tensor(rng.uniform(0.5, 1.5, 8), requires_grad=True)   # one weight per node
    x = tg.tensor(rng.standard_normal(8), requires_grad=True)
    vals = tg.where(tg.tensor(rows == cols), 1.0, -(w[rows] * w[cols]))
    y = (SparseMatrix(S0, vals) @ x).pow(2).sum()
    gw, gx = tg.autograd.grad(y, [w, x])
    wd = tg.tensor(w.detach().numpy(), requires_grad=True)
    xd = tg.tensor(x.detach().numpy(), requires_grad=True)
    mask = tg.tensor(pattern.toarray() != 0)
    dense = tg.where(tg.eye(8, dtype=tg.bool), 1.0, tg.where(mask, -tg.outer(wd, wd), 0.0))
    yd = (dense @ xd).pow(2).sum()
    gwd, gxd = tg.autograd.grad(yd, [wd, xd])
    np.testing.assert_allclose(y.item(), yd.item())
    np.testing.assert_allclose(gw.numpy(), gwd.numpy())
    np.testing.assert_allclose(gx.numpy(), gxd.numpy())


def test_any_format_and_duplicates_become_canonical_csr():
    coo = sps.coo_array(([1.0, 2.0, 3.0, 4.0], ([1, 0, 1, 0], [2, 1, 2, 0])), shape=(2, 3))
    S = SparseMatrix(coo)
    assert S.nnz == 3 and S.shape == (2, 3)
    np.testing.assert_array_equal(S.values.numpy(), [4.0, 2.0, 4.0])    # (0,0) (0,1) (1,2)
    np.testing.assert_array_equal(S.crow_indices().numpy(), [0, 2, 3])
    np.testing.assert_array_equal(S.col_indices().numpy(), [0, 1, 2])
    np.testing.assert_array_equal(S.to_scipy().toarray(), coo.toarray())
    np.testing.assert_array_equal(S.T.to_scipy().toarray(), coo.toarray().T)
    for fmt in ("csc", "lil", "dok", "bsr", "dia"):
        x = tg.tensor([1.0, -2.0, 0.5])
        np.testing.assert_allclose(mm(coo.asformat(fmt), x).numpy(), coo @ x.numpy())


def test_values_trained_in_place_do_not_touch_the_scipy_matrix():
    A = sps.eye(3, format="csr")
    S = SparseMatrix(A, requires_grad=True)
    with tg.no_grad():
        S.values.mul_(5)
    np.testing.assert_array_equal(A.data, [1.0, 1.0, 1.0])


def test_dtypes():
    A = sps.random(4, 3, density=0.6, random_state=0, format="csr")   # float64
    x32 = tg.randn(3, 2)
    assert mm(A, x32).dtype == tg.float32              # a scipy matrix takes x's float dtype
    assert mm(A, tg.tensor([1, 2, 3])).dtype == tg.float32          # ints: default float
    assert mm(A.astype(np.int64), x32).dtype == tg.float32
    assert SparseMatrix(A.astype(np.int32)).dtype == tg.float32
    assert (SparseMatrix(A, dtype=tg.float32) @ x32).dtype == tg.float32
    assert (SparseMatrix(A) @ x32).dtype == tg.float64  # float64 values promote, as dense ops do
    assert "nnz=" in repr(SparseMatrix(A, requires_grad=True))


def test_shape_errors_name_both_shapes():
    A = sps.random(4, 3, density=0.5, random_state=0, format="csr")
    with pytest.raises(RuntimeError, match=r"\(4, 3\).*\[4, 2\]"):
        mm(A, tg.randn(4, 2))
    with pytest.raises(RuntimeError, match=r"\(3, 4\).*\[3\]"):
        SparseMatrix(A).T @ tg.randn(3)
    with pytest.raises(RuntimeError, match=r"1-D or 2-D"):
        mm(A, tg.randn(3, 2, 2))
    with pytest.raises(RuntimeError, match=rf"{A.nnz}.*\[{A.nnz + 1}\]"):
        SparseMatrix(A, tg.ones(A.nnz + 1))
    with pytest.raises(TypeError, match="scipy.sparse"):
        mm(A.toarray(), tg.randn(3))
    with pytest.raises(RuntimeError, match=r"\[4, 2\].*\[3, 3\].*\(4, 3\)"):
        sampled_addmm(A, tg.randn(4, 2), tg.randn(3, 3))


def test_wengert_list_shows_the_pattern():
    A = sps.eye(3, format="csr")
    x = tg.randn(3, requires_grad=True)
    with tg.Tape() as tape:
        y = mm(A, x)                          # noqa: F841
    assert "sparse_mm(" in repr(tape) and "<CSR 3x3, nnz=3>" in repr(tape)

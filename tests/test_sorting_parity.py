"""Sorting, order statistics, set/count ops, matrix-shaped ops and scans against PyTorch: return
types, ties, NaN, integer dtypes, non-differentiable outputs and errors (the op table covers
values and gradients on ordinary inputs)."""
import numpy as np
import pytest

import tapegrad as tg

NAN = float("nan")


def _torch():
    return pytest.importorskip("torch")


def _same(a, b):
    """Values, shape and dtype of a tapegrad result against a PyTorch one."""
    assert tuple(a.shape) == tuple(b.shape)
    assert str(a.dtype) == str(b.dtype)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-12)


def _grads(fn, data, torch, seed=0):
    """fn's outputs and its input gradient (for a random cotangent) in both libraries."""
    x = tg.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    a, b = fn(tg, x), fn(torch, t)
    a0, b0 = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
    g = np.random.default_rng(seed).standard_normal(tuple(b0.shape))
    ga, = tg.autograd.grad(a0, x, tg.tensor(g))
    gb, = torch.autograd.grad(b0, t, torch.tensor(g))
    return a, b, ga, gb


# ---- return types --------------------------------------------------------------------------
@pytest.mark.parametrize("name,call", [
    ("sort", lambda T, x: T.sort(x)), ("topk", lambda T, x: T.topk(x, 2)),
    ("kthvalue", lambda T, x: T.kthvalue(x, 1)), ("median", lambda T, x: T.median(x, 0)),
    ("nanmedian", lambda T, x: T.nanmedian(x, 0)), ("mode", lambda T, x: T.mode(x)),
    ("cummax", lambda T, x: T.cummax(x, 0)), ("cummin", lambda T, x: T.cummin(x, 0))])
def test_named_tuples(name, call):
    torch = _torch()
    data = np.array([3.0, 1.0, 2.0])
    got, want = call(tg, tg.tensor(data)), call(torch, torch.tensor(data))
    assert type(got).__name__ == type(want).__name__ == name
    assert got._fields == ("values", "indices")
    _same(got.values, want.values)
    _same(got.indices, want.indices)


def test_tensor_methods():
    x = tg.tensor([[3.0, 1.0], [2.0, 4.0]])
    for name in ("sort argsort msort median nanmedian mode diag triu tril trace cummax cummin "
                 "logcumsumexp nansum nanmean unique").split():
        assert callable(getattr(x, name)), name
    assert x.topk(1).values.tolist() == [[3.0], [4.0]]
    assert x.roll(1, 0).tolist() == [[2.0, 4.0], [3.0, 1.0]]
    assert x.rot90().tolist() == [[1.0, 4.0], [3.0, 2.0]]
    assert x.trace().item() == 7.0
    assert x.diag().tolist() == [3.0, 4.0]
    assert x.kron(tg.tensor([1.0, 2.0])).shape == (2, 4)
    assert x.dist(x).item() == 0.0


# ---- ties and NaN: which entry gets the gradient -------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda T, x: T.sort(x, -1), lambda T, x: T.sort(x, 0, descending=True),
    lambda T, x: T.argsort(x, -1, descending=True), lambda T, x: T.cummax(x, -1),
    lambda T, x: T.cummin(x, 0), lambda T, x: T.mode(x, -1), lambda T, x: T.median(x),
])
def test_ties_as_torch(fn):
    """(topk and kthvalue are left out: which of tied entries PyTorch picks there depends on
    its selection algorithm, not on a rule.)"""
    torch = _torch()
    data = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [2.0, 2.0, 0.0, 0.0, 5.0],
                     [1.0, 1.0, 1.0, 1.0, 1.0]])
    a, b = fn(tg, tg.tensor(data)), fn(torch, torch.tensor(data))
    for u, v in zip(*((a, b) if isinstance(a, tuple) else ((a,), (b,)))):
        _same(u, v)
    if (a[0] if isinstance(a, tuple) else a).numpy().dtype.kind == "f":
        _, _, ga, gb = _grads(fn, data, torch)
        np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda T, x: T.sort(x), lambda T, x: T.sort(x, descending=True), lambda T, x: T.topk(x, 2),
    lambda T, x: T.median(x, 1), lambda T, x: T.median(x), lambda T, x: T.nanmedian(x, 1),
    lambda T, x: T.nanmedian(x), lambda T, x: T.quantile(x, 0.4, 1),
    lambda T, x: T.nanquantile(x, 0.4, 1), lambda T, x: T.nanquantile(x, 0.6),
    lambda T, x: T.quantile(x, 0.5, 1, interpolation="nearest"),
    lambda T, x: T.cummax(x, 1), lambda T, x: T.cummin(x, 1), lambda T, x: T.nansum(x, 1),
    lambda T, x: T.nanmean(x), lambda T, x: T.kthvalue(x, 4),
])
def test_nan_as_torch(fn):
    """NaN sorts as the largest value; median/quantile propagate it (the gradient goes to a
    NaN entry), nanmedian/nanquantile/nansum skip it."""
    torch = _torch()
    data = np.array([[1.0, NAN, 0.5, 2.0, NAN], [4.0, 3.0, -1.0, 0.0, 2.5]])
    a, b, ga, gb = _grads(fn, data, torch)
    for u, v in zip(*((a, b) if isinstance(a, tuple) else ((a,), (b,)))):
        _same(u, v)
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda T, x: T.sort(x).values, lambda T, x: T.median(x, 1).values,
    lambda T, x: T.nanmedian(x, 1).values, lambda T, x: T.nanmedian(x),
    lambda T, x: T.quantile(x, 0.3, 1), lambda T, x: T.nanquantile(x, 0.3, 1),
    lambda T, x: T.nansum(x, 1), lambda T, x: T.nanmean(x, 1), lambda T, x: T.cummax(x, 1)[0],
])
def test_all_nan_rows(fn):
    """A row of NaNs gives NaN (which NaN PyTorch's indices point to is not specified)."""
    torch = _torch()
    data = np.array([[NAN, NAN, NAN], [1.0, NAN, 0.5]])
    _same(fn(tg, tg.tensor(data)), fn(torch, torch.tensor(data)))


def test_logcumsumexp_without_overflow():
    torch = _torch()
    data = np.array([[1000.0, -1000.0, 999.0, 0.0], [-800.0, -801.0, -3.0, 700.0]])
    fn = lambda T, x: T.logcumsumexp(x, 1)      # noqa: E731
    a, b, ga, gb = _grads(fn, data, torch)
    _same(a, b)
    assert np.isfinite(ga.numpy()).all()
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-10, atol=1e-300)


def test_logcumsumexp_float32_second_order():
    x = tg.tensor([[0.5, -1.0, 2.0]], dtype=tg.float32, requires_grad=True)
    y = tg.logcumsumexp(x, 1)
    g, = tg.autograd.grad(y.sum(), x, create_graph=True)
    assert g.dtype == tg.float32
    h, = tg.autograd.grad((g * g).sum(), x)
    assert np.isfinite(h.numpy()).all()


# ---- integer dtypes ----------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda T, x: T.sort(x, descending=True), lambda T, x: T.argsort(x), lambda T, x: T.msort(x),
    lambda T, x: T.topk(x, 2), lambda T, x: T.kthvalue(x, 2), lambda T, x: T.median(x, 1),
    lambda T, x: T.median(x), lambda T, x: T.mode(x), lambda T, x: T.cummax(x, 1),
    lambda T, x: T.nansum(x), lambda T, x: T.trace(x[:, :3]), lambda T, x: T.triu(x),
    lambda T, x: T.diag(x, 1), lambda T, x: T.roll(x, 1), lambda T, x: T.kron(x, x[:1]),
    lambda T, x: T.cross(x[:, :3], x[:, 1:]), lambda T, x: T.rot90(x, -1),
])
def test_integer_inputs(fn):
    torch = _torch()
    data = np.array([[3, 1, 4, 0], [5, 9, 2, 6], [7, 3, 5, 8]])
    a, b = fn(tg, tg.tensor(data)), fn(torch, torch.tensor(data))
    for u, v in zip(*((a, b) if isinstance(a, tuple) else ((a,), (b,)))):
        _same(u, v)


# ---- sets and counts ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda T, x: T.unique(x), lambda T, x: x.unique(return_inverse=True, return_counts=True),
    lambda T, x: T.unique(x, dim=0, return_inverse=True, return_counts=True),
    lambda T, x: T.unique(x, dim=1, return_counts=True),
    lambda T, x: T.unique_consecutive(x, return_inverse=True, return_counts=True),
    lambda T, x: T.unique_consecutive(x, dim=0, return_inverse=True),
    lambda T, x: T.bincount(x[0]), lambda T, x: T.bincount(x[1], minlength=12),
    lambda T, x: T.bincount(x[0], x[1].float()), lambda T, x: T.bincount(x[0], x[1]),
    lambda T, x: T.histc(x.double(), bins=5), lambda T, x: T.histc(x.float(), 4, 1, 3),
    lambda T, x: T.searchsorted(T.tensor([1, 3, 5, 7]), x),
    lambda T, x: T.searchsorted(T.tensor([1, 3, 5, 7]), x, right=True),
    lambda T, x: T.searchsorted(T.tensor([1, 3, 5, 7]), x, side="right", out_int32=True),
    lambda T, x: T.searchsorted(T.sort(x).values, x),
    lambda T, x: T.searchsorted(T.tensor([7, 1, 5, 3]), 4, sorter=T.tensor([1, 3, 2, 0])),
])
def test_sets_and_counts(fn):
    torch = _torch()
    data = np.array([[1, 2, 2, 0, 7], [3, 1, 2, 8, 1], [1, 2, 2, 0, 7]])
    a, b = fn(tg, tg.tensor(data)), fn(torch, torch.tensor(data))
    for u, v in zip(*((a, b) if isinstance(a, tuple) else ((a,), (b,)))):
        _same(u, v)


def test_dist_p0_counts_nonzeros():
    x = tg.tensor([[1.0, 2.0], [0.0, 3.0]], requires_grad=True)
    d = tg.dist(x, tg.tensor([1.0, 0.0]), 0)
    assert d.item() == 3.0
    d.backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize("name", ["triu_", "tril_"])
def test_triangle_in_place(name):
    torch = _torch()
    data = np.arange(12.0).reshape(3, 4)
    got = []
    for T in (tg, torch):
        x = T.tensor(data, requires_grad=True)
        y = x * 2
        assert getattr(y, name)(1) is y
        (y * y).sum().backward()
        got.append((y, x.grad))
    _same(*(g[0] for g in got))
    _same(*(g[1] for g in got))


def test_diagonal_is_a_view():
    """Writes through diagonal() reach the tensor, and are differentiated, as PyTorch's."""
    torch = _torch()
    data = np.arange(24.0).reshape(2, 3, 4)
    got = []
    for T in (tg, torch):
        x = T.tensor(data, requires_grad=True)
        y = x * 1
        d = y.diagonal(-1, 2, 1)
        d.mul_(3)
        d.add_(1)
        (y * y).sum().backward()
        got.append((y, x.grad))
    _same(*(g[0] for g in got))
    _same(*(g[1] for g in got))
    z = tg.zeros(3, 3)
    z.diagonal().fill_(2)
    assert z.trace().item() == 6.0


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "float16", "float32"])
def test_dtypes_kept(dtype):
    torch = _torch()
    for fn in (lambda T, x: T.triu(x), lambda T, x: T.roll(x, 1), lambda T, x: T.diag(x),
               lambda T, x: T.sort(x).values, lambda T, x: T.cummax(x, 0).values,
               lambda T, x: T.rot90(x), lambda T, x: T.diag_embed(x)):
        a = fn(tg, tg.ones(3, 3, dtype=getattr(tg, dtype)))
        b = fn(torch, torch.ones(3, 3, dtype=getattr(torch, dtype)))
        assert str(a.dtype) == str(b.dtype)


def test_set_outputs_do_not_require_grad():
    x = tg.tensor([1.0, 2.0, 2.0], requires_grad=True)
    assert not tg.unique(x).requires_grad
    assert not tg.histc(x, 3).requires_grad
    assert not tg.bincount(tg.tensor([0, 1]), x[:2]).requires_grad


# ---- matrix-shaped ops -------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda T, x: T.diag_embed(x, 2), lambda T, x: T.diagonal(x, 5),
    lambda T, x: T.diagonal(x, -1, 1, 0), lambda T, x: T.triu(x, -5), lambda T, x: T.tril(x, 9),
    lambda T, x: T.meshgrid(x[0], x[1]), lambda T, x: T.cartesian_prod(x[0]),
    lambda T, x: T.cartesian_prod(x[0], x[1, :2], x[2, :2]),
    lambda T, x: T.cdist(x, x), lambda T, x: T.cdist(x, x[:2] + 1, 1.0),
    lambda T, x: T.dist(x, 2 * x[1], 1), lambda T, x: T.roll(x, (-7, 2), (1, 0)),
    lambda T, x: T.rot90(x, 0), lambda T, x: T.tensordot(x, x, T.tensor([[1], [1]])),
    lambda T, x: T.concatenate([x, x], 1), lambda T, x: T.concat([x, x]),
])
def test_matrix_ops_edges(fn):
    torch = _torch()
    data = np.array([[1.0, 2.0, -1.0, 0.5], [0.0, 3.0, 2.0, -2.0], [1.0, 2.0, -1.0, 0.5]])
    a, b, ga, gb = _grads(fn, data, torch)
    for u, v in zip(*((a, b) if isinstance(a, tuple) else ((a,), (b,)))):
        _same(u, v)
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-10, atol=1e-12)


# ---- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,exc", [
    (lambda T, x: T.topk(x, 5), RuntimeError), (lambda T, x: T.kthvalue(x, 0), RuntimeError),
    (lambda T, x: T.sort(x, 2), IndexError), (lambda T, x: T.quantile(x, 1.5), RuntimeError),
    (lambda T, x: T.quantile(x.long(), 0.5), RuntimeError),
    (lambda T, x: T.quantile(x, T.tensor([0.5], dtype=T.float32)), RuntimeError),
    (lambda T, x: T.nanmean(x.long()), RuntimeError),
    (lambda T, x: T.logcumsumexp(x.long(), 0), NotImplementedError),
    (lambda T, x: T.histc(x.long()), NotImplementedError),
    (lambda T, x: T.bincount(x), RuntimeError),
    (lambda T, x: T.bincount(T.tensor([-1, 2])), RuntimeError),
    (lambda T, x: T.triu(x[0]), RuntimeError), (lambda T, x: T.trace(x[0]), RuntimeError),
    (lambda T, x: T.diag(x[None]), RuntimeError),
    (lambda T, x: T.diagonal(x, 0, 1, 1), RuntimeError),
    (lambda T, x: T.cross(x, x), RuntimeError), (lambda T, x: T.cross(x, x[0]), RuntimeError),
    (lambda T, x: T.rot90(x, 1, [0, 0]), RuntimeError),
    (lambda T, x: T.rot90(x, 1, [0]), RuntimeError),
    (lambda T, x: T.roll(x, (1, 2), 0), RuntimeError),
    (lambda T, x: T.tensordot(x, x, 3), RuntimeError),
    (lambda T, x: T.tensordot(x, x, ([0], [1])), RuntimeError),
    (lambda T, x: T.cdist(x, x[:, :2]), RuntimeError),
    (lambda T, x: T.searchsorted(x, x[:1]), RuntimeError),
    (lambda T, x: T.median(x[:, :0], 1), IndexError),
])
def test_errors_as_torch(fn, exc):
    torch = _torch()
    data = np.array([[1.0, 2.0, 4.0, 0.5], [0.0, 3.0, 2.0, -2.0]])
    with pytest.raises(exc):
        fn(torch, torch.tensor(data))
    with pytest.raises(exc):
        fn(tg, tg.tensor(data))

"""Parity with PyTorch for the top-level functions and Tensor methods of issue 12's "not yet
built" list: numeric helpers, index makers, legacy linalg spellings, nn ops at top level, the
random state, in-place fills and in-place shape changes."""
import warnings

import numpy as np
import pytest

import tapegrad as tg


def _torch():
    torch = pytest.importorskip("torch")
    warnings.filterwarnings("ignore", category=UserWarning)     # torch.lu/svd deprecations
    return torch


def _same(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-8)


def test_nan_to_num_isposinf_isneginf_match_torch():
    torch = _torch()
    a = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    for kw in ({}, {"nan": 2.0, "posinf": 9.0}, {"neginf": -1.0}):
        _same(tg.nan_to_num(tg.tensor(a), **kw), torch.nan_to_num(torch.tensor(a), **kw))
    assert tg.isposinf(tg.tensor(a)).tolist() == torch.isposinf(torch.tensor(a)).tolist()
    assert tg.isneginf(tg.tensor(a)).tolist() == torch.isneginf(torch.tensor(a)).tolist()
    x = tg.tensor(a, requires_grad=True)
    tg.nan_to_num(x).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_index_makers_and_bucketize_match_torch():
    torch = _torch()
    for args in ((3, 4), (4, 3, 1), (3, 3, -1), (0, 3)):
        assert tg.tril_indices(*args).tolist() == torch.tril_indices(*args).tolist()
        assert tg.triu_indices(*args).tolist() == torch.triu_indices(*args).tolist()
    b, v = [1, 3, 5, 7], [[0, 3], [6, 9]]
    for right in (False, True):
        got = tg.bucketize(tg.tensor(v), tg.tensor(b), right=right, out_int32=right)
        want = torch.bucketize(torch.tensor(v), torch.tensor(b), right=right, out_int32=right)
        assert got.tolist() == want.tolist() and str(got.dtype) == str(want.dtype)
    assert tg.repeat_interleave(tg.tensor([2, 0, 1])).tolist() == \
        torch.repeat_interleave(torch.tensor([2, 0, 1])).tolist()
    assert tg.broadcast_shapes((2, 1), 3, (1,)) == torch.broadcast_shapes((2, 1), 3, (1,))
    with pytest.raises(RuntimeError, match="Shape mismatch"):
        tg.broadcast_shapes((2,), (3,))


def test_legacy_linalg_matches_torch():
    torch = _torch()
    a = np.random.default_rng(0).standard_normal((2, 4, 3))
    U, S, V = tg.svd(tg.tensor(a))
    Ut, St, Vt = torch.svd(torch.tensor(a))
    _same(S, St)
    _same(U @ tg.diag_embed(S) @ V.mT, tg.tensor(a))
    U, S, V = tg.svd(tg.tensor(a), some=False, compute_uv=False)
    assert U.shape == (2, 4, 4) and V.shape == (2, 3, 3) and not U.numpy().any()
    Q, R = tg.qr(tg.tensor(a), some=False)
    assert Q.shape == torch.qr(torch.tensor(a), some=False)[0].shape
    sq = np.random.default_rng(1).standard_normal((3, 3, 3))
    _same(tg.logdet(tg.tensor(sq)), torch.logdet(torch.tensor(sq)))      # NaN where det < 0
    LU, piv, info = tg.lu(tg.tensor(sq), get_infos=True)
    LUt, pivt, infot = torch.lu(torch.tensor(sq), get_infos=True)
    _same(LU, LUt)
    assert piv.tolist() == pivt.tolist() and str(piv.dtype) == str(pivt.dtype)
    assert info.tolist() == infot.tolist()
    assert tg.linalg.matrix_rank(tg.ones(2, 3, 3)).tolist() == [1, 1]
    assert int(tg.linalg.matrix_rank(tg.eye(4), atol=0.5)) == 4


def test_nn_ops_at_top_level_match_torch():
    torch = _torch()
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 5)), rng.standard_normal((4, 3, 2))
    _same(tg.conv1d(tg.tensor(x), tg.tensor(w), padding=1),
          torch.conv1d(torch.tensor(x), torch.tensor(w), padding=1))
    _same(tg.layer_norm(tg.tensor(x), [5]), torch.layer_norm(torch.tensor(x), [5]))
    mean, var = np.zeros(3), np.ones(3)
    _same(tg.batch_norm(tg.tensor(x), None, None, tg.tensor(mean), tg.tensor(var), False, 0.1,
                        1e-5, False),
          torch.batch_norm(torch.tensor(x), None, None, torch.tensor(mean), torch.tensor(var),
                           False, 0.1, 1e-5, False))
    W = rng.standard_normal((6, 2))
    _same(tg.embedding(tg.tensor(W), tg.tensor([[0, 5], [2, 2]])),
          torch.embedding(torch.tensor(W), torch.tensor([[0, 5], [2, 2]])))
    p = rng.standard_normal((5, 3))
    for norm in (2, 1, 3.5):
        xt, xg = torch.tensor(p, requires_grad=True), tg.tensor(p, requires_grad=True)
        torch.pdist(xt, norm).sum().backward()
        tg.pdist(xg, norm).sum().backward()
        _same(xg.grad, xt.grad)
    assert tg.dropout(tg.ones(3), 0.5, False).tolist() == [1.0, 1.0, 1.0]
    assert tg.detach(tg.ones(2, requires_grad=True)).requires_grad is False


def test_rng_state_round_trips_and_randint_like():
    tg.manual_seed(123)
    assert tg.initial_seed() == 123
    state = tg.get_rng_state()
    a = tg.rand(4)
    tg.set_rng_state(state)
    assert tg.rand(4).tolist() == a.tolist()
    with pytest.raises(RuntimeError, match="set_rng_state"):
        tg.set_rng_state(tg.zeros(3))
    r = tg.randint_like(tg.zeros(2, 3), 2, 5)
    assert r.shape == (2, 3) and r.dtype == tg.float32
    assert ((r >= 2) & (r < 5)).all()


def test_random_fills_and_their_history():
    assert set(tg.zeros(200).random_(3, 7).tolist()) == {3.0, 4.0, 5.0, 6.0}
    ints = tg.zeros(100, dtype=tg.int32).random_(4)
    assert ints.dtype == tg.int32 and set(ints.tolist()) <= {0, 1, 2, 3}
    assert set(tg.zeros(100).bernoulli_(tg.full((100,), 0.5)).tolist()) == {0.0, 1.0}
    assert (tg.zeros(50).exponential_(2.0) > 0).all()
    x = tg.ones(4, requires_grad=True)
    y = x * 2
    y.exponential_()
    y.sum().backward()
    assert x.grad.tolist() == [0.0] * 4           # every element replaced: no gradient
    with pytest.raises(RuntimeError, match="random_"):
        tg.zeros(2).random_(5, 2)


def test_fill_diagonal_matches_torch():
    torch = _torch()
    for shape, wrap in (((3, 4), False), ((7, 3), True), ((7, 3), False), ((3, 3, 3), False)):
        _same(tg.zeros(*shape).fill_diagonal_(5.0, wrap), torch.zeros(*shape).fill_diagonal_(5.0, wrap))
    x, xt = tg.ones(3, 3, requires_grad=True), torch.ones(3, 3, requires_grad=True)
    (x * 3).fill_diagonal_(1.0).sum().backward()
    (xt * 3).fill_diagonal_(1.0).sum().backward()
    _same(x.grad, xt.grad)
    with pytest.raises(RuntimeError, match="equal length"):
        tg.zeros(2, 3, 3).fill_diagonal_(1)


def test_in_place_shape_changes_match_torch():
    torch = _torch()
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="leaf"):
            lib.ones(3, requires_grad=True).unsqueeze_(0)
    m = np.arange(6.0).reshape(3, 2)
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(m, requires_grad=True)
        y = x * 2
        y.t_()
        assert tuple(y.shape) == (2, 3)
        v = (x * 1)[0]
        v.unsqueeze_(0).squeeze_(0).unsqueeze_(1)
        assert tuple(v.shape) == (2, 1)
        (y * lib.tensor(m.T) + v.sum()).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(*grads)
    x = tg.ones(3, requires_grad=True) * 1
    y = x * x                  # saves x in its old shape
    x.unsqueeze_(0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    assert tg.ones(1, 3, 1).squeeze_(0).shape == (3, 1)


def test_new_methods_and_casts():
    torch = _torch()
    a = np.array([0.5, -1.5, 2.0])
    for name in ("short", "byte", "char"):
        got, want = getattr(tg.tensor(a), name)(), getattr(torch.tensor(a), name)()
        assert str(got.dtype) == str(want.dtype)
    for name in ("erf", "erfc", "exp2", "sgn"):
        _same(getattr(tg.tensor(a), name)(), getattr(torch.tensor(a), name)())
    _same(tg.tensor(a).logit(eps=0.1), torch.tensor(a).logit(eps=0.1))
    _same(tg.xlogy(tg.tensor(a), 2.0), torch.xlogy(torch.tensor(a), 2.0))
    spd = tg.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=tg.float64)
    _same(spd.cholesky(True), torch.tensor(spd.numpy()).cholesky(True))


def test_a_shape_change_in_place_on_a_base_with_views_is_refused():
    """Its views were taken from the old shape and would take their history from the new one
    after a later write: a clear error, never a wrong gradient."""
    x = tg.ones(3, requires_grad=True)
    b = x * 1
    v = b[1:]
    with pytest.raises(RuntimeError, match="has views"):
        b.unsqueeze_(0)
    assert b.shape == (3,) and v.shape == (2,)        # nothing changed before the error
    c = (x * 2)[1:]                                   # a view itself may change its shape
    c.unsqueeze_(0)
    c.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 2.0]

"""nn.Embedding / F.embedding against PyTorch: padding_idx, max_norm, scale_grad_by_freq,
from_pretrained, and sparse=True gradients (rows and values, accumulation, a dense use of the
same weight) consumed by optim.SGD and optim.SparseAdam over several steps."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.sparse import SparseGrad

torch = pytest.importorskip("torch")

V, D = 7, 3
IDX = np.array([[1, 2, 2, 6], [0, 6, 1, 4]])


def _weight(seed=0):
    return np.random.default_rng(seed).standard_normal((V, D))


def _pair(**kw):
    w = _weight()
    a, b = tg.nn.Embedding(V, D, **kw).double(), torch.nn.Embedding(V, D, **kw).double()
    b.weight.data = torch.tensor(w)
    a.load_state_dict(b.state_dict())
    return a, b


def _loss(lib, emb, idx=IDX, seed=1):
    c = np.random.default_rng(seed).standard_normal(idx.shape + (D,))
    return (emb(lib.tensor(idx)) ** 2 * lib.tensor(c)).sum()


def _dense(g):
    return (g.to_dense() if g.is_sparse else g).detach().numpy()


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("padding_idx", [None, 6, -1])
def test_sparse_gradient_matches_torch(padding_idx):
    a, b = _pair(sparse=True, padding_idx=padding_idx)
    for seed in (1, 2):          # two backward passes accumulate
        _loss(tg, a, seed=seed).backward()
        _loss(torch, b, seed=seed).backward()
        if seed == 1:            # one pass: PyTorch's uncoalesced rows and values
            ga, gb = a.weight.grad, b.weight.grad
            assert ga._indices().tolist() == gb._indices().tolist()
            _close(ga._values().numpy(), gb._values().numpy())
    ga, gb = a.weight.grad, b.weight.grad
    assert isinstance(ga, SparseGrad) and ga.is_sparse and gb.is_sparse
    assert not a.weight.is_sparse
    ca, cb = ga.coalesce(), gb.coalesce()
    assert ca.indices().tolist() == cb.indices().tolist()
    _close(ca.values().numpy(), cb.values().numpy())
    _close(ga.to_dense().numpy(), gb.to_dense().numpy())
    assert tuple(ga.shape) == (V, D) and ga.dtype == tg.float64


def test_sparse_output_is_an_ordinary_tensor():
    a, _ = _pair(sparse=True)
    out = a(tg.tensor(IDX))
    assert out.grad_fn is not None and out.requires_grad
    out += 1.0                          # in place on the output is fine
    out.sum().backward()
    _close(a.weight.grad.to_dense().numpy(), np.bincount(IDX.ravel(), minlength=V)[:, None]
           * np.ones(D))
    with tg.no_grad():
        assert not a(tg.tensor(IDX)).requires_grad


def test_sparse_and_dense_uses_of_one_weight():
    a, b = _pair(sparse=True)
    for lib, m in ((tg, a), (torch, b)):
        (_loss(lib, m) + (m.weight ** 3).sum() + _loss(lib, m, seed=4)).backward()
    _close(_dense(a.weight.grad), _dense(b.weight.grad))


@pytest.mark.parametrize("kw", [dict(), dict(momentum=0.9), dict(momentum=0.5, nesterov=True),
                                dict(maximize=True)])
def test_sgd_on_sparse_gradients(kw):
    a, b = _pair(sparse=True, padding_idx=2)
    oa, ob = tg.optim.SGD(a.parameters(), lr=0.1, **kw), torch.optim.SGD(b.parameters(), lr=0.1,
                                                                         **kw)
    untouched = a.weight.detach().numpy()[[3, 5]].copy()
    for step in range(3):
        for lib, m, o in ((tg, a, oa), (torch, b, ob)):
            o.zero_grad()
            _loss(lib, m, seed=step).backward()
            o.step()
        _close(a.weight.detach().numpy(), b.weight.detach().numpy())
    # rows 3 and 5 are never looked up: without momentum or decay they never change
    if not kw or kw == dict(maximize=True):
        assert np.array_equal(a.weight.detach().numpy()[[3, 5]], untouched)


@pytest.mark.parametrize("kw", [dict(), dict(betas=(0.5, 0.9), eps=1e-6), dict(maximize=True)])
def test_sparse_adam_matches_torch(kw):
    a, b = _pair(sparse=True, padding_idx=0)
    oa = tg.optim.SparseAdam(a.parameters(), lr=0.05, **kw)
    ob = torch.optim.SparseAdam(b.parameters(), lr=0.05, **kw)
    idxs = [IDX, np.array([[3, 3, 1]]), IDX[::-1].copy()]
    for step, idx in enumerate(idxs):
        for lib, m, o in ((tg, a, oa), (torch, b, ob)):
            o.zero_grad()
            _loss(lib, m, idx, seed=step).backward()
            o.step()
        _close(a.weight.detach().numpy(), b.weight.detach().numpy())
    sa, sb = oa.state[a.weight], ob.state[b.weight]
    assert sa["step"] == sb["step"] == 3
    _close(sa["exp_avg_sq"].numpy(), sb["exp_avg_sq"].numpy())


def test_model_with_sparse_embedding_trains_like_torch():
    torch.manual_seed(0)
    tb = torch.nn.Sequential(torch.nn.Embedding(V, D, sparse=True), torch.nn.Flatten(),
                             torch.nn.Linear(4 * D, 2)).double()
    ta = tg.nn.Sequential(tg.nn.Embedding(V, D, sparse=True), tg.nn.Flatten(),
                          tg.nn.Linear(4 * D, 2)).double()
    ta.load_state_dict(tb.state_dict())
    y = np.array([0, 1])
    opts = [(tg, ta, tg.optim.SGD(ta.parameters(), lr=0.2)),
            (torch, tb, torch.optim.SGD(tb.parameters(), lr=0.2))]
    for _ in range(4):
        for lib, m, o in opts:
            o.zero_grad()
            lib.nn.functional.cross_entropy(m(lib.tensor(IDX)), lib.tensor(y)).backward()
        for pa, pb in zip(ta.parameters(), tb.parameters()):
            _close(_dense(pa.grad), _dense(pb.grad))
        for _, _, o in opts:
            o.step()
    for pa, pb in zip(ta.parameters(), tb.parameters()):
        _close(pa.detach().numpy(), pb.detach().numpy())


def test_sparse_errors():
    a, _ = _pair(sparse=True)
    _loss(tg, a).backward()
    with pytest.raises(RuntimeError, match="sparse"):
        tg.optim.Adam(a.parameters()).step()
    with pytest.raises(RuntimeError, match="weight_decay"):
        tg.optim.SGD(a.parameters(), lr=0.1, weight_decay=0.1).step()
    with pytest.raises(RuntimeError, match="coalesce"):
        a.weight.grad.indices()
    tg.optim.SGD(a.parameters(), lr=0.1).zero_grad(set_to_none=False)
    assert a.weight.grad._nnz() == 0
    _loss(tg, a).backward()
    a.zero_grad(set_to_none=False)
    assert a.weight.grad._nnz() == 0 and "nnz=0" in repr(a.weight.grad)
    d, _ = _pair()
    _loss(tg, d).backward()
    with pytest.raises(RuntimeError, match="dense gradients"):
        tg.optim.SparseAdam(d.parameters()).step()
    with pytest.raises(ValueError, match="learning rate"):
        tg.optim.SparseAdam(d.parameters(), lr=0)
    f, _ = _pair(sparse=True, scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq"):
        _loss(tg, f)
    x = tg.tensor(_weight(), requires_grad=True)
    out = tg.nn.functional.embedding(tg.tensor(IDX), x, sparse=True)
    with pytest.raises(RuntimeError, match="create_graph"):
        tg.autograd.grad((out ** 3).sum(), out, create_graph=True)[0].sum().backward(
            create_graph=True)


# ---- the dense options, against PyTorch ---------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(padding_idx=2), dict(scale_grad_by_freq=True),
                                dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0),
                                dict(padding_idx=6, scale_grad_by_freq=True)])
def test_dense_options_match_torch(kw):
    a, b = _pair(**kw)
    _loss(tg, a).backward()
    _loss(torch, b).backward()
    _close(a.weight.detach().numpy(), b.weight.detach().numpy())      # max_norm renormalises
    _close(a.weight.grad.numpy(), b.weight.grad.numpy())


@pytest.mark.parametrize("freeze", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_from_pretrained(freeze, sparse):
    w = _weight()
    a = tg.nn.Embedding.from_pretrained(tg.tensor(w), freeze=freeze, padding_idx=1,
                                        sparse=sparse)
    b = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze, padding_idx=1,
                                           sparse=sparse)
    assert a.weight.requires_grad == b.weight.requires_grad == (not freeze)
    assert a.padding_idx == b.padding_idx == 1
    _close(a(tg.tensor(IDX)).detach().numpy(), b(torch.tensor(IDX)).detach().numpy())
    if not freeze:
        _loss(tg, a).backward()
        _loss(torch, b).backward()
        _close(_dense(a.weight.grad), _dense(b.weight.grad))


def test_grad_and_backward_inputs_refuse_a_sparse_lookup_weight_rather_than_answer_none():
    """The sparse path reaches weight.grad through a hook the engine cannot follow: asking
    autograd.grad (even with allow_unused) or backward(inputs=) for the weight must fail."""
    emb = tg.nn.Embedding(5, 3, sparse=True)
    loss = emb(tg.tensor([1, 2])).sum()
    for kw in ({}, {"allow_unused": True}):
        with pytest.raises(RuntimeError, match="sparse=True"):
            tg.autograd.grad(loss, [emb.weight], retain_graph=True, **kw)
    with pytest.raises(RuntimeError, match="sparse=True"):
        loss.backward(inputs=[emb.weight], retain_graph=True)
    loss.backward()
    assert emb.weight.grad.is_sparse

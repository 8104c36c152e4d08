"""F.scaled_dot_product_attention (the fused primitive ops/attention.py) against PyTorch:
outputs and the gradients of q, k, v and a float mask; bool masks, causal, scale, fully masked
rows, grouped-query attention, dropout reusing its mask in backward, double backward refused."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import gradcheck

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
Q, K, V = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 6, 5)), \
    RNG.standard_normal((2, 3, 6, 7))
FLOAT_MASK = RNG.standard_normal((4, 6))
BOOL_MASK = RNG.random((2, 1, 4, 6)) > 0.4
BOOL_MASK[0, 0, 1] = False           # a row where no key takes part


def _run(lib, arrays, mask=None, mask_grad=False, dtype=np.float64, **kw):
    ts = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    m = None if mask is None else lib.tensor(mask if mask.dtype == bool else mask.astype(dtype),
                                             requires_grad=mask_grad)
    out = lib.nn.functional.scaled_dot_product_attention(*ts, attn_mask=m, **kw)
    g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype)
    out.backward(lib.tensor(g))
    grads = [t.grad.numpy() for t in ts] + ([m.grad.numpy()] if mask_grad else [])
    return [out.detach().numpy()] + grads


def _same(ours, theirs, rtol=1e-10, atol=1e-12):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.dtype == b.dtype and a.shape == b.shape, i
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"result {i}")


@pytest.mark.parametrize("kw", [{}, dict(is_causal=True), dict(scale=0.25),
                                dict(mask=FLOAT_MASK, mask_grad=True),
                                dict(mask=BOOL_MASK), dict(mask=BOOL_MASK, scale=2.0)],
                         ids=["plain", "causal", "scale", "float_mask", "bool_mask",
                              "bool_mask_scale"])
def test_matches_torch_float64(kw):
    _same(_run(tg, (Q, K, V), **kw), _run(torch, (Q, K, V), **kw))


def test_float32_and_broadcast_batch():
    arrays = (Q[:, :1], K, V)            # one query head broadcast against three
    ours = _run(tg, arrays, dtype=np.float32, mask=FLOAT_MASK, mask_grad=True)
    theirs = _run(torch, arrays, dtype=np.float32, mask=FLOAT_MASK, mask_grad=True)
    _same(ours, theirs, rtol=1e-4, atol=1e-5)


def test_grouped_query_attention():
    k, v = K[:, :1], V[:, :1]
    _same(_run(tg, (Q, k, v), enable_gqa=True), _run(torch, (Q, k, v), enable_gqa=True))


def test_unbatched_and_self_attention_gradcheck():
    x = tg.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    f = tg.nn.functional.scaled_dot_product_attention
    assert gradcheck(lambda a: f(a, a * 0.5, a, is_causal=True), (x,))


def test_dropout_reuses_its_mask_in_backward():
    f = tg.nn.functional.scaled_dot_product_attention
    q, k = (tg.tensor(a, requires_grad=True) for a in (Q[:1, :1], K[:1, :1]))
    eye = tg.tensor(np.eye(6)[None, None], requires_grad=True)
    tg.manual_seed(3)
    w = f(q, k, eye, dropout_p=0.4)        # value = identity: the output is the weights
    kept = w.detach().numpy() != 0
    assert 0 < kept.mean() < 1
    g = np.random.default_rng(2).standard_normal(w.shape)
    w.backward(tg.tensor(g))
    np.testing.assert_allclose(eye.grad.numpy(), np.swapaxes(w.detach().numpy(), -1, -2) @ g)

    def seeded(q, k):
        tg.manual_seed(3)
        return f(q, k, tg.tensor(V[:1, :1]), dropout_p=0.4)
    assert gradcheck(seeded, (q, k))


def test_float_mask_gradcheck_with_a_masked_row():
    f = tg.nn.functional.scaled_dot_product_attention
    m = FLOAT_MASK.copy()
    m[2] = -np.inf
    q, k, v = (tg.tensor(a[0], requires_grad=True) for a in (Q, K, V))
    out = f(q, k, v, attn_mask=tg.tensor(m))
    assert np.all(out.detach().numpy()[:, 2] == 0)
    assert gradcheck(lambda q, k, v: f(q, k, v, attn_mask=tg.tensor(m)), (q, k, v))


def test_double_backward_is_refused():
    q = tg.tensor(Q, requires_grad=True)
    out = tg.nn.functional.scaled_dot_product_attention(q, tg.tensor(K), tg.tensor(V))
    (g,) = tg.autograd.grad(out.sum(), q)          # a plain first-order gradient works
    assert g.shape == q.shape
    out = tg.nn.functional.scaled_dot_product_attention(q, tg.tensor(K), tg.tensor(V))
    with pytest.raises(RuntimeError, match="double backward"):
        tg.autograd.grad(out.sum(), q, create_graph=True)


def test_errors():
    f = tg.nn.functional.scaled_dot_product_attention
    q = tg.tensor(Q)
    with pytest.raises(RuntimeError, match="is_causal"):
        f(q, q, q, attn_mask=tg.tensor(FLOAT_MASK), is_causal=True)
    with pytest.raises(RuntimeError):
        f(q, tg.tensor(K[..., :3]), tg.tensor(V))
    with pytest.raises(ValueError, match="dropout"):
        f(q, q, q, dropout_p=1.5)

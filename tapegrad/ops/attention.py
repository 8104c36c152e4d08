"""Scaled dot-product attention as one fused primitive: softmax(q k^T * scale + mask) v.

The forward saves the attention probabilities (its second output) and the VJP reuses them:
no score matrix is recomputed. Masks: a bool mask (True = takes part) or a float mask (added
to the scores, differentiable); `causal` keeps the lower-left triangle. Rows where every key
is masked out give zero probabilities and a zero output, as PyTorch's scaled_dot_product_attention
does. A dropout mask (already scaled by 1/(1-p)) is drawn by the caller and passed in, so
backward reuses exactly the forward's.
"""
import weakref

import numpy as np

from .._tensor import Tensor
from ..primitives import primitive, defvjp


def _scores(q, k, mask, scale, causal):
    s = np.matmul(q, np.swapaxes(k, -1, -2))
    s *= s.dtype.type(scale)
    allowed = None
    if causal:
        n_q, n_k = s.shape[-2:]
        allowed = np.tril(np.ones((n_q, n_k), bool))
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype == bool:
            allowed = m if allowed is None else allowed & m
        else:
            s = s + m.astype(s.dtype, copy=False)
    if allowed is not None:
        s = np.where(allowed, s, s.dtype.type(-np.inf))
    return s


def _safe_softmax(s):
    """Softmax over the last axis, the maximum subtracted first; rows that are all -inf give
    zeros (no key takes part)."""
    m = s.max(-1, keepdims=True)
    dead = ~np.isfinite(m)
    if dead.any():
        m = np.where(dead, 0, m)
    p = np.exp(s - m)
    total = p.sum(-1, keepdims=True)
    if dead.any():
        total = np.where(dead, 1, total)
        p = np.where(dead, 0, p)
    p /= total
    return p


@primitive("scaled_dot_product_attention", n_out=2, uses_out=(1,), raw=True,
           grad_fn="ScaledDotProductAttentionBackward0")
def sdpa(query, key, value, attn_mask=None, dropout_mask=None, scale=1.0, causal=False):
    """(output, attention probabilities before dropout): query (..., L, E), key (..., S, E),
    value (..., S, Ev); `dropout_mask` (..., L, S) holds 0 or 1/(1-p) per probability."""
    q, k, v = np.asarray(query), np.asarray(key), np.asarray(value)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must have at "
                           f"least 2 dimensions, got {q.ndim}, {k.ndim}, {v.ndim}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: shapes do not fit: query "
                           f"{list(q.shape)}, key {list(k.shape)}, value {list(v.shape)}")
    p = _safe_softmax(_scores(q, k, attn_mask, scale, causal))
    if q.dtype != p.dtype:
        p = p.astype(q.dtype)
    weights = p if dropout_mask is None else p * np.asarray(dropout_mask).astype(p.dtype)
    return np.matmul(weights, v), p


_cache = {}


def _refuse(g):
    if isinstance(g[0], Tensor):
        raise RuntimeError("scaled_dot_product_attention: double backward is not supported "
                           "(its fused gradient is not differentiable in tapegrad); call "
                           "backward without create_graph")


def _dscores(g, out, value, dropout_mask):
    """The cotangent of the scaled scores (before the scale), shared by the q, k and mask
    rules of one backward step (kept while that step's cotangent lives)."""
    _refuse(g)
    g_out, g_p = g
    p = out[1]
    hit = _cache.get("last")
    if hit is not None and hit[0]() is g_out and hit[1]() is p:
        return hit[2]
    dp = np.matmul(g_out, np.swapaxes(np.asarray(value), -1, -2))
    if dropout_mask is not None:
        dp *= np.asarray(dropout_mask).astype(dp.dtype)
    dp += g_p
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    try:
        _cache["last"] = (weakref.ref(g_out, lambda _: _cache.pop("last", None)),
                          weakref.ref(p), ds)
    except TypeError:
        pass
    return ds


def _dq(g, out, query, key, value, attn_mask=None, dropout_mask=None, scale=1.0,
        causal=False):
    ds = _dscores(g, out, value, dropout_mask)
    return np.matmul(ds, np.asarray(key)) * ds.dtype.type(scale)


def _dk(g, out, query, key, value, attn_mask=None, dropout_mask=None, scale=1.0,
        causal=False):
    ds = _dscores(g, out, value, dropout_mask)
    return np.matmul(np.swapaxes(ds, -1, -2), np.asarray(query)) * ds.dtype.type(scale)


def _dv(g, out, query, key, value, attn_mask=None, dropout_mask=None, scale=1.0,
        causal=False):
    _refuse(g)
    p = out[1]
    weights = p if dropout_mask is None else p * np.asarray(dropout_mask).astype(p.dtype)
    return np.matmul(np.swapaxes(weights, -1, -2), g[0])


def _dmask(g, out, query, key, value, attn_mask=None, dropout_mask=None, scale=1.0,
           causal=False):
    return _dscores(g, out, value, dropout_mask)


defvjp(sdpa, _dq, _dk, _dv, _dmask, None)

"""torch.nn.functional.scaled_dot_product_attention and torch.nn.MultiheadAttention, both on
the fused primitive `ops.attention.sdpa` (one forward, one VJP, probabilities saved)."""
import math

import numpy as np

from .. import creation
from .._tensor import Tensor
from ..ops.arrange import repeat_interleave
from ..ops.attention import sdpa
from . import init
from .linear import Linear, linear
from .module import Module
from .parameter import Parameter


def _attend(query, key, value, attn_mask, dropout_p, scale, causal):
    """(output, attention weights after dropout) of the fused primitive; the dropout mask is
    drawn here, once, and handed to the primitive so that backward reuses it."""
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    drop = None
    if dropout_p > 0:
        batch = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
        shape = batch + (query.shape[-2], key.shape[-2])
        dt = query._data.dtype
        if dropout_p == 1:
            drop = np.zeros(shape, dt)
        else:
            keep = creation.numpy_rng(None).random(shape) >= dropout_p
            drop = keep.astype(dt) * dt.type(1 / (1 - dropout_p))
    out, probs = sdpa(query, key, value, attn_mask, drop, scale=scale, causal=causal)
    return out, (probs if drop is None else probs * creation.tensor(drop))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """Attention softmax(q k^T * scale + mask) v (torch.nn.functional.scaled_dot_product_attention).

    ``query`` is (..., L, E), ``key`` (..., S, E) and ``value`` (..., S, Ev); the result is
    (..., L, Ev). ``attn_mask`` is a bool mask (True = takes part) or a float mask (added to
    the scores), broadcast to (..., L, S); ``is_causal`` masks the upper triangle instead (not
    with attn_mask). ``dropout_p`` drops attention probabilities; ``scale`` defaults to
    1/sqrt(E); ``enable_gqa`` lets key and value have fewer heads (dim -3) than query
    (grouped-query attention).
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: _scaled_dot_product_attention: "
                           "Explicit attn_mask should not be set when is_causal=True")
    if isinstance(attn_mask, Tensor) and attn_mask._data.dtype != np.bool_ and \
            attn_mask._data.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask must be bool or float, "
                           f"got {attn_mask._data.dtype}")
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hk <= 0 or hq % hk or value.shape[-3] != hk:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the number of "
                               f"query heads ({hq}) must be a multiple of the key/value heads "
                               f"({hk}, {value.shape[-3]})")
        key = repeat_interleave(key, hq // hk, dim=-3)
        value = repeat_interleave(value, hq // hk, dim=-3)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return _attend(query, key, value, attn_mask, dropout_p, scale, is_causal)[0]


def _float_mask(mask, dtype, what):
    """PyTorch's canonical mask: a bool mask (True = masked out) becomes 0 / -inf."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = creation.tensor(mask)
    a = mask._data
    if a.dtype == np.bool_:
        return creation.tensor(np.where(a, dtype.type(-np.inf), dtype.type(0)))
    if a.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {what} are supported")
    return mask


class MultiheadAttention(Module):
    """Multi-head attention with input and output projections (torch.nn.MultiheadAttention).

    ``embed_dim`` is split over ``num_heads`` heads (it must be divisible by them);
    ``dropout`` applies to the attention weights in training; ``bias`` adds biases to the
    projections; ``kdim`` and ``vdim`` are the key and value feature sizes (default
    embed_dim); ``batch_first`` takes (N, L, E) instead of (L, N, E). ``add_bias_kv`` and
    ``add_zero_attn`` are not supported (True raises ValueError). ``device`` and ``dtype``
    place the parameters.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if add_bias_kv or add_zero_attn:
            raise ValueError("MultiheadAttention: add_bias_kv=True and add_zero_attn=True are "
                             "not supported by tapegrad")
        super().__init__()
        kw = dict(dtype=dtype, device=device)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        assert self.head_dim * num_heads == embed_dim, "embed_dim must be divisible by num_heads"
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(creation.empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(creation.empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(creation.empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(creation.empty((3 * embed_dim, embed_dim), **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **kw)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _projections(self):
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None,) * 3 if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return ws, bs

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` over ``key`` / ``value``; returns (output, weights).

        ``query`` is (L, N, E) ((N, L, E) with batch_first, or unbatched (L, E)); ``key`` and
        ``value`` are (S, N, kdim) and (S, N, vdim). ``key_padding_mask`` (N, S) marks padded keys
        (True or -inf = ignored); ``attn_mask`` (L, S) or (N * num_heads, L, S) masks pairs;
        ``is_causal`` hints that attn_mask is causal. With ``need_weights`` the attention weights
        are returned too, averaged over heads if ``average_attn_weights`` (else per head), or None.
        """
        batched = query.dim() == 3
        if query.dim() not in (2, 3) or key.dim() != query.dim() or value.dim() != query.dim():
            raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but "
                                 f"received {query.dim()}-D query, {key.dim()}-D key and "
                                 f"{value.dim()}-D value")
        if self.batch_first and batched:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if not batched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        out, weights = self._attention(query, key, value, key_padding_mask, need_weights,
                                       attn_mask, average_attn_weights, is_causal)
        if not batched:
            out = out.squeeze(1)
            weights = None if weights is None else weights.squeeze(0)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _mask(self, attn_mask, key_padding_mask, n, tgt, src, dtype):
        h = self.num_heads
        am = _float_mask(attn_mask, dtype, "attn_mask")
        if am is not None:
            if am.dim() == 2:
                if tuple(am.shape) != (tgt, src):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(am.shape)}, "
                                       f"but should be {(tgt, src)}.")
            elif am.dim() == 3:
                if tuple(am.shape) != (n * h, tgt, src):
                    raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(am.shape)}, "
                                       f"but should be {(n * h, tgt, src)}.")
                am = am.reshape(n, h, tgt, src)
            else:
                raise RuntimeError(f"attn_mask's dimension {am.dim()} is not supported")
        kpm = _float_mask(key_padding_mask, dtype, "key_padding_mask")
        if kpm is not None:
            if tuple(kpm.shape) != (n, src):
                raise AssertionError(f"expecting key_padding_mask shape of {(n, src)}, but got "
                                     f"{tuple(kpm.shape)}")
            kpm = kpm.reshape(n, 1, 1, src)
            am = kpm if am is None else am + kpm
        return am

    def _attention(self, query, key, value, key_padding_mask, need_weights, attn_mask,
                   average, is_causal):
        tgt, n, e = query.shape
        src = key.shape[0]
        if e != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {e}")
        if key.shape[:2] != value.shape[:2] or key.shape[1] != n:
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                                 f"{tuple(value.shape)} or the batch of query {n}")
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        h, hd = self.num_heads, self.head_dim
        # 2-D inputs to the projections: one addmm each (a 3-D matmul's weight gradient would
        # go through a per-batch product summed afterwards)
        if query is key and key is value and self._qkv_same_embed_dim:
            qkv = linear(query.reshape(tgt * n, e), self.in_proj_weight, self.in_proj_bias)
            q, k, v = qkv.reshape(tgt, n, 3, h, hd).permute(2, 1, 3, 0, 4).unbind(0)
        else:
            (wq, wk, wv), (bq, bk, bv) = self._projections()
            q = linear(query.reshape(tgt * n, e), wq, bq).reshape(tgt, n, h, hd)
            k = linear(key.reshape(src * n, -1), wk, bk).reshape(src, n, h, hd)
            v = linear(value.reshape(src * n, -1), wv, bv).reshape(src, n, h, hd)
            q, k, v = (t.permute(1, 2, 0, 3) for t in (q, k, v))
        mask = self._mask(attn_mask, key_padding_mask, n, tgt, src, query._data.dtype)
        p = self.dropout if self.training else 0.0
        out, weights = _attend(q, k, v, mask, p, 1.0 / math.sqrt(hd), False)
        out = out.permute(2, 0, 1, 3).reshape(tgt * n, e)
        out = linear(out, self.out_proj.weight, self.out_proj.bias).reshape(tgt, n, e)
        if not need_weights:
            return out, None
        return out, (weights.mean(dim=1) if average else weights)

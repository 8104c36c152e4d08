"""Op-table rows for tapegrad/ops/attention.py: scaled_dot_product_attention with no mask, a
float mask (differentiated too), a bool mask, causal and an explicit scale, against a NumPy
softmax(q k^T * scale + mask) v; first order only (double backward is refused)."""
import numpy as np

from .case import OpCase

BOOL_MASK = np.array([[True, False, True, True, False],
                      [False, True, True, False, True],
                      [True, True, False, False, True],
                      [False, False, False, True, True]])
SHAPES = [((2, 4, 3), (2, 5, 3), (2, 5, 2))]


def attention_ref(q, k, v, mask=None, scale=None, causal=False):
    s = q @ np.swapaxes(k, -1, -2) * (1 / np.sqrt(q.shape[-1]) if scale is None else scale)
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def _sdpa(T, *args, **kw):
    return T.nn.functional.scaled_dot_product_attention(*args, **kw)


ROWS = [
    OpCase("sdpa", lambda T, q, k, v: _sdpa(T, q, k, v), attention_ref, shapes=SHAPES,
           second=False),
    OpCase("sdpa_float_mask", lambda T, q, k, v, m: _sdpa(T, q, k, v, attn_mask=m),
           attention_ref, shapes=[SHAPES[0] + ((4, 5),)], second=False),
    OpCase("sdpa_bool_mask",
           lambda T, q, k, v: _sdpa(T, q, k, v, attn_mask=T.tensor(BOOL_MASK)),
           lambda q, k, v: attention_ref(q, k, v, BOOL_MASK), shapes=SHAPES, second=False),
    OpCase("sdpa_causal_scale",
           lambda T, q, k, v: _sdpa(T, q, k, v, is_causal=True, scale=0.7),
           lambda q, k, v: attention_ref(q, k, v, scale=0.7, causal=True),
           shapes=[((2, 1, 4, 3), (2, 1, 4, 3), (2, 1, 4, 2))], second=False),
]

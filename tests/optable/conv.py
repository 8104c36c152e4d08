"""Op-table rows for the fused network primitives (ops/conv.py, ops/pool.py, ops/nn.py) and the
nn.functional layers built on them.

Each fused primitive appears with the geometries that take different code paths (stride 1 and
strided convolutions, tiling and overlapping pooling windows), and its VJP primitives appear
through rows that return a gradient computed with create_graph=True, so the table also checks
their own derivatives. NumPy references are written the plain way (windows and einsum).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import special

from .case import OpCase, away_from_zero, distinct, positive


def F(T):
    return T.nn.functional


def ints(high, ignore=None):
    """int64 class indices in [0, high); with `ignore`, that value at every third place."""
    def sample(rng, shape):
        t = rng.integers(0, high, shape)
        if ignore is not None:
            t.reshape(-1)[::3] = ignore
        return t
    return sample


def probabilities(rng, shape):
    return rng.uniform(0.1, 0.9, shape)


def grad_of(f, wrt=0):
    """fn(T, *xs, g): the VJP of f at xs for cotangent g, w.r.t. input `wrt`, kept
    differentiable (create_graph), so the backward primitives get their own checks."""
    def fn(T, *args):
        *xs, g = args
        out = f(T, *xs)
        return T.autograd.grad(out, xs[wrt], g, create_graph=True)[0]
    return fn


# ---- NumPy references ------------------------------------------------------------------------
def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    s, d = _pair(stride), _pair(dilation)
    p = _pair(padding)
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    O, Cg, kh, kw = w.shape
    win = sliding_window_view(x, (d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1), axis=(2, 3))
    win = win[:, :, ::s[0], ::s[1], ::d[0], ::d[1]]          # (N, C, Ho, Wo, kh, kw)
    outs = [np.einsum("nchwij,ocij->nohw", win[:, g * Cg:(g + 1) * Cg],
                      w[g * (O // groups):(g + 1) * (O // groups)]) for g in range(groups)]
    out = np.concatenate(outs, axis=1)
    return out if b is None else out + b[:, None, None]


def pool_ref(x, k, s, p, reduce, fill):
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    return reduce(sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s], axis=(4, 5))


def batch_norm_ref(x, w, b, eps=1e-5):
    dims = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - x.mean(dims, keepdims=True)) / np.sqrt(x.var(dims, keepdims=True) + eps)
    return xhat * w.reshape(shape) + b.reshape(shape)


def nll_ref(logp, t, weight=None, ignore=-100, reduction="mean"):
    keep = t != ignore
    safe = np.where(keep, t, 0)
    w = (np.ones(logp.shape[1]) if weight is None else weight)[safe] * keep
    loss = -np.take_along_axis(logp, safe[:, None], 1)[:, 0] * w
    return {"none": loss, "sum": loss.sum(), "mean": loss.sum() / w.sum()}[reduction]


def layer_norm_ref(x, w, b, k):
    dims = tuple(range(-k, 0))
    return (x - x.mean(dims, keepdims=True)) / np.sqrt(x.var(dims, keepdims=True) + 1e-5) * w + b


# ---- convolution -----------------------------------------------------------------------------
CONV = [
    # name, input, weight, kwargs
    ("conv2d", (2, 3, 5, 5), (4, 3, 3, 3), {}),
    ("conv2d_padded", (2, 2, 4, 5), (3, 2, 3, 2), {"padding": 1}),
    ("conv2d_strided", (2, 2, 6, 7), (3, 2, 2, 3), {"stride": (2, 1), "padding": (1, 2),
                                                    "dilation": (1, 2)}),
    ("conv2d_dilated", (1, 2, 6, 6), (2, 2, 2, 2), {"dilation": 2, "padding": 2}),
    ("conv2d_groups", (1, 4, 5, 5), (6, 2, 3, 3), {"groups": 2, "stride": 2}),
    ("conv2d_depthwise", (2, 3, 4, 4), (3, 1, 3, 3), {"groups": 3, "padding": 1}),
    ("conv2d_1x1", (2, 3, 3, 3), (2, 3, 1, 1), {}),
]


def conv_rows():
    rows = []
    for name, xs, ws, kw in CONV:
        rows.append(OpCase(name, lambda T, x, w, b, kw=kw: F(T).conv2d(x, w, b, **kw),
                           lambda x, w, b, kw=kw: conv_ref(x, w, b, **kw), [(xs, ws, ws[:1])]))
    return rows + [
        OpCase("conv2d_nobias", lambda T, x, w: F(T).conv2d(x, w, padding="valid"), conv_ref,
               [((2, 2, 4, 4), (3, 2, 2, 2))]),
        OpCase("conv2d_same_even", lambda T, x, w: F(T).conv2d(x, w, padding="same"), None,
               [((1, 2, 5, 6), (2, 2, 2, 4)), ((1, 1, 4, 4), (1, 1, 3, 3))]),
        OpCase("conv2d_same_dilated", lambda T, x, w: F(T).conv2d(x, w, padding="same",
                                                                  dilation=(2, 1)),
               None, [((1, 2, 5, 6), (2, 2, 2, 3))]),
        OpCase("conv2d_unbatched", lambda T, x, w, b: F(T).conv2d(x, w, b, padding=1),
               lambda x, w, b: conv_ref(x[None], w, b, padding=1)[0],
               [((2, 4, 4), (3, 2, 3, 3), (3,))]),
        # the VJPs are primitives of their own (a transposed convolution, a correlation):
        # returning them with create_graph puts their own VJPs through the checks
        OpCase("conv2d_input_grad", grad_of(lambda T, x, w: F(T).conv2d(x, w, padding=1)),
               None, [((2, 2, 4, 4), (3, 2, 3, 3), (2, 3, 4, 4))]),
        OpCase("conv2d_input_grad_strided",
               grad_of(lambda T, x, w: F(T).conv2d(x, w, stride=2, padding=1, groups=2)), None,
               [((1, 4, 5, 5), (2, 2, 3, 3), (1, 2, 3, 3))]),
        OpCase("conv2d_weight_grad", grad_of(lambda T, x, w: F(T).conv2d(x, w, padding=1), 1),
               None, [((2, 2, 4, 4), (3, 2, 3, 3), (2, 3, 4, 4))]),
        OpCase("conv2d_weight_grad_strided",
               grad_of(lambda T, x, w: F(T).conv2d(x, w, stride=(2, 1), dilation=(1, 2)), 1),
               None, [((1, 2, 5, 6), (2, 2, 2, 2), (1, 2, 2, 4))]),
        OpCase("linear", lambda T, x, w, b: F(T).linear(x, w, b), lambda x, w, b: x @ w.T + b,
               [((2, 3), (4, 3), (4,)), ((2, 5, 3), (4, 3), (4,))]),
    ]


# ---- pooling ---------------------------------------------------------------------------------
def pool_rows():
    mx = lambda **kw: lambda T, x: F(T).max_pool2d(x, **kw)  # noqa: E731
    avg = lambda **kw: lambda T, x: F(T).avg_pool2d(x, **kw)  # noqa: E731
    return [
        # distinct values: no ties, so finite differences see the same argmax
        OpCase("max_pool2d", mx(kernel_size=2), lambda x: pool_ref(x, 2, 2, 0, np.max, -np.inf),
               [((2, 3, 4, 6),), ((1, 2, 5, 5),)], distinct),
        OpCase("max_pool2d_overlap", mx(kernel_size=3, stride=2, padding=1),
               lambda x: pool_ref(x, 3, 2, 1, np.max, -np.inf), [((2, 2, 5, 6),)], distinct),
        OpCase("max_pool2d_dilated_ceil", mx(kernel_size=(2, 3), stride=2, dilation=(2, 1),
                                             ceil_mode=True), None, [((1, 2, 7, 6),)], distinct),
        OpCase("max_pool2d_unbatched", mx(kernel_size=2, stride=1), None, [((2, 3, 3),)],
               distinct),
        OpCase("max_pool2d_indices", lambda T, x: F(T).max_pool2d(x, 3, 2, 1,
                                                                  return_indices=True),
               None, [((1, 2, 5, 5),)], distinct),
        OpCase("max_pool2d_backward", grad_of(lambda T, x: F(T).max_pool2d(x, 3, 2, 1)),
               None, [((1, 2, 5, 5), (1, 2, 3, 3))], distinct),
        # the backward's own backward (a gather at the argmax) as a forward
        OpCase("max_pool2d_double_backward",
               lambda T, x, g, h: T.autograd.grad(
                   T.autograd.grad(F(T).max_pool2d(x, 2), x, g, create_graph=True)[0], g, h,
                   create_graph=True)[0],
               None, [((1, 2, 4, 4), (1, 2, 2, 2), (1, 2, 4, 4))], distinct),
        OpCase("avg_pool2d", avg(kernel_size=2), lambda x: pool_ref(x, 2, 2, 0, np.mean, 0),
               [((2, 3, 4, 6),)]),
        OpCase("avg_pool2d_padded", avg(kernel_size=3, stride=2, padding=1),
               lambda x: pool_ref(x, 3, 2, 1, np.mean, 0), [((1, 2, 5, 6),)]),
        OpCase("avg_pool2d_exclude_pad_ceil", avg(kernel_size=3, stride=2, padding=1,
                                                  ceil_mode=True, count_include_pad=False),
               None, [((1, 2, 6, 5),)]),
        OpCase("avg_pool2d_divisor", avg(kernel_size=2, stride=1, divisor_override=3), None,
               [((1, 1, 3, 4),)]),
        OpCase("avg_pool2d_backward", grad_of(lambda T, x: F(T).avg_pool2d(x, 3, 2, 1)), None,
               [((1, 2, 5, 5), (1, 2, 3, 3))]),
        OpCase("adaptive_avg_pool2d", lambda T, x: F(T).adaptive_avg_pool2d(x, (3, 2)), None,
               [((2, 2, 5, 7),), ((1, 1, 6, 4),)]),
        OpCase("adaptive_avg_pool2d_global", lambda T, x: F(T).adaptive_avg_pool2d(x, 1),
               lambda x: x.mean((2, 3), keepdims=True), [((2, 3, 3, 4),)]),
    ]


# ---- normalization ---------------------------------------------------------------------------
def norm_rows():
    bn = lambda T, x, w, b: F(T).batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    return [
        OpCase("batch_norm_train", bn, batch_norm_ref,
               [((4, 3), (3,), (3,)), ((2, 3, 2, 2), (3,), (3,)), ((3, 2, 4), (2,), (2,))]),
        OpCase("batch_norm_train_no_affine",
               lambda T, x: F(T).batch_norm(x, None, None, training=True, eps=1e-3),
               lambda x: batch_norm_ref(x, np.ones(x.shape[1]), np.zeros(x.shape[1]), 1e-3),
               [((3, 2, 2, 2),)]),
        OpCase("batch_norm_eval",
               lambda T, x, w, b, m, v: F(T).batch_norm(x, m, v, w, b, training=False),
               lambda x, w, b, m, v: ((x - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-5)
                                      * w[:, None, None] + b[:, None, None]),
               [((2, 3, 2, 2), (3,), (3,), (3,), (3,))],
               make={3: lambda rng, s: rng.standard_normal(s), 4: positive}),
        OpCase("layer_norm", lambda T, x, w, b: F(T).layer_norm(x, (3, 4), w, b),
               lambda x, w, b: layer_norm_ref(x, w, b, 2), [((2, 3, 4), (3, 4), (3, 4))]),
        OpCase("layer_norm_last", lambda T, x, w, b: F(T).layer_norm(x, (4,), w, b),
               lambda x, w, b: layer_norm_ref(x, w, b, 1), [((3, 4), (4,), (4,))]),
    ]


# ---- losses ----------------------------------------------------------------------------------
def _logp(x):
    return special.log_softmax(x, axis=1)


def loss_rows():
    ce = lambda **kw: lambda T, x, t: F(T).cross_entropy(x, t, **kw)  # noqa: E731
    rows = [
        OpCase(f"cross_entropy_{red}", ce(reduction=red),
               lambda x, t, red=red: nll_ref(_logp(x), t, reduction=red), [((5, 4), (5,))],
               make={1: ints(4)}) for red in ("mean", "sum", "none")]
    return rows + [
        OpCase("cross_entropy_weight_ignore",
               lambda T, x, t, w: F(T).cross_entropy(x, t, w, ignore_index=1),
               lambda x, t, w: nll_ref(_logp(x), t, w, ignore=1), [((6, 4), (6,), (4,))],
               make={1: ints(4, ignore=1), 2: positive}),
        OpCase("cross_entropy_smoothing", ce(label_smoothing=0.2), None, [((5, 4), (5,))],
               make={1: ints(4)}),
        OpCase("cross_entropy_smoothing_weight_ignore",
               lambda T, x, t, w: F(T).cross_entropy(x, t, w, ignore_index=-100,
                                                     label_smoothing=0.3),
               None, [((6, 3), (6,), (3,))], make={1: ints(3, ignore=-100), 2: positive}),
        OpCase("cross_entropy_smoothing_sum", ce(label_smoothing=0.1, reduction="sum"), None,
               [((4, 3), (4,))], make={1: ints(3)}),
        OpCase("cross_entropy_spatial", ce(), None, [((2, 3, 4), (2, 4))], make={1: ints(3)}),
        OpCase("cross_entropy_unbatched", ce(), None, [((4,), ())], make={1: ints(4)}),
        OpCase("cross_entropy_probs", ce(), None, [((3, 4), (3, 4))]),
        OpCase("cross_entropy_probs_weight_smoothing",
               lambda T, x, t, w: F(T).cross_entropy(x, t.softmax(1), w, label_smoothing=0.2,
                                                     reduction="sum"),
               None, [((3, 4), (3, 4), (4,))], make={2: positive}),
        OpCase("nll_loss", lambda T, x, t: F(T).nll_loss(x, t), lambda x, t: nll_ref(x, t),
               [((5, 4), (5,))], make={1: ints(4)}),
        OpCase("nll_loss_backward",
               grad_of(lambda T, x, t, w: F(T).nll_loss(x, t, w, reduction="none")),
               None, [((5, 3), (5,), (3,), (5,))], make={1: ints(3, ignore=-100), 2: positive}),
        OpCase("mse_loss", lambda T, x, y: F(T).mse_loss(x, y), lambda x, y: ((x - y) ** 2).mean(),
               [((3, 4), (3, 4))]),
        OpCase("mse_loss_weighted_sum", lambda T, x, y, w: F(T).mse_loss(x, y, weight=w),
               None, [((3, 4), (3, 4), (3, 4))], make={2: positive}),
        OpCase("l1_loss", lambda T, x, y: F(T).l1_loss(x, y, reduction="sum"),
               lambda x, y: np.abs(x - y).sum(), [((3, 4), (3, 4))], away_from_zero,
               make={1: lambda rng, s: rng.uniform(-0.1, 0.1, s)}),
        OpCase("binary_cross_entropy", lambda T, x, y, w: F(T).binary_cross_entropy(x, y, w),
               lambda x, y, w: -(w * (y * np.log(x) + (1 - y) * np.log(1 - x))).mean(),
               [((3, 4), (3, 4), (4,))], probabilities, make={1: probabilities, 2: positive}),
        OpCase("bce_with_logits", lambda T, x, y: F(T).binary_cross_entropy_with_logits(x, y),
               lambda x, y: ((1 - y) * x + np.logaddexp(0, -x)).mean(), [((3, 4), (3, 4))],
               make={1: probabilities}),
        OpCase("bce_with_logits_pos_weight",
               lambda T, x, y, p, w: F(T).binary_cross_entropy_with_logits(
                   x * 10, y, w, pos_weight=p, reduction="none"),
               None, [((3, 4), (3, 4), (4,), (3, 4))],
               make={1: probabilities, 2: positive, 3: positive}),
    ]


# ---- activations, embedding, padding ---------------------------------------------------------
def misc_rows():
    return [
        OpCase("gelu", lambda T, x: F(T).gelu(x),
               lambda x: x * special.ndtr(x), [((3, 4),)]),
        OpCase("gelu_backward", grad_of(lambda T, x: F(T).gelu(x)), None, [((3, 4), (3, 4))]),
        OpCase("gelu_tanh", lambda T, x: F(T).gelu(x, approximate="tanh"), None, [((3, 4),)]),
        OpCase("silu", lambda T, x: F(T).silu(x), lambda x: x * special.expit(x), [((3, 4),)]),
        OpCase("leaky_relu", lambda T, x: F(T).leaky_relu(x, 0.2),
               lambda x: np.where(x > 0, x, 0.2 * x), [((3, 4),)], away_from_zero),
        OpCase("relu", lambda T, x: F(T).relu(x), lambda x: np.maximum(x, 0), [((3, 4),)],
               away_from_zero),
        OpCase("embedding", lambda T, w, i: F(T).embedding(i, w),
               lambda w, i: w[i], [((5, 3), (2, 4))], make={1: ints(5)}),
        OpCase("pad_constant", lambda T, x: F(T).pad(x, (1, 2, -1, 0), value=0.5), None,
               [((2, 3, 4),)]),
        OpCase("pad_reflect", lambda T, x: F(T).pad(x, (2, 1, 1, 1), mode="reflect"), None,
               [((1, 2, 3, 4),)]),
        OpCase("pad_replicate", lambda T, x: F(T).pad(x, (2, 1), mode="replicate"), None,
               [((1, 2, 3),)]),
        OpCase("pad_circular", lambda T, x: F(T).pad(x, (1, 2, 2, 0), mode="circular"), None,
               [((1, 1, 3, 4),)]),
    ]


ROWS = conv_rows() + pool_rows() + norm_rows() + loss_rows() + misc_rows()

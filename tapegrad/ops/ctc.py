"""Connectionist temporal classification: `ctc_loss`, each sequence's negative log likelihood
by the forward-backward (alpha-beta) recursion in log space, with PyTorch's gradient."""
import numpy as np

from .._tensor import Tensor
from ..primitives import primitive, defvjp


def _lengths(v, n, what):
    a = np.asarray(v._data if isinstance(v, Tensor) else v).astype(np.int64).reshape(-1)
    if a.shape != (n,):
        raise RuntimeError(f"ctc_loss: {what} must have one length per sequence ({n}), got "
                           f"shape {list(np.shape(v))}")
    return a


def _extended(targets, target_lengths, blank, n):
    """The targets with blanks around and between the labels: (N, 2*S+1), and its validity."""
    targets = np.asarray(targets).astype(np.int64)
    if targets.ndim == 1:      # concatenated: split by the lengths, then pad
        ends = np.cumsum(target_lengths)
        if targets.size < (ends[-1] if n else 0):
            raise RuntimeError(f"ctc_loss: the concatenated targets hold {targets.size} labels, "
                               f"fewer than the target lengths' sum {int(ends[-1])}")
        padded = np.full((n, int(target_lengths.max(initial=0))), blank, np.int64)
        for i, (e, k) in enumerate(zip(ends, target_lengths)):
            padded[i, :k] = targets[e - k:e]
        targets = padded
    elif targets.ndim != 2 or targets.shape[0] != n:
        raise RuntimeError(f"ctc_loss: targets must be (N, S) padded or 1-D concatenated, got "
                           f"shape {list(targets.shape)} for N={n}")
    elif target_lengths.max(initial=0) > targets.shape[1]:
        raise RuntimeError(f"ctc_loss: a target length exceeds the targets' width "
                           f"{targets.shape[1]}")
    s = int(target_lengths.max(initial=0))
    ext = np.full((n, 2 * s + 1), blank, np.int64)
    ext[:, 1::2] = targets[:, :s]
    valid = np.arange(2 * s + 1)[None, :] < 2 * target_lengths[:, None] + 1
    ext[~valid] = blank
    # a skip over a blank onto s is allowed when l'[s] is a label unlike l'[s-2]
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, valid, skip


def _lse(*arrays):
    m = np.maximum.reduce(arrays)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(sum(np.exp(a - safe) for a in arrays)) + safe


def _alpha_beta(lp, targets, input_lengths, target_lengths, blank):
    """log alpha and log beta (T, N, L), the per-sequence NLL, and the extended targets."""
    t_max, n, _ = lp.shape
    il = _lengths(input_lengths, n, "input_lengths")
    tl = _lengths(target_lengths, n, "target_lengths")
    if (il > t_max).any() or (il < 0).any():
        raise RuntimeError(f"ctc_loss: input_lengths must be in [0, {t_max}], got {il.tolist()}")
    ext, valid, skip = _extended(targets, tl, blank, n)
    labels = ext[valid]
    if labels.size and (labels.min() < 0 or labels.max() >= lp.shape[2]):
        raise RuntimeError(f"ctc_loss: target labels and blank must lie in [0, {lp.shape[2]}) "
                           f"for {lp.shape[2]} classes")
    width = ext.shape[1]
    rows = np.arange(n)[:, None]
    emit = np.where(valid[None], lp[:, rows, ext], -np.inf)         # (T, N, L)
    neg = np.full((n, width), -np.inf, lp.dtype)
    alpha = np.full((t_max, n, width), -np.inf, lp.dtype)
    alpha[0] = np.where(np.arange(width) < 2, emit[0], -np.inf) if t_max else neg
    for t in range(1, t_max):
        a = alpha[t - 1]
        a1 = np.concatenate([neg[:, :1], a[:, :-1]], 1)
        a2 = np.where(skip, np.concatenate([neg[:, :2], a[:, :-2]], 1), -np.inf)
        alpha[t] = _lse(a, a1, a2) + emit[t]
    beta = np.full((t_max, n, width), -np.inf, lp.dtype)
    last = 2 * tl
    ends = np.zeros((n, width), bool)
    ends[np.arange(n), last] = True
    ends[np.arange(n), np.maximum(last - 1, 0)] = True
    for t in range(t_max - 1, -1, -1):
        if t + 1 < t_max:
            b = beta[t + 1]
            b1 = np.concatenate([b[:, 1:], neg[:, :1]], 1)
            b2 = np.where(np.concatenate([skip[:, 2:], np.zeros((n, 2), bool)], 1),
                          np.concatenate([b[:, 2:], neg[:, :2]], 1), -np.inf)
            beta[t] = _lse(b, b1, b2) + emit[t]
        here = (il - 1 == t)[:, None] & ends
        beta[t] = np.where(here, emit[t], beta[t])
    idx = np.arange(n)
    at_end = alpha[np.maximum(il - 1, 0), idx]                       # (N, L)
    total = _lse(at_end[idx, last], np.where(tl > 0, at_end[idx, np.maximum(last - 1, 0)],
                                            -np.inf))
    # an empty input emits nothing: probability 1 for an empty target, else 0
    total = np.where(il > 0, total, np.where(tl == 0, 0.0, -np.inf))
    return alpha, beta, -total, ext, il


@primitive("ctc_loss", raw=True)
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, zero_infinity=False):
    """Each sequence's CTC loss (reduction 'none'): log_probs (T, N, C), targets (N, S) padded
    or 1-D concatenated (torch.nn.functional.ctc_loss's core)."""
    lp = np.asarray(log_probs)
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C), got shape {list(lp.shape)}")
    nll = _alpha_beta(lp, targets, input_lengths, target_lengths, blank)[2]
    if zero_infinity:
        nll = np.where(np.isinf(nll), 0.0, nll)
    return nll.astype(lp.dtype)


def _ctc_grad(g, out, log_probs, targets, input_lengths, target_lengths, blank=0,
              zero_infinity=False):
    """PyTorch's gradient: exp(lp) - exp(log(alpha*beta summed per class) + nll - lp), which is
    the true gradient once it passes through the log_softmax that makes log_probs."""
    if isinstance(g, Tensor):
        raise RuntimeError("ctc_loss: double backward is not supported (its gradient is not "
                           "differentiable in tapegrad); call backward without create_graph")
    lp = np.asarray(log_probs)
    alpha, beta, nll, ext, il = _alpha_beta(lp, targets, input_lengths, target_lengths, blank)
    t_max, n, c = lp.shape
    ab = alpha + beta
    m = ab.max(axis=2, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    onehot = np.zeros((n, ext.shape[1], c), lp.dtype)
    onehot[np.arange(n)[:, None], np.arange(ext.shape[1])[None], ext] = 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lcab = np.log(np.einsum("tnl,nlc->tnc", np.exp(ab - m), onehot)) + m
        grad = np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)
    grad = np.where(np.arange(t_max)[:, None, None] < il[None, :, None], grad, 0.0)
    if zero_infinity:
        grad = np.where(np.isinf(nll)[None, :, None], 0.0, grad)
    return (grad * np.asarray(g)[None, :, None]).astype(lp.dtype)


defvjp(ctc_loss, _ctc_grad, None, None, None)

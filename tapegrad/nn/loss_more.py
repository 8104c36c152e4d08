"""More losses (torch.nn's): smooth L1/Huber, KL divergence, margin and embedding losses,
Poisson and Gaussian NLL, soft margins; and the distances they use (`pairwise_distance`,
`cosine_similarity`). All compose existing ops, so every one differentiates twice.
"""
import math
import warnings

import numpy as np

from ..ops.elementwise import clamp, minimum, relu, where
from ..ops.reduction import sum as _sum
from ..ops.shape import broadcast_to, unsqueeze
from ..ops.statistics import norm
from ..ops.unary import abs as _abs, exp, log
from ..special import xlogy
from .._tensor import Tensor
from .loss import _Loss, _WeightedLoss, _pointwise, _reduce, _reduction
from .module import Module


def _softplus(x):
    """log(1 + exp(x)) without overflow: m + log(exp(-m) + exp(x - m)), m = max(x, 0)."""
    m = relu(x)
    return m + log(exp(-m) + exp(x - m))


def _value_clamped(x, lo):
    """x with its value clamped below at lo but the gradient of x itself: PyTorch clamps
    these in place under no_grad (cosine_similarity's norms, gaussian_nll_loss's var)."""
    d = x.detach()
    return x + (clamp(d, min=lo) - d)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1 loss of d = input - target: 0.5 d^2 / beta if abs(d) < beta, else abs(d) - beta/2.

    Mirrors torch.nn.functional.smooth_l1_loss (``beta=0`` is plain L1; negative raises).
    ``input`` and ``target`` share a shape; ``reduction`` is 'none', 'mean' or 'sum';
    ``size_average`` and ``reduce`` are PyTorch's deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:   # the quadratic piece vanishes: plain L1, as PyTorch dispatches
        return _pointwise(_abs, input, target, reduction, None)

    def piece(d):
        a = _abs(d)
        return where(a._data < beta, 0.5 * d * d / beta, a - 0.5 * beta)
    return _pointwise(piece, input, target, reduction, None)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss of d = input - target: 0.5 d^2 if abs(d) < delta, else delta (abs(d) - delta/2).

    Mirrors torch.nn.functional.huber_loss. ``input`` and ``target`` share a shape;
    ``reduction`` is 'none', 'mean' or 'sum'; an optional ``weight`` of the input's shape
    scales each term (a weighted 'mean' is mean(weight * loss), as PyTorch's).
    """
    reduction = _reduction(None, None, reduction)

    def piece(d):
        a = _abs(d)
        return where(a._data < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    if weight is None:
        return _pointwise(piece, input, target, reduction, None)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    return _reduce(_pointwise(piece, input, target, "none", None) * weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence terms target * (log target - input) (functional.kl_div).

    ``input`` holds log-probabilities; ``target`` holds probabilities, or log-probabilities
    when ``log_target`` is True; terms where the target is 0 are 0. ``reduction`` is 'none',
    'sum', 'batchmean' (sum / batch size, the true KL divergence) or 'mean' (sum / numel,
    with PyTorch's warning); ``size_average`` and ``reduce`` are the deprecated flags for it.
    """
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, None)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        total = _sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """Ranking loss max(0, -target * (input1 - input2) + margin) (functional.margin_ranking_loss).

    ``target`` holds 1 where ``input1`` should rank higher and -1 where ``input2`` should; all
    three have the same number of dims. ``reduction`` is 'none', 'mean' or 'sum';
    ``size_average`` and ``reduce`` are PyTorch's deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    return _reduce(clamp(-target * (input1 - input2) + margin, min=0), reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dim (functional.pairwise_distance).

    ``x1`` and ``x2`` broadcast; ``keepdim=True`` keeps the reduced dim with size 1.
    """
    last = max(x1.ndim, x2.ndim) - 1
    return norm(x1 - x2 + eps, p, last, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (functional.cosine_similarity).

    Computes sum(x1/norm(x1) * x2/norm(x2)) over ``dim`` after broadcasting, each norm clamped below
    at ``eps``; normalising first, as PyTorch does, keeps the result within [-1, 1].
    """
    shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))   # norms of the broadcast
    x1, x2 = broadcast_to(x1, shape), broadcast_to(x2, shape)
    n1 = _value_clamped(norm(x1, 2, dim, True), eps)
    n2 = _value_clamped(norm(x2, 2, dim, True), eps)
    return _sum((x1 / n1) * (x2 / n2), dim)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """Triplet loss max(d(a, p) - d(a, n) + margin, 0) (torch.nn.functional.triplet_margin_loss).

    d is :func:`pairwise_distance` with norm ``p`` and ``eps`` between ``anchor`` a,
    ``positive`` p and ``negative`` n (same number of dims); with ``swap`` d(a, n) becomes
    min(d(a, n), d(p, n)). ``margin`` is the wanted gap; ``reduction`` is 'none', 'mean' or
    'sum'; ``size_average`` and ``reduce`` are PyTorch's deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    a, pd, nd = anchor.ndim, positive.ndim, negative.ndim
    if not a == pd == nd:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {pd}D, "
                           f"and negative {nd}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(clamp(margin + d_pos - d_neg, min=0), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """Embedding loss: 1 - cos where target is 1, max(0, cos - margin) where it is -1.

    Mirrors torch.nn.functional.cosine_embedding_loss: cos is the cosine similarity of
    ``input1`` and ``input2`` (1-d, or 2-d (N, D) with a (N,) ``target``), with 1e-12 added to
    each squared norm as PyTorch does. ``reduction`` is 'none', 'mean' or 'sum';
    ``size_average`` and ``reduce`` are PyTorch's deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if target.ndim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if target.ndim == 1 else 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(f"{target.ndim}D target tensor expects {want}D input tensors, but "
                           f"found inputs with sizes {list(input1.shape)} and "
                           f"{list(input2.shape)}.")
    d = target.ndim
    cos = _sum(input1 * input2, d) / ((_sum(input1 * input1, d) + 1e-12)
                                      * (_sum(input2 * input2, d) + 1e-12)) ** 0.5
    y = target._data
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, clamp(cos - margin, min=0), 0.0)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood of ``target`` t given rate ``input`` x.

    Mirrors torch.nn.functional.poisson_nll_loss.

    With ``log_input`` (x is the log-rate) the terms are exp(x) - t x, else x - t log(x + eps).
    ``full`` adds Stirling's t log t - t + log(2 pi t)/2 where t > 1. ``reduction`` is 'none',
    'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        big = np.asarray(target._data if isinstance(target, Tensor) else target) > 1
        t = where(big, target, 2.0)     # a safe stand-in where masked: no log(0) in backward
        loss = loss + where(big, t * log(t) - t + 0.5 * log(2 * math.pi * t), 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood (log var + (input - target)^2 / var) / 2.

    Mirrors torch.nn.functional.gaussian_nll_loss: ``input`` is the mean, ``target`` the
    sample and ``var`` the (non-negative) variance, a number or a tensor of the input's shape,
    one dim short of it, or with one dim of size 1. ``var`` is clamped below at ``eps`` (value
    only, the gradient passes through); ``full`` adds log(2 pi) / 2; ``reduction`` is 'none',
    'mean' or 'sum'.
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input * 0 + float(var)
    elif bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = unsqueeze(var, -1)
        elif input.ndim == var.ndim and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass    # one broadcast dim of 1: homoscedastic along it
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = _value_clamped(var, eps)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Multi-label one-versus-all logistic loss (torch.nn.functional.multilabel_soft_margin_loss).

    The mean over classes (the last dim of ``input``) of
    -(t log sigmoid(x) + (1 - t) log sigmoid(-x)) with t the 0/1 ``target``, each class term
    scaled by ``weight``. ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and
    ``reduce`` are PyTorch's deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    loss = target * _softplus(-input) + (1 - target) * _softplus(input)
    if weight is not None:
        loss = loss * weight
    c = input.ndim - 1
    return _reduce(_sum(loss, c) / input.shape[c], reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """Hinge embedding loss: x where y = 1, max(0, margin - x) where y = -1.

    Mirrors torch.nn.functional.hinge_embedding_loss for distances ``input`` x and labels
    ``target`` y (both terms where y is neither, as PyTorch). ``margin`` is the hinge;
    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    loss = where(y != 1, clamp(margin - input, min=0), 0.0) + where(y != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss log(1 + exp(-y x)), computed without overflow.

    Mirrors torch.nn.functional.soft_margin_loss for ``input`` x and ``target`` y in {1, -1}.
    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(_softplus(-input * target), reduction)


class SmoothL1Loss(_Loss):
    """Module computing :func:`smooth_l1_loss` with threshold ``beta`` (torch.nn.SmoothL1Loss).

    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        """The loss of ``input`` against ``target`` (same shape), reduced as configured."""
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Module computing :func:`huber_loss` with threshold ``delta`` (torch.nn.HuberLoss).

    ``reduction`` is 'none', 'mean' or 'sum'.
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        """The loss of ``input`` against ``target`` (same shape), reduced as configured."""
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """Module computing :func:`kl_div` of log-probabilities (torch.nn.KLDivLoss).

    ``reduction`` is 'none', 'mean', 'sum' or 'batchmean'; ``log_target`` says the target
    holds log-probabilities; ``size_average`` and ``reduce`` are the deprecated flags.
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        Module.__init__(self)
        if size_average is not None or reduce is not None:
            reduction = _reduction(size_average, reduce, None)
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        """The divergence of log-probabilities ``input`` from ``target``, reduced as configured."""
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """Module computing :func:`margin_ranking_loss` with ``margin`` (torch.nn.MarginRankingLoss).

    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        """The loss of ranking ``input1`` against ``input2`` with labels ``target`` (1 or -1)."""
        return margin_ranking_loss(input1, input2, target, self.margin,
                                   reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Module computing :func:`triplet_margin_loss` (torch.nn.TripletMarginLoss).

    ``margin`` (> 0) is the wanted gap, ``p`` the norm and ``eps`` the offset of the pairwise
    distance, ``swap`` uses the positive-negative distance when smaller. ``reduction`` is
    'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are the deprecated flags for it.
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                 reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        """The loss of the triplets (``anchor``, ``positive``, ``negative``)."""
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """Module computing :func:`cosine_embedding_loss` with ``margin`` (nn.CosineEmbeddingLoss).

    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        """The loss of ``input1`` and ``input2`` with labels ``target`` (1 similar, -1 not)."""
        return cosine_embedding_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Module computing :func:`poisson_nll_loss` (torch.nn.PoissonNLLLoss).

    ``log_input`` says the input is a log-rate, ``full`` adds Stirling's term and ``eps``
    guards log(0). ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce``
    are PyTorch's deprecated flags for it.
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        """The loss of (log-)rates ``log_input`` against counts ``target``."""
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Module computing :func:`gaussian_nll_loss` of (input, target, var) (nn.GaussianNLLLoss).

    Keyword-only: ``full`` adds the constant term, ``eps`` clamps the variance, and
    ``reduction`` is 'none', 'mean' or 'sum'.
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        """The loss of means ``input`` against ``target`` with variances ``var``."""
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Module computing :func:`multilabel_soft_margin_loss` (torch.nn.MultiLabelSoftMarginLoss).

    ``weight`` (C,) scales each class and is kept as a buffer; ``reduction`` is 'none',
    'mean' or 'sum'; ``size_average`` and ``reduce`` are the deprecated flags for it.
    """

    def forward(self, input, target):
        """The loss of logits ``input`` (N, C) against 0/1 labels ``target`` (N, C)."""
        return multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Module computing :func:`hinge_embedding_loss` with ``margin`` (torch.nn.HingeEmbeddingLoss).

    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        """The loss of distances ``input`` with labels ``target`` (1 or -1)."""
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Module computing :func:`soft_margin_loss` (torch.nn.SoftMarginLoss).

    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """

    def forward(self, input, target):
        """The loss of ``input`` against labels ``target`` (1 or -1)."""
        return soft_margin_loss(input, target, reduction=self.reduction)


class CosineSimilarity(Module):
    """Module computing :func:`cosine_similarity` along ``dim`` (torch.nn.CosineSimilarity).

    Each norm is clamped below at ``eps``.
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        """The cosine similarity of ``x1`` and ``x2`` along the configured dim."""
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """Module computing :func:`pairwise_distance` (torch.nn.PairwiseDistance).

    ``p`` is the norm, ``eps`` is added to the difference, ``keepdim`` keeps the last dim.
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        """The distance between ``x1`` and ``x2`` over their last dim."""
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

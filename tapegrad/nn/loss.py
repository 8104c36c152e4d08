"""Losses: functions and modules (MSE, L1, NLL, cross entropy, BCE, BCE with logits).

`reduction` is 'none', 'mean' or 'sum' everywhere; the legacy `size_average`/`reduce` flags
map onto it as in PyTorch. Class-index losses run the fused `nll_loss` primitive on
`log_softmax` output and BCE is a primitive of its own (finite at 0 and 1, as PyTorch's); the
others compose elementwise ops.
"""
import warnings

import numpy as np

from ..ops import nn as _ops
from ..ops.elementwise import relu, where
from ..ops.nn import log_softmax
from ..ops.reduction import mean, sum as _sum
from ..ops.shape import broadcast_to, reshape
from ..ops.unary import abs as _abs, exp, log
from .._tensor import Tensor
from .module import Module

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(size_average, reduce, reduction):
    """PyTorch's mapping of the legacy flags onto `reduction`, then a check of it."""
    if size_average is not None or reduce is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction instead.", stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    return loss if reduction == "none" else mean(loss) if reduction == "mean" else _sum(loss)


def _pointwise(op, input, target, reduction, weight):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)
        # PyTorch broadcasts both first, so a 0-d target takes part in dtype promotion
        shape = np.broadcast_shapes(input.shape, target.shape)
        input, target = broadcast_to(input, shape), broadcast_to(target, shape)
    loss = op(input - target)
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    return _sum(loss) / _sum(weight) if reduction == "mean" else _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error, (input - target)^2 elementwise, then reduced (functional.mse_loss).

    ``input`` and ``target`` should have the same shape (else a warning, and they broadcast).
    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags, mapped onto it with a warning. An optional ``weight`` of the input's
    shape scales each term, and 'mean' then gives sum(weight * loss) / sum(weight).
    """
    return _pointwise(lambda d: d * d, input, target, _reduction(size_average, reduce, reduction),
                      weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error, abs(input - target) elementwise, then reduced (F.l1_loss).

    ``input``, ``target``, ``reduction``, ``size_average``, ``reduce`` and ``weight`` as in
    :func:`mse_loss`.
    """
    return _pointwise(_abs, input, target, _reduction(size_average, reduce, reduction), weight)


def _class_targets(input, target, ignore_index, op):
    """Check class-index targets against (N, C, ...) or (C,) input; return them as an array."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected target dtype to be Long or Byte, but got {t.dtype}")
    if input.ndim == 0:
        raise ValueError(f"{op}: input tensor should be 1D or more, got a 0-d tensor")
    want = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    if input.ndim >= 2 and (t.ndim == 0 or t.shape[0] != input.shape[0]):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({t.shape[0] if t.ndim else 0}).")
    if t.shape != want:
        raise RuntimeError(f"{op}: expected target of shape {list(want)} for input of shape "
                           f"{list(input.shape)}, got {list(t.shape)}")
    n = input.shape[1 if input.ndim > 1 else 0]
    bad = (t != ignore_index) & ((t < 0) | (t >= n))
    if bad.any():
        raise IndexError(f"Target {t[bad].flat[0]} is out of bounds.")
    return t


def _check_weight(weight, n):
    if weight is not None and weight.numel() != n:
        raise RuntimeError(f"weight tensor should be defined either for all {n} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices: -input[n, target[n]] (functional.nll_loss).

    ``input`` holds log-probabilities of shape (N, C, ...) or (C,); ``target`` holds class
    indices of shape (N, ...) or (); each term is scaled by ``weight[target[n]]`` (a (C,)
    tensor, default all ones). Targets equal to ``ignore_index`` contribute 0. ``reduction``
    'mean' divides by the total weight of the targets kept; ``size_average`` and ``reduce``
    are PyTorch's deprecated flags for ``reduction``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    t = _class_targets(input, target, ignore_index, "nll_loss")
    _check_weight(weight, input.shape[1 if input.ndim > 1 else 0])
    if input.ndim == 1:
        out = _ops.nll_loss(reshape(input, (1, -1)), t.reshape(1), weight,
                            ignore_index=ignore_index, reduction=reduction)
        return reshape(out, ()) if reduction == "none" else out
    return _ops.nll_loss(input, t, weight, ignore_index=ignore_index, reduction=reduction)


def _class_shape(input, n):
    """A shape that broadcasts a per-class vector along input's class dim."""
    return (n,) + (1,) * (input.ndim - 2) if input.ndim > 1 else (n,)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy of logits against class indices or probabilities (functional.cross_entropy).

    ``input`` holds unnormalised logits of shape (N, C, ...) or (C,). ``target`` is either
    integer class indices of shape (N, ...) or floating class probabilities of the input's
    shape. ``weight`` (C,) rescales each class; targets equal to ``ignore_index`` are skipped
    (index targets only); ``label_smoothing`` in [0, 1] mixes the target with the uniform
    distribution. ``reduction`` is 'none', 'mean' or 'sum' ('mean' over indices divides by the
    total weight kept); ``size_average`` and ``reduce`` are the deprecated flags for it.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 1 if input.ndim > 1 else 0
    n = input.shape[class_dim] if input.ndim else 0
    _check_weight(weight, n)
    if isinstance(target, Tensor) and target.is_floating_point():
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing, class_dim, n)
    t = _class_targets(input, target, ignore_index, "cross_entropy")
    logp = log_softmax(input, class_dim)
    nll = nll_loss(logp, t, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    w = None if weight is None else reshape(weight, _class_shape(input, n))
    smooth = -_sum(logp if w is None else logp * w, class_dim)
    ignored = t == ignore_index
    if ignored.any():
        smooth = where(ignored, 0.0, smooth)
    if reduction == "mean":
        kept = t[~ignored]
        total = float(kept.size) if weight is None else float(weight._data[kept].sum())
        # nothing left to average over: NaN, as PyTorch (ignored entries still get exactly 0)
        smooth = _sum(smooth) * (1 / total if total else np.nan)
    else:
        smooth = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n)


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing,
                         class_dim, n):
    if ignore_index != -100:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if target.shape != input.shape:
        raise RuntimeError(f"cross_entropy: expected class-probability target of the input's "
                           f"shape {list(input.shape)}, got {list(target.shape)}")
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n
    prod = log_softmax(input, class_dim) * target
    if weight is not None:
        prod = prod * reshape(weight, _class_shape(input, n))
    loss = -_sum(prod, class_dim)
    if reduction == "mean":
        return _sum(loss) / (input.numel() / n)
    return _reduce(loss, reduction)


def _same_shape(input, target, message):
    if target.shape != input.shape:
        raise ValueError(message.format(target=target.shape, input=input.shape))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities (torch.nn.functional.binary_cross_entropy).

    Computes -(t log(x) + (1 - t) log(1 - x)) for ``input`` x in [0, 1] and ``target`` t of
    the same shape, with the logs clamped at -100 as in PyTorch. ``weight`` scales each term;
    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are deprecated.
    """
    reduction = _reduction(size_average, reduce, reduction)
    _same_shape(input, target, "Using a target size ({target}) that is different to the input "
                "size ({input}) is deprecated. Please ensure they have the same size.")
    a = input._data
    if a.size and not ((a >= 0) & (a <= 1)).all():
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1")
    loss = _ops.binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross entropy of logits, computed stably (as F.binary_cross_entropy_with_logits).

    For ``input`` logits x and ``target`` t of the same shape the loss is
    (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x). ``pos_weight`` (broadcast along the
    last dim) weighs the positive examples; ``weight`` scales each term; ``reduction`` is
    'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are deprecated.
    """
    reduction = _reduction(size_average, reduce, reduction)
    _same_shape(input, target, "Target size ({target}) must be the same as input size ({input})")
    # softplus(-x) = m + log(exp(-m) + exp(-x - m)) with m = max(-x, 0): no overflow, and the
    # gradient -sigmoid(-x) is exact everywhere (m's own gradient cancels)
    m = relu(-input)
    softplus = m + log(exp(-m) + exp(-input - m))
    if pos_weight is not None:
        softplus = softplus * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input + softplus
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    """A loss with a per-class `weight`, registered as a buffer as in PyTorch."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Module computing :func:`mse_loss` (torch.nn.MSELoss).

    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """

    def forward(self, input, target):
        """The loss of ``input`` against ``target`` (same shape), reduced as configured."""
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Module computing :func:`l1_loss` (torch.nn.L1Loss).

    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are PyTorch's
    deprecated flags for it.
    """

    def forward(self, input, target):
        """The loss of ``input`` against ``target`` (same shape), reduced as configured."""
        return l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """Module computing :func:`nll_loss` of log-probabilities and class indices (torch.nn.NLLLoss).

    ``weight`` (C,) rescales each class and is kept as a buffer; ``ignore_index`` marks
    targets to skip; ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and
    ``reduce`` are the deprecated flags for it.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """The loss of log-probabilities ``input`` (N, C, ...) against class indices ``target``."""
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Module computing :func:`cross_entropy` of logits (torch.nn.CrossEntropyLoss).

    ``weight`` (C,) rescales each class and is kept as a buffer; ``ignore_index`` marks
    targets to skip; ``label_smoothing`` in [0, 1] mixes in the uniform distribution;
    ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are the
    deprecated flags for it.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        """The loss of logits ``input`` (N, C, ...) against ``target`` indices or probabilities."""
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCELoss(_WeightedLoss):
    """Module computing :func:`binary_cross_entropy` of probabilities (torch.nn.BCELoss).

    ``weight`` scales each term and is kept as a buffer; ``reduction`` is 'none', 'mean' or
    'sum'; ``size_average`` and ``reduce`` are the deprecated flags for it.
    """

    def forward(self, input, target):
        """The loss of probabilities ``input`` against ``target`` (same shape)."""
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Module computing :func:`binary_cross_entropy_with_logits` (torch.nn.BCEWithLogitsLoss).

    ``weight`` scales each term and ``pos_weight`` the positive examples, both kept as
    buffers; ``reduction`` is 'none', 'mean' or 'sum'; ``size_average`` and ``reduce`` are
    the deprecated flags for it.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        """The loss of logits ``input`` against ``target`` (same shape)."""
        return binary_cross_entropy_with_logits(input, target, self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)

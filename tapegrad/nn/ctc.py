"""torch.nn.CTCLoss and torch.nn.functional.ctc_loss (the recursion is `ops.ctc.ctc_loss`)."""
import numpy as np

from .._tensor import Tensor, _leaf
from ..ops.ctc import ctc_loss as _ctc
from ..ops.reduction import mean, sum as _sum
from ..ops.shape import unsqueeze
from .loss import _Loss, _reduction


def _as_array(v):
    return np.asarray(v._data if isinstance(v, Tensor) else v)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification loss (torch.nn.functional.ctc_loss).

    ``log_probs`` (T, N, C) or unbatched (T, C) are log-softmax outputs; ``targets`` are
    class indices, (N, S) padded or 1-D concatenated; ``input_lengths`` and
    ``target_lengths`` (N,) give each sequence's lengths; ``blank`` is the blank class.
    ``reduction`` 'mean' divides each loss by its target length (at least 1) and averages
    over the batch, 'sum' adds, 'none' keeps (N,). ``zero_infinity`` replaces infinite
    losses (impossible alignments) and their gradients by 0.
    """
    reduction = _reduction(None, None, reduction)
    if log_probs.dim() == 2:      # unbatched: one sequence
        lp = unsqueeze(log_probs, 1)
        t = _as_array(targets).reshape(1, -1)
        il, tl = _as_array(input_lengths).reshape(1), _as_array(target_lengths).reshape(1)
        loss = _ctc(lp, t, il, tl, blank=blank, zero_infinity=zero_infinity)
    else:
        loss = _ctc(log_probs, _as_array(targets), _as_array(input_lengths),
                    _as_array(target_lengths), blank=blank, zero_infinity=zero_infinity)
        tl = _as_array(target_lengths)
    if reduction == "none":
        return loss[0] if log_probs.dim() == 2 else loss
    if reduction == "sum":
        return _sum(loss)
    divisor = np.maximum(np.asarray(tl).reshape(-1), 1).astype(loss._data.dtype)
    return mean(loss / _leaf(divisor))


class CTCLoss(_Loss):
    """Module computing :func:`ctc_loss` (torch.nn.CTCLoss).

    ``blank`` is the blank class index, ``reduction`` is 'none', 'mean' or 'sum', and
    ``zero_infinity`` zeroes infinite losses and their gradients.
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        """The loss of ``log_probs`` against ``targets`` (``input_lengths``, ``target_lengths``)."""
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)

"""Op-table rows for tapegrad/ops/ctc.py: CTC loss through log_softmax (PyTorch's gradient is
the true one only there), against a NumPy sum over every alignment; first order only."""
import itertools

import numpy as np

from .case import OpCase

TARGETS = [[1, 1], [2, 0]]          # a repeated label, and a padded shorter target
INPUT_LENGTHS, TARGET_LENGTHS = [4, 3], [2, 1]


def _log_softmax(x, axis):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def brute_ctc(x, targets=TARGETS, input_lengths=INPUT_LENGTHS, target_lengths=TARGET_LENGTHS,
              blank=0):
    """Each sequence's -log of the summed probability of every alignment that collapses
    (repeats merged, blanks dropped) to its target."""
    lp = _log_softmax(x, 2)
    out = []
    for n, (t_n, s_n) in enumerate(zip(input_lengths, target_lengths)):
        want, probs = list(targets[n][:s_n]), []
        for path in itertools.product(range(lp.shape[2]), repeat=t_n):
            merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
            if [c for c in merged if c != blank] == want:
                probs.append(sum(lp[t, n, c] for t, c in enumerate(path)))
        out.append(-np.logaddexp.reduce(probs) if probs else np.inf)
    return np.array(out)


def _ctc(T, x, **kw):
    return T.nn.functional.ctc_loss(x.log_softmax(2), T.tensor(TARGETS), T.tensor(INPUT_LENGTHS),
                                    T.tensor(TARGET_LENGTHS), **kw)


ROWS = [
    OpCase("ctc_loss_none", lambda T, x: _ctc(T, x, reduction="none"), brute_ctc,
           shapes=[((4, 2, 3),)], second=False),
    OpCase("ctc_loss_mean_blank2",
           lambda T, x: T.nn.functional.ctc_loss(x.log_softmax(2), T.tensor([1, 1, 0]),
                                                 T.tensor(INPUT_LENGTHS),
                                                 T.tensor(TARGET_LENGTHS), blank=2),
           lambda x: (brute_ctc(x, [[1, 1], [0, 0]], blank=2)
                      / np.maximum(TARGET_LENGTHS, 1)).mean(),
           shapes=[((4, 2, 3),)], second=False),
]

"""torch.optim.SparseAdam: Adam for sparse gradients (nn.Embedding(sparse=True)); only the rows
a gradient holds have their moments and values updated, as PyTorch's lazy variant does."""
import math

import numpy as np

from .._tensor import _leaf
from ..sparse import SparseGrad
from ..tape import bump_version
from .optimizer import Optimizer


class SparseAdam(Optimizer):
    """Adam for sparse gradients: only the rows present are updated (torch.optim.SparseAdam).

    Step for step as torch.optim._functional.sparse_adam. ``params`` is an iterable of tensors (or
    of (name, tensor) pairs), or of dicts defining parameter groups with their own settings. ``lr``,
    ``betas``, ``eps`` and ``maximize`` as in torch.optim.SparseAdam.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _update(self, group):
        lr, eps = float(group["lr"]), group["eps"]
        beta1, beta2 = group["betas"]
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            if not isinstance(g, SparseGrad):
                raise RuntimeError("SparseAdam does not support dense gradients, please "
                                   "consider Adam instead")
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = _leaf(np.zeros_like(p._data))
                st["exp_avg_sq"] = _leaf(np.zeros_like(p._data))
            st["step"] += 1
            rows, values = g.rows_values(coalesce=True)    # the update is not linear
            if group["maximize"]:
                values = -values
            if not len(rows):
                continue
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            old_m, old_v = m[rows], v[rows]
            dm = (values - old_m) * (1 - beta1)
            dv = (values * values - old_v) * (1 - beta2)
            m[rows] += dm
            v[rows] += dv
            numer = dm + old_m
            denom = np.sqrt(dv + old_v) + eps
            step = st["step"]
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            p._data[rows] += (-step_size * (numer / denom)).astype(p._data.dtype, copy=False)
            bump_version(st["exp_avg"])
            bump_version(st["exp_avg_sq"])
            bump_version(p)

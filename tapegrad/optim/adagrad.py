"""torch.optim.Adagrad: per-coordinate steps scaled by the accumulated squared gradients."""
import numpy as np

from .._tensor import _leaf
from .optimizer import (Optimizer, _check_differentiable, _direction, _step_counter, _validate,
                        _written)


class Adagrad(Optimizer):
    """Adagrad: steps scaled by the root of the sum of squared gradients (torch.optim.Adagrad).

    ``params`` is an iterable of tensors (or of (name, tensor) pairs), or of dicts defining
    parameter groups with their own settings. ``lr`` (decayed by
    ``lr_decay`` per step), ``weight_decay`` (L2 penalty), ``initial_accumulator_value``,
    ``eps`` and ``maximize`` as in torch.optim.Adagrad; ``foreach`` and ``fused`` are
    accepted for compatibility, ``differentiable=True`` raises. As in torch, every parameter's state exists
    from construction.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_differentiable(type(self).__name__, differentiable)
        _validate(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                  initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        st = self.state[p]
        st["step"] = _step_counter()
        st["sum"] = _leaf(np.full_like(p._data, group["initial_accumulator_value"]))
        return st

    def _update(self, group):
        lr = float(group["lr"])
        lr_decay, eps = group["lr_decay"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            # groups added after construction get their state on their first step
            st = state[p] or self._init_state(p, group)
            count = st["step"]._data
            count += 1
            clr = lr / (1 + (float(count) - 1) * lr_decay)
            d = _direction(p, g, weight_decay, maximize)
            acc = st["sum"]._data
            sq = np.multiply(d, d)
            acc += sq
            std = np.sqrt(acc, out=sq)
            std += eps
            x = p._data
            x += np.divide(np.multiply(d, -clr), std, out=std)
            _written(p, st)

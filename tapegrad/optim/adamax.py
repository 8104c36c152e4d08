"""torch.optim.Adamax: Adam with the infinity norm in place of the second moment."""
import numpy as np

from .optimizer import (Optimizer, _check_differentiable, _direction, _lerp_, _step_counter,
                        _validate, _written, _zeros_like)


def _check_betas(betas):
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment (torch.optim.Adamax).

    Step for step as PyTorch documents it. ``params`` is an iterable of tensors (or of (name,
    tensor) pairs), or of dicts defining parameter groups with their own settings. ``lr``,
    ``betas``, ``eps``, ``weight_decay`` (L2 penalty) and ``maximize`` as in torch.optim.Adamax;
    ``foreach`` and ``capturable`` are accepted for compatibility, ``differentiable=True`` raises.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _validate(lr, epsilon=eps)
        _check_betas(betas)
        _validate(lr, weight_decay=weight_decay)
        _check_differentiable("Adamax", differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, group):
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        eps, weight_decay, maximize = group["eps"], group["weight_decay"], group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if not st:
                st["step"] = _step_counter()
                st["exp_avg"] = _zeros_like(p)
                st["exp_inf"] = _zeros_like(p)
            count = st["step"]._data
            count += 1
            d = _direction(p, g, weight_decay, maximize)
            m, u = st["exp_avg"]._data, st["exp_inf"]._data
            _lerp_(m, d, 1 - beta1)
            u *= beta2
            tmp = np.abs(d)
            tmp += eps
            np.maximum(u, tmp, out=u)
            clr = lr / (1 - beta1 ** float(count))
            np.multiply(m, -clr, out=tmp)
            tmp /= u
            p._data += tmp
            _written(p, st)

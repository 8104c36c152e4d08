"""torch.optim.RAdam: Adam whose adaptive step is rectified while its variance is unreliable."""
import numpy as np

from .adamax import _check_betas
from .optimizer import (Optimizer, _check_differentiable, _direction, _lerp_, _step_counter,
                        _validate, _written, _zeros_like)


class RAdam(Optimizer):
    """Rectified Adam, which damps the early steps' variance (torch.optim.RAdam).

    Step for step as PyTorch documents it. ``params`` is an iterable of tensors (or of (name,
    tensor) pairs), or of dicts defining parameter groups with their own settings. ``lr``,
    ``betas``, ``eps``, ``weight_decay``, ``decoupled_weight_decay`` and ``maximize`` as in
    torch.optim.RAdam; ``foreach`` and ``capturable`` are accepted for compatibility,
    ``differentiable=True`` raises.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _validate(lr, epsilon=eps)
        _check_betas(betas)
        _validate(lr, weight_decay=weight_decay)
        _check_differentiable("RAdam", differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _update(self, group):
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        eps, weight_decay, maximize = group["eps"], group["weight_decay"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1      # the longest the approximated SMA gets
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if not st:
                st["step"] = _step_counter()
                st["exp_avg"] = _zeros_like(p)
                st["exp_avg_sq"] = _zeros_like(p)
            count = st["step"]._data
            count += 1
            t = float(count)
            x = p._data
            if decoupled and weight_decay != 0:
                x *= 1 - lr * weight_decay
                d = _direction(p, g, 0, maximize)
            else:
                d = _direction(p, g, weight_decay, maximize)
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            _lerp_(m, d, 1 - beta1)
            v *= beta2
            tmp = np.multiply(d, 1 - beta2)
            tmp *= d
            v += tmp
            bc1, bc2 = 1 - beta1 ** t, 1 - beta2 ** t
            rho_t = rho_inf - 2 * t * beta2 ** t / bc2
            step = np.divide(m, bc1)
            step *= lr
            if rho_t > 5.0:     # the variance is tractable: rectified adaptive step
                adaptive = np.sqrt(v, out=tmp)
                adaptive += eps
                np.divide(bc2 ** 0.5, adaptive, out=adaptive)
                step *= adaptive
                step *= ((rho_t - 4) * (rho_t - 2) * rho_inf
                         / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            x -= step
            _written(p, st)

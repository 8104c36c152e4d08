"""torch.optim.NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""
import numpy as np

from .._tensor import _leaf
from .adamax import _check_betas
from .optimizer import (Optimizer, _check_differentiable, _direction, _lerp_, _step_counter,
                        _validate, _written, _zeros_like)


class NAdam(Optimizer):
    """Adam with Nesterov momentum (torch.optim.NAdam).

    Step for step as PyTorch documents it (mu_product kept in float32). ``params`` is an iterable of
    tensors (or of (name, tensor) pairs), or of dicts defining parameter groups with their own
    settings. ``lr``, ``betas``, ``eps``, ``weight_decay``, ``momentum_decay``,
    ``decoupled_weight_decay`` and ``maximize`` as in torch.optim.NAdam; ``foreach`` and
    ``capturable`` are accepted for compatibility, ``differentiable=True`` raises.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _validate(lr, epsilon=eps)
        _check_betas(betas)
        _validate(lr, weight_decay=weight_decay, momentum_decay=momentum_decay)
        _check_differentiable("NAdam", differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _update(self, group):
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        eps, weight_decay, maximize = group["eps"], group["weight_decay"], group["maximize"]
        psi, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if not st:
                st["step"] = _step_counter()
                st["mu_product"] = _leaf(np.ones((), np.float32))
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
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            prod = st["mu_product"]._data
            prod *= mu      # a float32 running product, as torch keeps it
            prod_now = float(prod)
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            _lerp_(m, d, 1 - beta1)
            v *= beta2
            tmp = np.multiply(d, 1 - beta2)
            tmp *= d
            v += tmp
            denom = np.divide(v, 1 - beta2 ** t, out=tmp)
            np.sqrt(denom, out=denom)
            denom += eps
            # the Nesterov step: a part along the gradient, a part along the next momentum
            step = np.multiply(d, -lr * (1.0 - mu) / (1.0 - prod_now))
            step /= denom
            x += step
            np.multiply(m, -lr * mu_next / (1.0 - prod_now * mu_next), out=step)
            step /= denom
            x += step
            _written(p, st)

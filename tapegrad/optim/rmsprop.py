"""torch.optim.RMSprop: plain or centered, with optional momentum."""
import numpy as np

from .optimizer import (Optimizer, _check_differentiable, _direction, _lerp_, _step_counter,
                        _validate, _written, _zeros_like)


class RMSprop(Optimizer):
    """RMSprop: steps scaled by a running average of squared gradients (torch.optim.RMSprop).

    Step for step as PyTorch documents it. ``params`` is an iterable of tensors (or of (name,
    tensor) pairs), or of dicts defining parameter groups with their own settings. ``lr``, ``alpha``
    (the average's decay), ``eps``, ``weight_decay``, ``momentum``, ``centered`` (divide by the
    variance estimate instead) and ``maximize`` as in torch.optim.RMSprop; ``capturable``
    and ``foreach`` are accepted for compatibility, ``differentiable=True`` raises.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_differentiable(type(self).__name__, differentiable)
        _validate(lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _update(self, group):
        lr = float(group["lr"])
        alpha, eps, momentum, centered = (group["alpha"], group["eps"], group["momentum"],
                                          group["centered"])
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if not st:
                st["step"] = _step_counter()
                st["square_avg"] = _zeros_like(p)
                if momentum > 0:
                    st["momentum_buffer"] = _zeros_like(p)
                if centered:
                    st["grad_avg"] = _zeros_like(p)
            st["step"]._data += 1
            d = _direction(p, g, weight_decay, maximize)
            sq = st["square_avg"]._data
            sq *= alpha
            tmp = np.multiply(d, 1 - alpha)
            tmp *= d
            sq += tmp
            if centered:
                ga = st["grad_avg"]._data
                _lerp_(ga, d, 1 - alpha)
                np.multiply(ga, ga, out=tmp)
                avg = np.subtract(sq, tmp, out=tmp)
                np.sqrt(avg, out=avg)
            else:
                avg = np.sqrt(sq, out=tmp)
            avg += eps
            x = p._data
            if momentum > 0:
                buf = st["momentum_buffer"]._data
                buf *= momentum
                np.divide(d, avg, out=avg)
                buf += avg
                x += np.multiply(buf, -lr)
            else:
                np.divide(np.multiply(d, -lr), avg, out=avg)
                x += avg
            _written(p, st)

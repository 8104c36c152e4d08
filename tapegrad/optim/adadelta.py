"""torch.optim.Adadelta: steps scaled by the ratio of running RMS of updates and of gradients."""
import numpy as np

from .optimizer import (Optimizer, _axpy_, _check_differentiable, _direction, _step_counter,
                        _validate, _written, _zeros_like)


class Adadelta(Optimizer):
    """Adadelta: steps scaled by running averages of squared gradients and updates.

    Step for step as torch.optim.Adadelta documents it. ``params`` is an iterable of tensors (or of
    (name, tensor) pairs), or of dicts defining parameter groups with their own settings. ``lr``
    scales the update, ``rho`` is the averages' decay, ``eps`` guards the square roots,
    ``weight_decay`` is an L2 penalty and ``maximize`` ascends instead; ``foreach`` and
    ``capturable`` are accepted for compatibility, ``differentiable=True`` raises.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _validate(lr, epsilon=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_differentiable("Adadelta", differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _update(self, group):
        lr, rho, eps = float(group["lr"]), group["rho"], group["eps"]
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
                st["acc_delta"] = _zeros_like(p)
            st["step"]._data += 1
            d = _direction(p, g, weight_decay, maximize)
            sq, acc = st["square_avg"]._data, st["acc_delta"]._data
            sq *= rho
            tmp = np.multiply(d, 1 - rho)
            tmp *= d
            sq += tmp
            std = np.add(sq, eps, out=tmp)
            np.sqrt(std, out=std)
            delta = np.add(acc, eps)
            np.sqrt(delta, out=delta)
            delta /= std
            delta *= d
            acc *= rho
            np.multiply(delta, 1 - rho, out=tmp)
            tmp *= delta
            acc += tmp
            _axpy_(-lr, delta, p._data)
            _written(p, st)

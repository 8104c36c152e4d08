"""torch.optim.Adam and AdamW (decoupled weight decay), with amsgrad and maximize."""
import numpy as np

from .optimizer import (Optimizer, _check_differentiable, _direction, _lerp_, _step_counter,
                        _validate, _written, _zeros_like)


class Adam(Optimizer):
    """Adam: steps scaled by bias-corrected first and second moments (torch.optim.Adam).

    Step for step as PyTorch documents it. ``params`` is an iterable of tensors (or of (name,
    tensor) pairs), or of dicts defining parameter groups with their own settings. ``lr``, ``betas``
    (the moments' decay rates), ``eps``, ``weight_decay`` (an L2 penalty, or decoupled as in AdamW
    with ``decoupled_weight_decay``), ``amsgrad`` (keep the largest second moment) and ``maximize``
    as in torch.optim.Adam; ``foreach``, ``capturable`` and ``fused`` are accepted for
    compatibility, ``differentiable=True`` raises.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_differentiable(type(self).__name__, differentiable)
        _validate(lr, epsilon=eps, weight_decay=weight_decay)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} (expected 0 <= "
                                 "beta < 1)")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, group):
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        eps, weight_decay, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
        maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
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
                if amsgrad:
                    st["max_exp_avg_sq"] = _zeros_like(p)
            x = p._data
            count = st["step"]._data
            count += 1
            t = float(count)
            if decoupled:
                if weight_decay != 0:
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
            if amsgrad:
                vmax = st["max_exp_avg_sq"]._data
                np.maximum(vmax, v, out=vmax)
                v = vmax
            step_size = lr / (1 - beta1 ** t)
            denom = np.sqrt(v)
            denom /= (1 - beta2 ** t) ** 0.5
            denom += eps
            np.multiply(m, -step_size, out=tmp)
            tmp /= denom
            x += tmp
            _written(p, st)


class AdamW(Adam):
    """Adam with decoupled weight decay, which shrinks the parameters directly (optim.AdamW).

    ``params`` is an iterable of tensors (or of (name, tensor) pairs), or of dicts defining
    parameter groups with their own settings. ``lr``, ``betas``, ``eps``, ``weight_decay``
    (default 1e-2), ``amsgrad`` and ``maximize`` as in torch.optim.AdamW; ``foreach``,
    ``capturable`` and ``fused`` are accepted for compatibility, ``differentiable=True``
    raises.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

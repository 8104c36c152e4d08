"""torch.optim.ASGD: averaged SGD, keeping the running average `ax` of the iterates."""
import numpy as np

from .._tensor import _leaf
from .optimizer import (Optimizer, _axpy_, _check_differentiable, _direction, _step_counter,
                        _validate, _written, _zeros_like)


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (torch.optim.ASGD).

    Step for step as PyTorch documents it (eta and mu as float32 scalars). ``params`` is an iterable
    of tensors (or of (name, tensor) pairs), or of dicts defining parameter groups with their own
    settings. ``lr``, ``lambd`` (decay term), ``alpha`` (power for the eta update), ``t0`` (step at
    which averaging starts), ``weight_decay`` and ``maximize`` as in torch.optim.ASGD; ``foreach``
    and ``capturable`` are accepted for compatibility, ``differentiable=True`` raises.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _validate(lr, weight_decay=weight_decay)
        _check_differentiable("ASGD", differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, group):
        lr = float(group["lr"])
        lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state[p]
            if not st:
                st["step"] = _step_counter()
                st["eta"] = _leaf(np.array(lr, np.float32))
                st["mu"] = _leaf(np.ones((), np.float32))
                st["ax"] = _zeros_like(p)
            count = st["step"]._data
            count += 1
            d = _direction(p, g, weight_decay, maximize)
            x = p._data
            eta = float(st["eta"]._data)
            x *= 1 - lambd * eta        # the decay term
            _axpy_(-eta, d, x)
            ax, mu = st["ax"]._data, st["mu"]._data
            if float(mu) != 1:
                tmp = np.subtract(x, ax)
                tmp *= mu
                ax += tmp
            else:
                np.copyto(ax, x)
            t = float(count)
            # torch rounds both through float32 tensors, whatever dtype they are kept in
            st["eta"]._data[...] = np.float32(lr / ((1 + lambd * lr * t) ** alpha))
            mu[...] = np.float32(1 / max(1, t - t0))
            _written(p, st)

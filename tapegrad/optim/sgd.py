"""torch.optim.SGD: stochastic gradient descent with momentum, dampening and Nesterov."""
import numpy as np

from .._tensor import _leaf
from ..sparse import SparseGrad
from ..tape import bump_version
from .optimizer import Optimizer, _axpy_, _check_differentiable, _direction, _validate


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (torch.optim.SGD).

    Step for step as PyTorch documents it (the momentum buffer starts at g_1). ``params`` is an
    iterable of tensors (or of (name, tensor) pairs), or of dicts defining parameter groups with
    their own settings. ``lr``, ``momentum``, ``dampening``, ``weight_decay`` (L2 penalty),
    ``nesterov`` and ``maximize`` (ascend instead) as in torch.optim.SGD; ``foreach`` and
    ``fused`` are accepted for compatibility, ``differentiable=True`` raises. A sparse gradient
    (nn.Embedding(sparse=True)) updates only its rows when there is no momentum or weight decay.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        _check_differentiable(type(self).__name__, differentiable)
        _validate(lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, group):
        lr = float(group["lr"])
        momentum, dampening = group["momentum"], group["dampening"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        nesterov = group["nesterov"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            if isinstance(g, SparseGrad):
                if weight_decay != 0:
                    raise RuntimeError("SGD: weight_decay is not supported with sparse "
                                       "gradients (add(sparse, dense) is not supported)")
                if momentum == 0:
                    # only the rows the sparse gradient holds change (repeats add up)
                    rows, values = g.rows_values()
                    np.add.at(p._data, rows, (lr if maximize else -lr) * values)
                    bump_version(p)
                    continue
                # momentum touches every row it ever saw: PyTorch's sparse buffer, made dense
                g = g.to_dense()
            d = _direction(p, g, weight_decay, maximize)
            if momentum != 0:
                st = state[p]
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = _leaf(np.array(d))
                else:
                    b = buf._data
                    b *= momentum
                    _axpy_(1 - dampening, d, b)
                bump_version(buf)
                d = d + momentum * buf._data if nesterov else buf._data
            _axpy_(-lr, d, p._data)
            bump_version(p)

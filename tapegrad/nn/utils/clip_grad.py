"""Gradient clipping (``torch.nn.utils.clip_grad_norm_`` and friends), in place under no_grad."""

from ...creation import tensor
from ...grad_mode import no_grad
from ...ops.comparison import isfinite
from ...ops.elementwise import clamp
from ...ops.join import stack
from ...ops.statistics import norm
from ..._tensor import Tensor


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters):
    return [p.grad for p in _tensors(parameters) if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of the norms of ``tensors`` (0 for none) (nn.utils.get_total_norm).

    Computed under no_grad; with ``error_if_nonfinite`` a NaN or infinite total raises
    RuntimeError. ``foreach`` is accepted for compatibility and unused.
    """
    tensors = _tensors(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    with no_grad():
        total = norm(stack([norm(t, norm_type) for t in tensors]), norm_type)
    if error_if_nonfinite and not bool(isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every .grad of ``parameters`` by min(1, max_norm / (total_norm + 1e-6)), in place.

    Mirrors ``torch.nn.utils.clip_grads_with_norm_``: ``parameters`` is a tensor or an
    iterable of them, ``max_norm`` the wanted norm and ``total_norm`` the current one (from
    :func:`get_total_norm`). ``foreach`` is accepted for compatibility and unused.
    """
    grads = _grads(parameters)
    if not grads:
        return
    with no_grad():
        coef = clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients of ``parameters`` in place so their joint norm is at most ``max_norm``.

    Mirrors ``torch.nn.utils.clip_grad_norm_`` and returns the total norm as it was before
    clipping. ``parameters`` is a tensor or an iterable of them; ``norm_type`` is the norm's
    order (inf allowed); ``error_if_nonfinite`` raises on a NaN or infinite total;
    ``foreach`` is accepted for compatibility and unused.
    """
    parameters = _tensors(parameters)    # a generator is read once, for both passes
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every .grad of ``parameters`` to [-clip_value, clip_value], in place.

    Mirrors ``torch.nn.utils.clip_grad_value_``; ``parameters`` is a tensor or an iterable of
    them, ``clip_value`` a positive number; ``foreach`` is accepted and unused.
    """
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)


__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]

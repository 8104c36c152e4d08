"""`batch_norm`, `layer_norm` and `BatchNorm1d`, `BatchNorm2d`, `LayerNorm` (torch.nn's)."""
from .. import creation, dtypes
from ..grad_mode import no_grad
from ..ops import nn as _ops
from ..ops.unary import rsqrt
from ..ops.reduction import mean
from ..ops.shape import reshape
from ..tape import bump_version
from . import init
from .module import Module
from .parameter import Parameter


def _check_stat(t, name, channels):
    if t is not None and t.numel() != channels:
        raise RuntimeError(f"batch_norm: {name} should contain {channels} elements not "
                           f"{t.numel()}")


def _update(buffer, momentum, batch_value):
    """running = (1 - momentum) * running + momentum * batch, in place, outside autograd."""
    a = buffer._data
    a *= 1 - momentum
    a += momentum * batch_value.astype(a.dtype, copy=False)
    bump_version(buffer)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over dim 1 of (N, C, ...) ``input`` (torch.nn.functional.batch_norm).

    When ``training``, each channel is normalised with its batch mean and biased variance, and
    ``running_mean`` / ``running_var`` (C,) (if given) are updated in place with ``momentum``
    (unbiased variance, as PyTorch); otherwise the running statistics are used. ``eps`` is
    added to the variance; ``weight`` and ``bias`` (C,) scale and shift each channel.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of at least 2 dimensions (N, C, ...), "
                         f"got shape {list(input.shape)}")
    C = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_stat(t, name, C)
    shape = (1, C) + (1,) * (input.ndim - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given when "
                               "not training")
        scale = rsqrt(running_var + eps)
        if weight is not None:
            scale = scale * weight
        shift = -running_mean * scale if bias is None else bias - running_mean * scale
        return input * reshape(scale, shape) + reshape(shift, shape)
    n = input.numel() // C
    if n <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {input.shape}")
    batch_mean, batch_var = _ops.batch_stats(input._data)
    out = _ops.batch_norm(input, weight, bias, batch_mean, batch_var, eps=eps)
    if running_mean is not None:
        _update(running_mean, momentum, batch_mean)
    if running_var is not None:
        _update(running_var, momentum, batch_var * (n / (n - 1)))
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` dims (functional.layer_norm).

    ``input`` is normalised with its mean and biased variance (plus ``eps``) over those dims,
    then multiplied by ``weight`` and shifted by ``bias``, both of ``normalized_shape``.
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(f"layer_norm: Given normalized_shape={list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input of size "
                           f"{list(input.shape)}")
    dims = tuple(range(-k, 0))
    centered = input - mean(input, dims, keepdim=True)
    out = centered * rsqrt(mean(centered * centered, dims, keepdim=True) + eps)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d: parameters, running statistics and forward."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._bias = affine and bias
        if affine:
            self.weight = Parameter(creation.empty(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if self._bias:
            self.bias = Parameter(creation.empty(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=dtypes.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{self!r}: expected input with {self.num_features} channels "
                               f"(dim 1), got input of shape {list(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            bump_version(self.num_batches_tracked)
            # momentum=None: a cumulative moving average
            factor = 1.0 / int(self.num_batches_tracked) if self.momentum is None else \
                self.momentum
        stats = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if stats else None,
                          self.running_var if stats else None, self.weight, self.bias,
                          self.training or self.running_mean is None, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self._bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input (torch.nn.BatchNorm1d).

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float
        Added to the variance for stability.
    momentum : float or None
        Weight of the batch statistics in the running ones (None: a cumulative average).
    affine : bool
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool
        Keep ``running_mean`` and ``running_var`` buffers and use them in eval mode.
    device, dtype
        Where and in which dtype the parameters and buffers are created.
    bias : bool
        Keyword-only; False drops the learned shift.
    """

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: expected 2D or 3D input (got {input.ndim}D "
                             "input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input (torch.nn.BatchNorm2d).

    ``num_features``, ``eps``, ``momentum``, ``affine``, ``track_running_stats``,
    ``device``, ``dtype`` and ``bias`` as in :class:`BatchNorm1d`.
    """

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(f"{type(self).__name__}: expected 4D input (got {input.ndim}D input)")


class LayerNorm(Module):
    """Module applying :func:`layer_norm` over the trailing ``normalized_shape`` dims.

    As torch.nn.LayerNorm: ``eps`` is added to the variance; with ``elementwise_affine`` it
    learns a ``weight`` (ones) and, if ``bias``, a bias (zeros) of ``normalized_shape``.
    ``device`` and ``dtype`` are accepted as in torch; ``dtype`` sets the parameters' dtype.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._bias = elementwise_affine and bias
        if elementwise_affine:
            self.weight = Parameter(creation.empty(self.normalized_shape, dtype=dtype,
                                                   device=device))
        else:
            self.register_parameter("weight", None)
        if self._bias:
            self.bias = Parameter(creation.empty(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Set the weight to ones and the bias to zeros."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self._bias}")

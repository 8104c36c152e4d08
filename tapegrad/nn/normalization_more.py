"""`group_norm`, `instance_norm`, `rms_norm`, `GroupNorm`, `InstanceNorm1d/2d/3d`, `RMSNorm`
(torch.nn's).

All compose tapegrad ops (mean, rsqrt, ...) as layer_norm does, so every order of derivative
is there; only the dims that are averaged differ.
"""
import numpy as np

from .. import creation
from ..ops.reduction import mean
from ..ops.shape import reshape, unsqueeze, squeeze
from ..ops.unary import rsqrt
from . import init
from .module import Module
from .normalization import _BatchNorm, _update
from .parameter import Parameter


def _normalize(x, dims, eps):
    """(x - mean) / sqrt(biased var + eps) over dims, and the variance."""
    centered = x - mean(x, dims, keepdim=True)
    var = mean(centered * centered, dims, keepdim=True)
    return centered * rsqrt(var + eps), var


def _affine(out, weight, bias):
    """out * weight + bias with per-channel (dim 1) weight and bias."""
    shape = (1, -1) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * reshape(weight, shape)
    return out if bias is None else out + reshape(bias, shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation of (N, C, ...) ``input`` (torch.nn.functional.group_norm).

    Each of ``num_groups`` channel groups of each sample is normalised with its mean and
    biased variance (plus ``eps``), then scaled by ``weight`` and shifted by ``bias`` (C,).
    """
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor but "
                           f"received {input.ndim}")
    N, C = input.shape[:2]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"group_norm: Expected {name} to be a vector of size equal to "
                               f"the number of channels in input, but got {name} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    grouped = reshape(input, (N, num_groups, -1))
    out = reshape(_normalize(grouped, (-1,), eps)[0], tuple(input.shape))
    return _affine(out, weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation of (N, C, ...) ``input`` (torch.nn.functional.instance_norm).

    Each channel of each sample is normalised over its spatial dims (plus ``eps``), then
    scaled by ``weight`` and shifted by ``bias`` (C,). With ``use_input_stats`` the
    per-instance statistics are used and ``running_mean`` / ``running_var`` (if given) are
    updated with ``momentum``; otherwise the running statistics are used.
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of at least 3 dimensions (N, C, *), "
                         f"got shape {list(input.shape)}")
    C = input.shape[1]
    dims = tuple(range(2, input.ndim))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        shape = (1, C) + (1,) * len(dims)
        out = (input - reshape(running_mean, shape)) * rsqrt(reshape(running_var, shape) + eps)
        return _affine(out, weight, bias)
    n = input.numel() // (input.shape[0] * C)
    if n <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    out, var = _normalize(input, dims, eps)
    if running_mean is not None:
        # PyTorch's: the batch average of each instance's mean and unbiased variance
        _update(running_mean, momentum, input._data.mean(axis=dims).mean(0))
    if running_var is not None:
        _update(running_var, momentum, var._data.reshape(var.shape[:2]).mean(0) * (n / (n - 1)))
    return _affine(out, weight, bias)


class GroupNorm(Module):
    """Module applying :func:`group_norm` with ``num_groups`` groups (torch.nn.GroupNorm).

    ``num_channels`` must be divisible by ``num_groups``; ``eps`` is added to the variance;
    with ``affine`` it learns a weight (ones) and bias (zeros) of ``num_channels`` entries,
    created on ``device`` with ``dtype``.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        if affine:
            self.weight = Parameter(creation.empty(num_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(creation.empty(num_channels, dtype=dtype, device=device))
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
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """Shared by InstanceNorm1d/2d/3d: BatchNorm's parameters and buffers (affine and
    track_running_stats off by default), per-instance statistics."""

    spatial = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        k = self.spatial
        if input.ndim not in (k + 1, k + 2):
            raise ValueError(f"expected {k + 1}D or {k + 2}D input (got {input.ndim}D input)")
        batched = input.ndim == k + 2
        channels = input.shape[1 if batched else 0]
        if channels != self.num_features and self.affine:
            raise ValueError(f"expected input's size at dim={int(batched)} to match "
                             f"num_features ({self.num_features}), but got: {channels}.")
        x = input if batched else unsqueeze(input, 0)
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return out if batched else squeeze(out, 0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) input (torch.nn.InstanceNorm1d).

    ``num_features``, ``eps``, ``momentum``, ``affine`` (default False),
    ``track_running_stats`` (default False), ``device``, ``dtype`` and ``bias`` as in
    BatchNorm1d.
    """

    spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) input (torch.nn.InstanceNorm2d).

    ``num_features``, ``eps``, ``momentum``, ``affine`` (default False),
    ``track_running_stats`` (default False), ``device``, ``dtype`` and ``bias`` as in
    BatchNorm1d.
    """

    spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) input (nn.InstanceNorm3d).

    ``num_features``, ``eps``, ``momentum``, ``affine`` (default False),
    ``track_running_stats`` (default False), ``device``, ``dtype`` and ``bias`` as in
    BatchNorm1d.
    """

    spatial = 3


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """RMS normalisation x / sqrt(mean(x^2) + eps) of ``input`` (torch.nn.functional.rms_norm).

    The mean runs over the trailing ``normalized_shape`` dims; the result is multiplied by
    ``weight`` (of that shape) if given; ``eps`` defaults to the dtype's machine epsilon.
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(shape)}, expected input with "
                           f"shape [*, {', '.join(map(str, shape))}], but got input of size "
                           f"{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input * rsqrt(mean(input * input, dims, keepdim=True) + eps)
    return out if weight is None else out * weight


class RMSNorm(Module):
    """Module applying :func:`rms_norm` over the trailing ``normalized_shape`` dims (nn.RMSNorm).

    ``eps`` as there; with ``elementwise_affine`` it learns a ``weight`` (ones) of
    ``normalized_shape``. ``device`` and ``dtype`` are accepted as in torch; ``dtype`` sets
    the weight's dtype.
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(self.normalized_shape, dtype=dtype,
                                                  device=device))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        """Set the weight to ones."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input):
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")

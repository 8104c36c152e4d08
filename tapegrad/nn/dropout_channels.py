"""Channel dropout: `dropout1d/2d/3d` and `Dropout1d/2d/3d` (torch.nn's).

Whole channels (feature maps) are zeroed together; masks come from tapegrad's generator.
"""
import warnings

from .. import creation
from .dropout import _check
from .module import Module


def _feature_dropout(input, p, training, inplace, batched):
    """Zero each (sample, channel) map with probability p, scale the rest by 1/(1-p)."""
    _check(p)
    if not training or p == 0:
        return input
    lead = 2 if batched else 1     # the (sample and) channel dims the mask varies over
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    dtype = input._data.dtype
    if p == 1:
        mask = creation.zeros(*shape, dtype=dtype)
    else:
        keep = creation.numpy_rng(None).random(shape) >= p
        mask = creation.tensor(keep.astype(dtype) * dtype.type(1 / (1 - p)))
    return input.mul_(mask) if inplace else input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel dropout of (N, C, L) or (C, L) ``input`` (torch.nn.functional.dropout1d).

    When ``training``, each whole channel is zeroed with probability ``p`` and the rest are
    scaled by 1/(1-p); ``inplace=True`` writes into ``input``.
    """
    _check(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout "
                           "on inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, input.ndim == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout of (N, C, H, W) ``input`` (torch.nn.functional.dropout2d).

    3-D input is read as (N, C, L), with PyTorch's warning. When ``training``, each whole
    channel is zeroed with probability ``p`` and the rest are scaled by 1/(1-p);
    ``inplace=True`` writes into ``input``.
    """
    _check(p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead.",
                      stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. To maintain the 1D "
                      "channel-wise dropout behavior, please switch to using dropout1d "
                      "instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel dropout of (N, C, D, H, W) or (C, D, H, W) ``input`` (functional.dropout3d).

    When ``training``, each whole channel is zeroed with probability ``p`` and the rest are
    scaled by 1/(1-p); ``inplace=True`` writes into ``input``.
    """
    _check(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead.",
                      stacklevel=2)
    return _feature_dropout(input, p, training, inplace, input.ndim == 5)


class _DropoutNd(Module):

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check(p)
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Module applying :func:`dropout1d` in training mode (torch.nn.Dropout1d).

    ``p`` is the probability of zeroing a channel; ``inplace=True`` overwrites the input.
    """

    def forward(self, input):
        return dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Module applying :func:`dropout2d` in training mode (torch.nn.Dropout2d).

    ``p`` is the probability of zeroing a channel; ``inplace=True`` overwrites the input.
    """

    def forward(self, input):
        return dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Module applying :func:`dropout3d` in training mode (torch.nn.Dropout3d).

    ``p`` is the probability of zeroing a channel; ``inplace=True`` overwrites the input.
    """

    def forward(self, input):
        return dropout3d(input, self.p, self.training, self.inplace)

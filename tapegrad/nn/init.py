"""Weight initialisation (torch.nn.init): in place, under no_grad, with PyTorch's formulas.

Random draws come from tapegrad's NumPy generator (or `generator`), so the numbers differ
from PyTorch's even with the same seed; the distributions are the same.
"""
import math
import warnings

import numpy as np
from scipy import special

from ..creation import numpy_rng, tensor as _tensor
from ..grad_mode import no_grad

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended std multiplier (gain) after a nonlinearity (torch.nn.init.calculate_gain).

    ``nonlinearity`` is a name such as 'linear', 'conv2d', 'sigmoid', 'tanh', 'relu',
    'leaky_relu' or 'selu'; ``param`` is leaky_relu's negative slope (default 0.01).
    """
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out): dims 1 and 0 times the receptive field (the dims after them)."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _write(t, values):
    with no_grad():
        t.copy_(_tensor(values))
    return t


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill ``tensor`` in place with draws from U(a, b) and return it (``torch.nn.init.uniform_``).

    ``a`` and ``b`` are the bounds; ``generator`` is an optional random generator.
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill ``tensor`` in place with draws from N(mean, std^2) and return it (``nn.init.normal_``).

    ``mean`` and ``std`` set the distribution; ``generator`` is an optional random generator.
    """
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill ``tensor`` in place with N(mean, std^2) truncated to [a, b] (``nn.init.trunc_normal_``).

    Drawn by inverting the normal CDF; ``a`` and ``b`` are absolute bounds (not in stds),
    ``mean`` and ``std`` describe the untruncated normal; ``generator`` is an optional
    random generator.
    """
    lo, hi = special.ndtr((a - mean) / std), special.ndtr((b - mean) / std)
    u = numpy_rng(generator).uniform(lo, hi, tuple(tensor.shape))
    return _write(tensor, np.clip(mean + std * special.ndtri(u), a, b))


def constant_(tensor, val):
    """Fill ``tensor`` in place with the number ``val`` and return it (``nn.init.constant_``)."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill ``tensor`` in place with ones and return it (``torch.nn.init.ones_``)."""
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fill ``tensor`` in place with zeros and return it (``torch.nn.init.zeros_``)."""
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Fill the 2-D ``tensor`` in place with the identity matrix (``torch.nn.init.eye_``)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform init of ``tensor``: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    Mirrors ``torch.nn.init.xavier_uniform_``; ``tensor`` needs at least 2 dims, ``gain`` scales
    the bound and ``generator`` is an optional random generator.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal init of ``tensor``: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).

    Mirrors ``torch.nn.init.xavier_normal_``; ``tensor`` needs at least 2 dims, ``gain`` scales
    the std and ``generator`` is an optional random generator.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op")
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He (Kaiming) uniform init of ``tensor``: U(-b, b), b = gain * sqrt(3 / fan).

    Mirrors ``torch.nn.init.kaiming_uniform_``: ``mode`` 'fan_in' or 'fan_out' picks fan, gain is
    calculate_gain(``nonlinearity``, ``a``) with ``a`` leaky_relu's negative slope;
    ``generator`` is an optional random generator. A zero-element tensor is left as is.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He (Kaiming) normal init of ``tensor``: N(0, std^2), std = gain / sqrt(fan).

    Mirrors ``torch.nn.init.kaiming_normal_``: ``mode`` 'fan_in' or 'fan_out' picks fan, gain is
    calculate_gain(``nonlinearity``, ``a``) with ``a`` leaky_relu's negative slope;
    ``generator`` is an optional random generator.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill ``tensor`` (2 or more dims) with a (semi-)orthogonal matrix times ``gain``.

    Mirrors ``torch.nn.init.orthogonal_``: the Q of the QR of a Gaussian matrix (R's diagonal made
    positive, so Q is Haar-distributed), of shape (rows, numel / rows), reshaped to the
    tensor's shape. ``generator`` is an optional random generator.
    """
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    a = numpy_rng(generator).standard_normal((rows, cols))
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tuple(tensor.shape)))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill the 2-D ``tensor`` with N(0, std^2), then zero a fraction of each column.

    Mirrors ``torch.nn.init.sparse_``: ceil(``sparsity`` * rows) random entries per column become
    0; ``std`` is the normal's std and ``generator`` an optional random generator.
    """
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    rng = numpy_rng(generator)
    a = rng.normal(0.0, std, (rows, cols))
    zeros = int(math.ceil(sparsity * rows))
    for c in range(cols):
        a[rng.permutation(rows)[:zeros], c] = 0.0
    return _write(tensor, a)


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-d conv weight ``tensor`` so the conv is the identity (``nn.init.dirac_``).

    Each input channel passes through to the same output channel within each of ``groups``
    groups, keeping as many channels as the smaller of in and out.
    """
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = sizes[0] // groups
    a = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min(per_group, sizes[1])):
            a[(g * per_group + d, d) + centre] = 1.0
    return _write(tensor, a)

"""`pad` (torch.nn.functional.pad): constant, reflect, replicate and circular padding."""
import numpy as np

from .. import creation
from ..ops.indexing import index_put, index_select, getitem

_NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pairs(pad, ndim):
    """(dim, before, after) for each padded dim, from PyTorch's last-dim-first flat list."""
    if len(pad) % 2:
        raise ValueError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise ValueError(f"Padding length should be less than or equal to two times the input "
                         f"dimension but got padding length {len(pad)} and input of dimension "
                         f"{ndim}")
    return [(ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]


def pad(input, pad, mode="constant", value=None):
    """Pad ``input`` by the amounts in ``pad``, from the last dim back (torch.nn.functional.pad).

    ``pad`` is (left, right, top, bottom, ...): two amounts per padded dim, the last dim
    first. ``mode`` is 'constant' (fill with ``value``, default 0; negative amounts crop),
    'reflect', 'replicate' or 'circular' (these take no value).
    """
    pairs = _pairs(pad, input.ndim)
    if mode == "constant":
        return _pad_constant(input, pairs, 0 if value is None else value)
    if mode not in _NUMPY_MODES:
        raise ValueError(f"pad: unrecognised padding mode '{mode}'; use 'constant', 'reflect', "
                         "'replicate' or 'circular'")
    if value is not None and value != 0:
        raise ValueError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    out = input
    for dim, lo, hi in pairs:
        n = input.shape[dim]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"pad: padding ({lo}, {hi}) should be less than the corresponding "
                             f"input dimension {n} of input of shape {list(input.shape)} in "
                             "reflect mode")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError(f"pad: padding ({lo}, {hi}) can't be larger than the input "
                             f"dimension {n} of input of shape {list(input.shape)} in circular "
                             "mode")
        if min(lo, hi) < 0:
            raise RuntimeError(f"pad: negative padding is only supported in constant mode, got "
                             f"({lo}, {hi})")
        index = np.pad(np.arange(n), (lo, hi), mode=_NUMPY_MODES[mode])
        out = index_select(out, dim, creation.tensor(index))
    return out


def _pad_constant(input, pairs, value):
    shape = list(input.shape)
    crop = [slice(None)] * input.ndim
    place = [slice(None)] * input.ndim
    for dim, lo, hi in pairs:
        n = shape[dim] + lo + hi
        if n < 0:
            raise RuntimeError(f"pad: the padded size of dimension {dim} would be {n} for input "
                               f"of shape {list(input.shape)}")
        crop[dim] = slice(max(-lo, 0), shape[dim] - max(-hi, 0))
        place[dim] = slice(max(lo, 0), n - max(hi, 0))
        shape[dim] = n
    base = creation.full(tuple(shape), value, dtype=input.dtype)
    return index_put(base, tuple(place), getitem(input, tuple(crop)))

"""1-D pooling and adaptive max pooling (torch.nn.functional's `max_pool1d`, `avg_pool1d`,
`adaptive_avg_pool1d`, `adaptive_max_pool2d` and their modules).

The 1-D forms run the 2-D pooling of pooling.py on a unit height.
"""
import numpy as np

from .. import creation
from ..ops.indexing import gather
from ..ops.shape import reshape_prim
from .conv import pair
from .module import Module
from .pooling import MaxPool2d, adaptive_avg_pool2d, avg_pool2d, max_pool2d


def _single(v, name, op):
    """An int from an int or a one-element tuple/list (torch's _single)."""
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise RuntimeError(f"{op}: {name} must be an int or a tuple of one int, got {v}")
        v = v[0]
    return int(v)


def _planes(input, op):
    """(N, C, 1, L) from a (C, L) or (N, C, L) input."""
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) non-empty tensor for input, "
                           f"got shape {list(input.shape)}")
    shape = tuple(input.shape)
    return reshape_prim(input, (1,) * (3 - len(shape)) + shape[:-1] + (1, shape[-1]))


def _lines(out, input):
    """The (N, C, 1, L') result of a 2-D pooling back in the input's (C, L') or (N, C, L')."""
    shape = tuple(out.shape)
    return reshape_prim(out, (shape[:2] if input.ndim == 3 else shape[1:2]) + shape[3:])


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling of (N, C, L) or (C, L) ``input`` (torch.nn.functional.max_pool1d).

    ``kernel_size``, ``stride`` (default: the kernel size), ``padding``, ``dilation`` and
    ``ceil_mode`` as in max_pool2d, each an int; with ``return_indices`` it also returns each
    maximum's position along L.
    """
    op = "max_pool1d"
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == [] else _single(stride, "stride", op)
    res = max_pool2d(_planes(input, op), (1, k), (1, s), (0, _single(padding, "padding", op)),
                     (1, _single(dilation, "dilation", op)), ceil_mode, return_indices)
    if not return_indices:
        return _lines(res, input)
    return _lines(res[0], input), _lines(res[1], input)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling of (N, C, L) or (C, L) ``input`` (torch.nn.functional.avg_pool1d).

    ``kernel_size``, ``stride`` (default: the kernel size), ``padding``, ``ceil_mode`` and
    ``count_include_pad`` as in avg_pool2d, each an int (or a 1-tuple).
    """
    op = "avg_pool1d"
    k = _single(kernel_size, "kernel_size", op)
    s = k if stride is None or stride == [] else _single(stride, "stride", op)
    out = avg_pool2d(_planes(input, op), (1, k), (1, s), (0, _single(padding, "padding", op)),
                     ceil_mode, count_include_pad)
    return _lines(out, input)


def adaptive_avg_pool1d(input, output_size):
    """Average over windows that tile (N, C, L) ``input`` into ``output_size`` steps.

    Mirrors torch.nn.functional.adaptive_avg_pool1d.
    """
    op = "adaptive_avg_pool1d"
    x = _planes(input, op)
    size = _single(output_size, "output_size", op)
    return _lines(adaptive_avg_pool2d(x, (1, size)), input)


def _bounds(n, m):
    """PyTorch's adaptive windows [floor(i n/m), ceil((i+1) n/m)) for i < m."""
    return [((i * n) // m, -((-(i + 1) * n) // m)) for i in range(m)]


def _window_argmax(x, size):
    """Flat positions h * W + w of each adaptive window's maximum (a NaN counts as maximal)."""
    H, W = x.shape[-2:]
    out = np.empty(x.shape[:-2] + tuple(size), np.int64)
    for i, (h0, h1) in enumerate(_bounds(H, size[0])):
        for j, (w0, w1) in enumerate(_bounds(W, size[1])):
            block = x[..., h0:h1, w0:w1].reshape(x.shape[:-2] + (-1,))
            k = np.argmax(np.where(np.isnan(block), np.inf, block), axis=-1)
            nan = np.isnan(block).any(-1)
            if nan.any():
                k = np.where(nan, np.argmax(np.isnan(block), axis=-1), k)
            out[..., i, j] = (h0 + k // (w1 - w0)) * W + w0 + k % (w1 - w0)
    return out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maxima over windows that tile ``input`` into ``output_size`` (F.adaptive_max_pool2d).

    ``output_size`` is an int or an (h, w) pair, None keeping that dim's size; with
    ``return_indices`` it also returns each maximum's flat position. The gradient goes to
    each maximum.
    """
    op = "adaptive_max_pool2d"
    if input.ndim not in (3, 4) or 0 in input.shape[-2:]:
        raise RuntimeError(f"{op}: Expected 3D or 4D tensor with non-zero size for the last two "
                           f"dims, got shape {list(input.shape)}")
    size = pair(output_size, "output_size", op)
    H, W = input.shape[-2:]
    size = (H if size[0] is None else size[0], W if size[1] is None else size[1])
    if min(size) < 0:
        raise RuntimeError(f"{op}: output_size must be non-negative, got {size}")
    idx = _window_argmax(input.detach().numpy(), size)
    lead = tuple(input.shape[:-2])
    flat = reshape_prim(input, lead + (H * W,))
    out = reshape_prim(gather(flat, -1, creation.tensor(idx.reshape(lead + (-1,)))),
                       lead + size)
    return (out, creation.tensor(idx)) if return_indices else out


class MaxPool1d(MaxPool2d):
    """Module applying :func:`max_pool1d` (torch.nn.MaxPool1d).

    ``kernel_size``, ``stride``, ``padding``, ``dilation``, ``return_indices`` and
    ``ceil_mode`` as there.
    """

    def forward(self, input):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class AvgPool1d(Module):
    """Module applying :func:`avg_pool1d` (torch.nn.AvgPool1d).

    ``kernel_size``, ``stride`` and ``padding`` (kept as 1-tuples, as in PyTorch),
    ``ceil_mode`` and ``count_include_pad`` as there.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = (_single(kernel_size, "kernel_size", "AvgPool1d"),)
        self.stride = (_single(kernel_size if stride is None else stride, "stride",
                               "AvgPool1d"),)
        self.padding = (_single(padding, "padding", "AvgPool1d"),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Module applying :func:`adaptive_avg_pool1d` to ``output_size`` (nn.AdaptiveAvgPool1d)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Module applying :func:`adaptive_max_pool2d` (torch.nn.AdaptiveMaxPool2d).

    ``output_size`` and ``return_indices`` as there.
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"

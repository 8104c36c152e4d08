"""Pooling: `max_pool2d`, `avg_pool2d`, `adaptive_avg_pool2d` and their modules (torch.nn's).

Window geometry follows PyTorch: padding of at most half the kernel, and with ceil_mode a
last, partial window as long as it starts inside the input or its left padding.
"""
import numpy as np

from .. import creation
from ..ops import pool as _ops
from ..ops.linalg import matmul
from ..ops.reduction import mean
from ..ops.shape import reshape_prim
from .conv import pair
from .module import Module


def _batched(input, op):
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError(f"{op}: non-empty 3D or 4D (batch mode) tensor expected for input, "
                           f"got shape {list(input.shape)}")
    return input if input.ndim == 4 else reshape_prim(input, (1,) + tuple(input.shape))


def _unbatched(out, input):
    return out if input.ndim == 4 else reshape_prim(out, tuple(out.shape[1:]))


def _geometry(input, kernel_size, stride, padding, dilation, ceil_mode, op):
    """Normalised (kernel, stride, ((top, bottom), (left, right)) padding, dilation, out size);
    the bottom/right padding is what the last window needs, which ceil_mode may extend."""
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else pair(stride, "stride", op)
    pad, dil = pair(padding, "padding", op), pair(dilation, "dilation", op)
    if min(stride) < 1 or min(kernel) < 1 or min(dil) < 1:
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be greater than zero, "
                           f"got kernel_size={kernel}, stride={stride}, dilation={dil}")
    pads, out = [], []
    for n, k, s, p, d in zip(input.shape[-2:], kernel, stride, pad, dil):
        if not 0 <= p <= (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but "
                               f"got pad={p}, kernel_size={k} and dilation={d}")
        span = n + 2 * p - d * (k - 1) - 1
        m = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (m - 1) * s >= n + p:
            m -= 1      # the last window would start in the right padding
        if m < 1:
            raise RuntimeError(f"{op}: Given input size: ({'x'.join(map(str, input.shape[-3:]))})"
                               f". Calculated output size is {m}. Output size is too small")
        pads.append((p, max((m - 1) * s + d * (k - 1) + 1 - n - p, 0)))
        out.append(m)
    return kernel, stride, tuple(pads), dil, tuple(out)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W) ``input`` (torch.nn.functional.max_pool2d).

    ``kernel_size``, ``stride`` (default: the kernel size), ``padding`` (implicit -inf) and
    ``dilation`` are ints or (h, w) pairs; ``ceil_mode`` rounds the output size up. With
    ``return_indices`` it also returns each maximum's flat position h * W + w in its input
    plane (int64). The gradient goes to each window's maximum.
    """
    x = _batched(input, "max_pool2d")
    kernel, stride, pads, dil, out_hw = _geometry(x, kernel_size, stride, padding, dilation,
                                                  ceil_mode, "max_pool2d")
    offset = _ops.offset_array(tuple(x.shape[:2]) + out_hw, kernel)
    out = _unbatched(_ops.max_pool2d(x, offset, kernel=kernel, stride=stride, padding=pads,
                                     dilation=dil), input)
    if not return_indices:
        return out
    return out, _unbatched(_flat_indices(offset, x.shape[-1], kernel, stride, pads, dil), input)


def _flat_indices(offset, width, kernel, stride, pads, dil):
    Ho, Wo = offset.shape[-2:]
    i, j = np.divmod(offset.astype(np.int64), kernel[1])
    h = np.arange(Ho)[:, None] * stride[0] - pads[0][0] + i * dil[0]
    w = np.arange(Wo) * stride[1] - pads[1][0] + j * dil[1]
    return creation.tensor(h * width + w)


def _divisors(n, k, s, p, m, count_include_pad):
    """Per output position along one dim: how many entries PyTorch divides the window sum by."""
    start = np.arange(m) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling of (N, C, H, W) or (C, H, W) ``input`` (torch.nn.functional.avg_pool2d).

    ``kernel_size``, ``stride`` (default: the kernel size) and ``padding`` (zeros) are ints
    or (h, w) pairs; ``ceil_mode`` rounds the output size up; ``count_include_pad`` counts
    the padding in the divisor; ``divisor_override`` replaces the divisor.
    """
    x = _batched(input, "avg_pool2d")
    kernel, stride, pads, _, out_hw = _geometry(x, kernel_size, stride, padding, 1, ceil_mode,
                                                "avg_pool2d")
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("avg_pool2d: divisor must be not zero")
        scale = 1.0 / divisor_override
    else:
        rows, cols = (_divisors(n, k, s, p[0], m, count_include_pad) for n, k, s, p, m in
                      zip(x.shape[-2:], kernel, stride, pads, out_hw))
        divisor = np.outer(rows, cols)
        scale = 1.0 / divisor[0, 0] if (divisor == divisor[0, 0]).all() else \
            (1.0 / divisor).astype(x.dtype)
    out = _ops.window_sum(x, scale, kernel=kernel, stride=stride, padding=pads, out_hw=out_hw)
    return _unbatched(out, input)


def _averaging(n, m, dtype):
    """(m, n) matrix averaging PyTorch's adaptive windows [floor(i n/m), ceil((i+1) n/m))."""
    a = np.zeros((m, n), dtype)
    for i in range(m):
        lo, hi = (i * n) // m, -((-(i + 1) * n) // m)
        a[i, lo:hi] = 1.0 / (hi - lo)
    return creation.tensor(a)


def adaptive_avg_pool2d(input, output_size):
    """Average over windows that tile ``input`` into ``output_size`` (F.adaptive_avg_pool2d).

    ``output_size`` is an int or an (h, w) pair; None in it keeps that dim's size.
    """
    x = _batched(input, "adaptive_avg_pool2d")
    size = pair(output_size, "output_size", "adaptive_avg_pool2d")
    H, W = x.shape[-2:]
    Ho, Wo = (H if size[0] is None else size[0]), (W if size[1] is None else size[1])
    if (Ho, Wo) == (1, 1):
        out = mean(x, (-2, -1), keepdim=True)
    else:
        # averaging matrices on both sides: exact for any sizes, and a BLAS product
        out = matmul(matmul(_averaging(H, Ho, x.dtype), x), _averaging(W, Wo, x.dtype).T)
    return _unbatched(out, input)


class MaxPool2d(Module):
    """Module applying :func:`max_pool2d` (torch.nn.MaxPool2d).

    ``kernel_size``, ``stride``, ``padding``, ``dilation``, ``return_indices`` and
    ``ceil_mode`` as there.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Module applying :func:`avg_pool2d` (torch.nn.AvgPool2d).

    ``kernel_size``, ``stride``, ``padding``, ``ceil_mode``, ``count_include_pad`` and
    ``divisor_override`` as there.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Module applying :func:`adaptive_avg_pool2d` to ``output_size`` (nn.AdaptiveAvgPool2d)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"

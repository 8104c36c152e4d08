"""Window geometry shared by convolution and pooling (ops/conv.py, ops/pool.py).

Spatial arguments arrive normalised by `tapegrad.nn`: `stride` and `dilation` pairs, `padding`
as ((top, bottom), (left, right)).
"""
import numpy as np


def _span(start, n, step):
    return slice(start, start + step * (n - 1) + 1, step)


def _out_len(n, k, stride, pads, dilation):
    return (n + pads[0] + pads[1] - dilation * (k - 1) - 1) // stride + 1


def _padded(x, padding, value, channel_major=False):
    """x (N, C, H, W) padded with `value`; with channel_major, as a (C, N, Hp, Wp) array."""
    (t, b), (l, r) = padding
    if channel_major:
        x = x.transpose(1, 0, 2, 3)
    if not (t or b or l or r):
        return x
    A, B, H, W = x.shape
    out = np.full((A, B, H + t + b, W + l + r), value, x.dtype)
    out[:, :, t:t + H, l:l + W] = x
    return out


def _offsets(kernel, stride, dilation, out_hw):
    """(offset number, row slice, column slice) of each kernel offset's strided output grid."""
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield (i * kernel[1] + j, _span(i * dilation[0], out_hw[0], stride[0]),
                   _span(j * dilation[1], out_hw[1], stride[1]))


def _crop(a, padding, size):
    (t, _), (l, _) = padding
    return a[:, :, t:t + size[0], l:l + size[1]]

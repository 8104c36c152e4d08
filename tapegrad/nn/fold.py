"""`unfold`, `fold`, `Unfold`, `Fold` (torch.nn.functional's im2col and col2im, torch.nn's).

unfold gathers each block's elements from the zero-padded input by index (the `index`
primitive); fold adds columns back at the same indices (`index_put` with accumulate) and crops
the padding. Each is the other's adjoint, so each is the other's gradient to every order, and
values are copied, never multiplied: inf and NaN stay where they are, as in PyTorch.
"""
import numpy as np

from .. import creation
from ..ops.indexing import index_put
from ..ops.shape import reshape_prim
from .conv import pair
from .module import Module
from .padding import pad


def _geometry(kernel_size, dilation, padding, stride, op):
    kernel, dilation = pair(kernel_size, "kernel_size", op), pair(dilation, "dilation", op)
    padding, stride = pair(padding, "padding", op), pair(stride, "stride", op)
    if min(kernel) < 1 or min(dilation) < 1 or min(stride) < 1 or min(padding) < 0:
        raise RuntimeError(f"{op}: kernel_size, dilation and stride must be positive and padding "
                           f"non-negative, got kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}, stride={stride}")
    return kernel, dilation, tuple((p, p) for p in padding), stride


def _blocks(size, kernel, dilation, pads, stride):
    return tuple((n + 2 * p[0] - d * (k - 1) - 1) // s + 1
                 for n, k, d, p, s in zip(size, kernel, dilation, pads, stride))


def _block_index(blocks, kernel, dilation, stride):
    """Index arrays (kh, 1, bh, 1) and (1, kw, 1, bw): the padded row and column of kernel
    entry (i, j) of block (a, b)."""
    rows = (np.arange(kernel[0])[:, None] * dilation[0] + np.arange(blocks[0]) * stride[0])
    cols = (np.arange(kernel[1])[:, None] * dilation[1] + np.arange(blocks[1]) * stride[1])
    return rows[:, None, :, None], cols[None, :, None, :]


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of (N, C, H, W) or (C, H, W) ``input`` as columns (functional.unfold).

    The result is (N, C kh kw, L), L the number of blocks; ``kernel_size`` (kh, kw),
    ``dilation``, ``padding`` (zeros) and ``stride`` are ints or pairs, as in conv2d.
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D)")
    kernel, dilation, pads, stride = _geometry(kernel_size, dilation, padding, stride, "unfold")
    x = input if input.ndim == 4 else reshape_prim(input, (1,) + tuple(input.shape))
    N, C = x.shape[:2]
    blocks = _blocks(x.shape[2:], kernel, dilation, pads, stride)
    if min(blocks) < 1:
        raise RuntimeError(f"unfold: Given input with spatial size {list(x.shape[2:])}, "
                           f"kernel_size={kernel}, dilation={dilation}, padding="
                           f"{[p[0] for p in pads]}, calculated shape of the array of sliding "
                           f"blocks as {list(blocks)}, which is too small (non-positive)")
    rows, cols = _block_index(blocks, kernel, dilation, stride)
    xp = pad(x, (pads[1][0], pads[1][0], pads[0][0], pads[0][0]))
    patches = xp[:, :, rows, cols]                    # (N, C, kh, kw, bh, bw)
    shape = (N, C * kernel[0] * kernel[1], blocks[0] * blocks[1])
    return reshape_prim(patches, shape if input.ndim == 4 else shape[1:])


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum (N, C kh kw, L) or (C kh kw, L) columns back into images (torch.nn.functional.fold).

    The adjoint of :func:`unfold`: ``input`` holds L blocks, the result is (N, C, H, W) with
    (H, W) = ``output_size``; ``kernel_size``, ``dilation``, ``padding`` and ``stride`` as
    in unfold.
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                           f"supported (got {input.ndim}D)")
    size = pair(output_size, "output_size", "fold")
    kernel, dilation, pads, stride = _geometry(kernel_size, dilation, padding, stride, "fold")
    x = input if input.ndim == 3 else reshape_prim(input, (1,) + tuple(input.shape))
    N, CK, L = x.shape
    k = kernel[0] * kernel[1]
    if CK % k:
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={CK} and "
                           f"kernel_size={kernel}")
    blocks = _blocks(size, kernel, dilation, pads, stride)
    if min(blocks) < 1 or blocks[0] * blocks[1] != L:
        raise RuntimeError(f"fold: Given output_size={list(size)}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={[p[0] for p in pads]}, stride="
                           f"{stride}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={L}.")
    C = CK // k
    values = reshape_prim(x, (N, C) + kernel + blocks)
    rows, cols = _block_index(blocks, kernel, dilation, stride)
    (ph, _), (pw, _) = pads
    padded = creation.zeros(N, C, size[0] + 2 * ph, size[1] + 2 * pw, dtype=x.dtype)
    out = index_put(padded, (slice(None), slice(None), rows, cols), values, accumulate=True)
    out = out[:, :, ph:ph + size[0], pw:pw + size[1]]
    return out if input.ndim == 3 else reshape_prim(out, tuple(out.shape[1:]))


class Unfold(Module):
    """Module applying :func:`unfold` (torch.nn.Unfold).

    ``kernel_size``, ``dilation``, ``padding`` and ``stride`` as there.
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Module applying :func:`fold` (torch.nn.Fold).

    ``output_size``, ``kernel_size``, ``dilation``, ``padding`` and ``stride`` as there.
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")

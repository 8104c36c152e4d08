"""`interpolate`, `Upsample`, `pixel_shuffle` and their kin (torch.nn's).

Every mode is separable, so resampling runs one spatial dim at a time: nearest picks entries
with index_select, (bi/tri)linear blends the two neighbours it picks, with PyTorch's source
coordinates. Gradients come from index_select's (a scatter-add), exact and of every order.
"""
import math
import numbers

import numpy as np

from .. import creation
from ..ops.indexing import index_select
from ..ops.shape import permute, reshape, unsqueeze, squeeze
from .module import Module
from .pooling import adaptive_avg_pool2d

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def _per_dim(value, k, name):
    """k values from a number or a sequence of k."""
    if isinstance(value, (numbers.Number, np.number)):
        return [value] * k
    value = list(value)
    if len(value) != k:
        raise ValueError(f"Input and {name} must have the same number of spatial dimensions, "
                         f"but got input with spatial dimensions of {k} and {name} "
                         f"{value}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                         f"format and {name} in (o1, o2, ...,oK) format.")
    return value


def _sizes_and_scales(input, size, scale_factor, recompute_scale_factor):
    """Output sizes, and the scales (input per output entry, or None: in/out) PyTorch maps
    coordinates with."""
    k = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return [int(s) for s in _per_dim(size, k, "size")], [None] * k
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    factors = [float(f) for f in _per_dim(scale_factor, k, "scale_factor")]
    sizes = [math.floor(n * f) for n, f in zip(input.shape[2:], factors)]
    if recompute_scale_factor:
        return sizes, [None] * k
    return sizes, [1.0 / f if f > 0 else None for f in factors]


def _nearest(n, m, scale, exact):
    """Source index of each of m outputs from n inputs (float32 arithmetic, as PyTorch's CPU
    kernel, so that ties fall the same way)."""
    s = np.float32(n / m if scale is None else scale)
    dst = np.arange(m, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(dst * s).astype(np.int64), n - 1)


def _linear(n, m, scale, align_corners):
    """The two source indices and their weights for each of m outputs from n inputs."""
    dst = np.arange(m, dtype=np.float64)
    if align_corners:
        src = dst * ((n - 1) / (m - 1)) if m > 1 else np.zeros(m)
    else:
        s = n / m if scale is None else scale
        src = np.maximum(s * (dst + 0.5) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    w = src - lo
    return lo, hi, w


def _cubic(n, m, scale, align_corners, a=-0.75):
    """The four source indices (clamped to the edge) and their cubic-convolution weights (Keys,
    a = -0.75, as PyTorch's bicubic) for each of m outputs from n inputs."""
    dst = np.arange(m, dtype=np.float64)
    if align_corners:
        src = dst * ((n - 1) / (m - 1)) if m > 1 else np.zeros(m)
    else:      # no clamp at 0 for cubic, as PyTorch
        src = (n / m if scale is None else scale) * (dst + 0.5) - 0.5
    base = np.floor(src)
    t = src - base
    near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1              # noqa: E731 (|x| <= 1)
    far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a          # noqa: E731 (1 < |x| < 2)
    weights = (far(t + 1), near(t), near(1 - t), far(2 - t))
    index = [np.clip(base.astype(np.int64) + k, 0, n - 1) for k in (-1, 0, 1, 2)]
    return index, weights


def _blend_cubic(x, dim, index, weights):
    shape = [1] * x.ndim
    shape[dim] = len(weights[0])
    out = None
    for i, w in zip(index, weights):
        term = _along(x, dim, i) * creation.tensor(w.reshape(shape).astype(x._data.dtype))
        out = term if out is None else out + term
    return out


def _along(x, dim, index):
    return index_select(x, dim, creation.tensor(index))


def _blend(x, dim, lo, hi, w):
    shape = [1] * x.ndim
    shape[dim] = len(w)
    dtype = x.dtype
    w_hi = creation.tensor(w.reshape(shape).astype(dtype))
    w_lo = creation.tensor((1 - w).reshape(shape).astype(dtype))
    return _along(x, dim, lo) * w_lo + _along(x, dim, hi) * w_hi


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial dims of (N, C, ...) ``input`` (torch.nn.functional.interpolate).

    Give exactly one of ``size`` (the output spatial size, an int or one per dim) and
    ``scale_factor`` (a float or one per dim). ``mode`` is 'nearest', 'nearest-exact',
    'linear' (3-D input), 'bilinear' or 'bicubic' (4-D), 'trilinear' (5-D) or 'area' (3-D and
    4-D). ``align_corners`` (interpolating modes only) maps corner pixels onto each other;
    ``recompute_scale_factor`` uses the output size, not ``scale_factor``, to map coordinates,
    as in PyTorch. ``antialias=True`` is not supported and raises RuntimeError.
    """
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode in _LINEAR and _LINEAR[mode] != input.ndim:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode]}D input")
    if mode == "bicubic" and input.ndim != 4:
        raise NotImplementedError(f"Got {input.ndim}D input, but bicubic mode needs 4D input")
    if antialias:
        raise RuntimeError(f"interpolate: antialias=True is not supported by tapegrad (mode "
                           f"'{mode}'); resample without it")
    sizes, scales = _sizes_and_scales(input, size, scale_factor, recompute_scale_factor)
    if min(sizes) < 1:
        raise ValueError(f"interpolate: output size {sizes} for input of shape "
                         f"{list(input.shape)} must be positive")
    if mode == "area":
        if input.ndim == 5:
            raise RuntimeError("interpolate: mode='area' on 5-D input is not supported by "
                               "tapegrad (no adaptive_avg_pool3d yet)")
        if input.ndim == 3:
            return squeeze(adaptive_avg_pool2d(unsqueeze(input, -2), (1, sizes[0])), -2)
        return adaptive_avg_pool2d(input, tuple(sizes))
    out = input
    for i, (m, scale) in enumerate(zip(sizes, scales)):
        dim, n = i + 2, input.shape[i + 2]
        if mode in ("nearest", "nearest-exact"):
            out = _along(out, dim, _nearest(n, m, scale, mode == "nearest-exact"))
        elif mode == "bicubic":
            out = _blend_cubic(out, dim, *_cubic(n, m, scale, bool(align_corners)))
        else:
            out = _blend(out, dim, *_linear(n, m, scale, bool(align_corners)))
    return out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """:func:`interpolate` under its old name (torch.nn.functional.upsample).

    ``input``, ``size``, ``scale_factor``, ``mode`` and ``align_corners`` as there.
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


class Upsample(Module):
    """Module applying :func:`interpolate` with fixed settings (torch.nn.Upsample).

    ``size`` or ``scale_factor``, ``mode``, ``align_corners`` and ``recompute_scale_factor``
    are passed to interpolate on every call.
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, numbers.Number) \
            else (tuple(float(f) for f in scale_factor) if scale_factor else None)
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else \
            f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour 2-D upsampling of (N, C, H, W) input (torch.nn.UpsamplingNearest2d).

    Give the output ``size`` or the ``scale_factor``.
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-D upsampling with align_corners=True, as torch.nn.UpsamplingBilinear2d.

    Give the output ``size`` or the ``scale_factor``.
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel shuffle ---------------------------------------------------------------------------
def _check_3d(input, op):
    if input.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``input`` (..., C r^2, H, W) into (..., C, H r, W r) (functional.pixel_shuffle).

    r is ``upscale_factor``, a positive int; the channel count must be divisible by r^2.
    """
    _check_3d(input, "pixel_shuffle")
    r = int(upscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, C, H, W = input.shape
    if C % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={C} "
                           f"is not divisible by {r * r}")
    b = len(batch)
    x = reshape(input, tuple(batch) + (C // (r * r), r, r, H, W))
    x = permute(x, *range(b), b, b + 3, b + 1, b + 4, b + 2)
    return reshape(x, tuple(batch) + (C // (r * r), H * r, W * r))


def pixel_unshuffle(input, downscale_factor):
    """Rearrange ``input`` (..., C, H r, W r) into (..., C r^2, H, W) (functional.pixel_unshuffle).

    r is ``downscale_factor``, a positive int dividing H and W; the inverse of pixel_shuffle.
    """
    _check_3d(input, "pixel_unshuffle")
    r = int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, C, H, W = input.shape
    if H % r or W % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but input.size(-2)={H} and input.size(-1)={W} "
                           f"are not both divisible by {r}")
    b = len(batch)
    x = reshape(input, tuple(batch) + (C, H // r, r, W // r, r))
    x = permute(x, *range(b), b, b + 2, b + 4, b + 1, b + 3)
    return reshape(x, tuple(batch) + (C * r * r, H // r, W // r))


class PixelShuffle(Module):
    """Module applying :func:`pixel_shuffle` with ``upscale_factor`` (torch.nn.PixelShuffle)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Module applying :func:`pixel_unshuffle` with ``downscale_factor`` (nn.PixelUnshuffle)."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"

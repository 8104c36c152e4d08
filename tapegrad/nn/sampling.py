"""`affine_grid` and `grid_sample` (torch.nn.functional's): sampling an image at the points of
a grid, differentiable with respect to both. Corners are picked with constant indices (floor of
the detached coordinates), so the gradient reaches the grid through the interpolation weights."""
import warnings

import numpy as np

from .. import creation
from ..ops.elementwise import clamp
from ..ops.indexing import gather
from ..ops.einsum import einsum
from ..ops.shape import reshape_prim

_MODES = ("bilinear", "nearest")
_PADDING = ("zeros", "border")


def _align(align_corners, op):
    if align_corners is None:
        warnings.warn(f"Default {op} behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired.",
                      stacklevel=3)
        return False
    return bool(align_corners)


def _base(n, align_corners, dtype):
    """The n normalised pixel-centre coordinates in [-1, 1] along one side."""
    v = np.linspace(-1, 1, n) if n > 1 else np.zeros(n)
    return (v if align_corners else v * (n - 1) / n).astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """Sampling points of affine maps ``theta`` over an output grid (functional.affine_grid).

    ``theta`` (N, 2, 3) (or (N, 3, 4)) is applied to the normalised coordinates of an output
    of ``size`` (N, C, H, W) (or (N, C, D, H, W)), giving (N, H, W, 2) (or (N, D, H, W, 3))
    points in [-1, 1] for :func:`grid_sample`. ``align_corners`` as there (default False,
    with PyTorch's warning when left unset).
    """
    align = _align(align_corners, "affine_grid")
    size = [int(s) for s in size]
    k = len(size) - 2
    if k not in (2, 3) or tuple(theta.shape)[1:] != (k, k + 1) or theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: expected theta of shape (N, 2, 3) for a 4-D size or "
                         f"(N, 3, 4) for a 5-D size, with N = size[0]; got theta of shape "
                         f"{list(theta.shape)} and size {size}")
    if not theta.dtype.is_floating_point:
        raise ValueError(f"affine_grid: expected theta to have floating point type, but got "
                         f"{theta.dtype}")
    dt = theta._data.dtype
    axes = [_base(n, align, dt) for n in reversed(size[2:])]     # x (width) first
    mesh = np.meshgrid(*reversed(axes), indexing="ij")[::-1]     # x, y(, z) on the (D,)H, W grid
    base = np.stack(list(mesh) + [np.ones_like(mesh[0])], axis=-1)
    return einsum("...j,nij->n...i", creation.tensor(base), theta)


def _pixel(coord, n, align_corners, padding_mode):
    """Normalised coordinates to pixel coordinates along a side of n pixels."""
    pix = (coord + 1) * ((n - 1) / 2) if align_corners else ((coord + 1) * n - 1) / 2
    return clamp(pix, 0, n - 1) if padding_mode == "border" else pix


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample 4-D ``input`` (N, C, H, W) at the points of ``grid`` (N, Ho, Wo, 2).

    Mirrors torch.nn.functional.grid_sample.

    ``grid`` holds (x, y) in [-1, 1]; the result is (N, C, Ho, Wo). ``mode`` is 'bilinear'
    or 'nearest'; ``padding_mode`` is 'zeros' or 'border' (values outside the image);
    ``align_corners`` maps -1 and 1 to the corner pixels' centres instead of their outer
    edges. The gradient reaches both the input and the grid.
    """
    op = "grid_sample"
    if mode not in _MODES:
        raise ValueError(f"{op}: mode {mode!r} is not supported by tapegrad; use one of {_MODES}")
    if padding_mode not in _PADDING:
        raise ValueError(f"{op}: padding_mode {padding_mode!r} is not supported by tapegrad; "
                         f"use one of {_PADDING}")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or \
            grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"{op}: tapegrad samples 4-D input (N, C, H, W) with a grid "
                           f"(N, H_out, W_out, 2), got input {list(input.shape)} and grid "
                           f"{list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"{op}: expected input and grid to have the same dtype, but input "
                           f"has {input.dtype} and grid has {grid.dtype}")
    align = _align(align_corners, op)
    N, C, H, W = input.shape
    Ho, Wo = grid.shape[1:3]
    ix = _pixel(grid[..., 0], W, align, padding_mode)
    iy = _pixel(grid[..., 1], H, align, padding_mode)
    flat = reshape_prim(input, (N, C, H * W))
    dtype = input._data.dtype

    def corner(xs, ys):
        """The input at integer pixels (xs, ys) (N, Ho, Wo), zero outside: (N, C, Ho, Wo)."""
        inside = (xs >= 0) & (xs <= W - 1) & (ys >= 0) & (ys <= H - 1)
        pos = (np.clip(ys, 0, H - 1) * W + np.clip(xs, 0, W - 1)).astype(np.int64)
        pos = np.broadcast_to(pos.reshape(N, 1, Ho * Wo), (N, C, Ho * Wo))
        vals = reshape_prim(gather(flat, 2, creation.tensor(np.ascontiguousarray(pos))),
                            (N, C, Ho, Wo))
        return vals, creation.tensor(inside[:, None].astype(dtype))

    x, y = ix._data, iy._data
    if mode == "nearest":
        vals, inside = corner(np.rint(x), np.rint(y))
        return vals * inside
    x0, y0 = np.floor(x), np.floor(y)
    wx1 = reshape_prim(ix - creation.tensor(x0), (N, 1, Ho, Wo))
    wy1 = reshape_prim(iy - creation.tensor(y0), (N, 1, Ho, Wo))
    wx0, wy0 = 1 - wx1, 1 - wy1
    out = None
    for xs, ys, w in ((x0, y0, wx0 * wy0), (x0 + 1, y0, wx1 * wy0),
                      (x0, y0 + 1, wx0 * wy1), (x0 + 1, y0 + 1, wx1 * wy1)):
        vals, inside = corner(xs, ys)
        term = vals * (w * inside)
        out = term if out is None else out + term
    return out

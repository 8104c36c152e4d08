"""Fused pooling primitives: max pooling (with the offsets of the maxima) and average pooling,
each with its adjoint as a primitive, so derivatives of every order stay available.

Each runs as vectorised NumPy, with loops at most over kernel offsets. Argument checking lives
in `tapegrad.nn.pooling`; these take normalised geometry (see ops/windows.py).
"""
import numpy as np

from ..primitives import primitive, defvjp
from .windows import _crop, _offsets, _padded, _span


# ---- pooling ---------------------------------------------------------------------------------
def _first_max(views, nan):
    """Elementwise maximum of equally shaped views, and the number of the first view that
    reaches it (a NaN, with `nan`, counts as reaching it)."""
    best = views[0].copy()
    for v in views[1:]:
        np.maximum(best, v, out=best)
    arg = np.full(best.shape, len(views) - 1, _small_int(len(views)))
    for k in range(len(views) - 2, -1, -1):
        hit = views[k] == best
        if nan:
            hit |= np.isnan(views[k])
        arg -= hit * (arg - k)     # arg = k where hit: arithmetic beats masked writes here
    return best, arg


def _small_int(n):
    return np.int8 if n < 128 else np.int32


@primitive("max_pool2d_with_indices", reads_inputs=False, raw=True)
def max_pool2d(x, index, kernel, stride, padding, dilation):
    """Window maxima of x (N, C, H, W). `index`, an int array of the output's shape, receives
    the kernel offset of each maximum (the first entry that reaches it in row-major order, as
    PyTorch picks on ties; a NaN is the maximum of its window). The rule reads it: it is an
    output, passed in rather than returned so that the pooled values may be modified in
    place, as in PyTorch.

    A window maximum is the maximum over its rows of each row's maximum: the columns are
    reduced first (kw views), then the rows of that (kh views), a fraction of the work of
    kh * kw comparisons of full windows.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    Ho, Wo = index.shape[2:]
    xp = _padded(x, padding, -np.inf)
    nan = np.isnan(x.sum())      # one cheap pass; NaNs then take the slower comparisons
    row_max, col = _first_max([xp[..., _span(j * dw, Wo, sw)] for j in range(kw)], nan)
    rows = [_span(i * dh, Ho, sh) for i in range(kh)]
    best, row = _first_max([row_max[:, :, r] for r in rows], nan)
    picked = col[:, :, rows[0]].copy()      # the column offset in the chosen row
    for i in range(1, kh):
        picked += (row == i) * (col[:, :, rows[i]] - col[:, :, rows[0]])
    np.multiply(row, kw, out=index, casting="unsafe")
    index += picked
    return best


def offset_array(shape, kernel):
    """An empty array for max_pool2d's `index`."""
    return np.empty(shape, _small_int(kernel[0] * kernel[1]))


@primitive("max_unpool2d", raw=True)
def max_unpool2d(g, index, size, kernel, stride, padding, dilation):
    """The adjoint of picking window entries at `index`: g added where it was picked."""
    N, C = g.shape[:2]
    (t, b), (l, r) = padding
    out = np.zeros((N, C, size[0] + t + b, size[1] + l + r), g.dtype)
    apart = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
    finite = bool(np.isfinite(g).all())
    for k, rows, cols in _offsets(kernel, stride, dilation, g.shape[2:]):
        picked = index == k
        # entries that are not a window's maximum get exactly 0, even from an inf or NaN
        # cotangent: multiplying by the mask is that (and fast) only when g is finite
        part = g * picked if finite else np.where(picked, g, 0)
        if apart:    # windows do not overlap: each entry is written once
            out[:, :, rows, cols] = part
        else:
            out[:, :, rows, cols] += part
    return _crop(out, padding, size)


@primitive("max_pool2d_pick", raw=True)
def max_pool2d_pick(h, index, kernel, stride, padding, dilation):
    """The entries of h at the window positions `index` names (a max_pool2d without the max)."""
    hp = _padded(h, padding, 0)
    out = np.zeros(index.shape, h.dtype)
    for k, rows, cols in _offsets(kernel, stride, dilation, index.shape[2:]):
        np.copyto(out, hp[:, :, rows, cols], where=index == k)
    return out


defvjp(max_pool2d,
       lambda g, out, x, index, **geom: max_unpool2d(g, index, size=x.shape[2:], **geom), None)
defvjp(max_unpool2d,
       lambda h, out, g, index, size, **geom: max_pool2d_pick(h, index, **geom), None)
defvjp(max_pool2d_pick,
       lambda g, out, h, index, **geom: max_unpool2d(g, index, size=h.shape[2:], **geom), None)
max_pool2d.prim.grad_fn_name = "MaxPool2DWithIndicesBackward0"     # PyTorch's name


@primitive("avg_pool2d", reads_inputs=False, raw=True)
def window_sum(x, scale, kernel, stride, padding, out_hw):
    """Zero-padded window sums of x, times `scale` (a number, or (Ho, Wo) per position)."""
    xp = _padded(x, padding, 0)
    out = np.zeros(x.shape[:2] + tuple(out_hw), x.dtype)
    for _, rows, cols in _offsets(kernel, stride, (1, 1), out_hw):
        out += xp[:, :, rows, cols]
    out *= scale
    return out


@primitive("avg_unpool2d", reads_inputs=False, raw=True)
def window_spread(g, scale, size, kernel, stride, padding):
    """The adjoint of window_sum: g times scale, added to every entry of its window."""
    N, C = g.shape[:2]
    (t, b), (l, r) = padding
    gs = g * scale
    out = np.zeros((N, C, size[0] + t + b, size[1] + l + r), gs.dtype)
    for _, rows, cols in _offsets(kernel, stride, (1, 1), g.shape[2:]):
        out[:, :, rows, cols] += gs
    return _crop(out, padding, size)


defvjp(window_sum,
       lambda g, out, x, scale, out_hw, **geom: window_spread(g, scale, size=x.shape[2:], **geom),
       None)
defvjp(window_spread,
       lambda h, out, g, scale, size, **geom: window_sum(h, scale, out_hw=g.shape[2:], **geom),
       None)
window_sum.prim.grad_fn_name = "AvgPool2DBackward0"

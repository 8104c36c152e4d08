"""Fused primitives of neural networks: convolution, pooling, batch norm, NLL loss, GELU.

Each runs as one vectorised NumPy/BLAS kernel, with loops at most over kernel offsets. Their
VJPs are primitives too, whose own rules point back at the forward ops (conv2d and its input and
weight VJPs; a window gather and its scatter), so derivatives of every order stay available.
Argument checking lives in the public functions of `tapegrad.nn`; these take normalised
geometry: `stride` and `dilation` pairs, `padding` as ((top, bottom), (left, right)).
"""
import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import special

from ..tape import primitive, defvjp
from ..tensor import Tensor
from .elementwise import exp, rsqrt
from .linalg import _einsum
from .reduction import _sum, _mean
from .shape import reshape_prim


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


class _Workspace(threading.local):
    """Per-thread scratch memory for im2col columns, reused from call to call: fresh megabytes
    for every convolution cost about as much in page faults as the GEMM itself."""

    limit = 1 << 25    # bytes kept between calls; larger requests get their own memory

    def __init__(self):
        self.buffers = {}

    def take(self, role, shape, dtype, zero=False):
        """An uninitialised (or zeroed) array for `role` ('image', 'cols' or 'grad'), valid
        until the next request for the same role."""
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if nbytes > self.limit:
            return (np.zeros if zero else np.empty)(shape, dtype)
        buf = self.buffers.get(role)
        if buf is None or buf.nbytes < nbytes:
            buf = self.buffers[role] = np.empty(nbytes, np.uint8)
        out = buf[:nbytes].view(dtype).reshape(shape)
        if zero:
            out.fill(0)
        return out


_workspace = _Workspace()


# ---- convolution ----------------------------------------------------------------------------
# im2col lays windows out channel-major, (C*kh*kw, N*Ho*R), so that one GEMM with the
# (O, C*kh*kw) weights gives the output as (O, N, Ho, R). R is the output width Wo, or, at
# stride 1, the padded input width Wp: each window row is then a single contiguous run of the
# flattened image, which makes im2col and col2im long block copies; output columns Wo..R-1
# are junk that callers drop. Junk costs GEMM work, so flat runs are used only up to R = 1.5 Wo.
def _flat_runs(x_width, padding, stride, out_width):
    return stride == (1, 1) and 2 * (x_width + padding[1][0] + padding[1][1]) <= 3 * out_width


def _row_width(x_width, padding, stride, out_width):
    if _flat_runs(x_width, padding, stride, out_width):
        return x_width + padding[1][0] + padding[1][1]
    return out_width


def _flat_image(x, padding, tail):
    """x (N, C, H, W), zero padded, as a channel-major (C, N, Hp*Wp + tail) scratch array."""
    N, C, H, W = x.shape
    (t, b), (l, r) = padding
    Hp, Wp = H + t + b, W + l + r
    buf = _workspace.take("image", (C, N, Hp * Wp + tail), x.dtype, zero=True)
    buf[:, :, :Hp * Wp].reshape(C, N, Hp, Wp)[:, :, t:t + H, l:l + W] = x.transpose(1, 0, 2, 3)
    return buf


def _cols(x, kernel, stride, padding, dilation, out_hw):
    """im2col of x (N, C, H, W): its windows as a (C*kh*kw, N*Ho*R) array."""
    N, C = x.shape[:2]
    (kh, kw), (dh, dw), (Ho, Wo) = kernel, dilation, out_hw
    if _flat_runs(x.shape[3], padding, stride, Wo):
        Wp = _row_width(x.shape[3], padding, stride, Wo)
        buf = _flat_image(x, padding, dw * (kw - 1))
        sc, sn, se = buf.strides
        win = as_strided(buf, (C, kh, kw, N, Ho * Wp), (sc, dh * Wp * se, dw * se, sn, se),
                         writeable=False)
    else:
        xt = _padded(x, padding, 0, channel_major=True)
        sc, sn, sh, sw = xt.strides
        win = as_strided(xt, (C, kh, kw, N, Ho, Wo),
                         (sc, sh * dh, sw * dw, sn, sh * stride[0], sw * stride[1]),
                         writeable=False)
    cols = _workspace.take("cols", win.shape, x.dtype)
    np.copyto(cols, win)
    return cols.reshape(C * kh * kw, -1)


def _uncols(dcols, size, kernel, stride, padding, dilation, out_hw):
    """col2im, the adjoint of `_cols`: (C*kh*kw, N*Ho*R) window entries summed back into an
    (N, C, H, W) image; one block add per kernel offset."""
    (kh, kw), (dh, dw), (Ho, Wo) = kernel, dilation, out_hw
    (t, b), (l, r) = padding
    Hp, Wp = size[0] + t + b, size[1] + l + r
    C = dcols.shape[0] // (kh * kw)
    dcols = dcols.reshape(C, kh, kw, -1)
    N = dcols.shape[-1] // (Ho * _row_width(size[1], padding, stride, Wo))
    if _flat_runs(size[1], padding, stride, Wo):
        n = Ho * Wp
        out = np.zeros((C, N, Hp * Wp + dw * (kw - 1)), dcols.dtype)
        for i in range(kh):
            for j in range(kw):
                at = i * dh * Wp + j * dw
                out[:, :, at:at + n] += dcols[:, i, j].reshape(C, N, n)
        image = out[:, :, :Hp * Wp].reshape(C, N, Hp, Wp)
    else:
        image = np.zeros((C, N, Hp, Wp), dcols.dtype)
        flat = dcols.reshape(C, kh * kw, N, Ho, Wo)
        for k, rows, cols in _offsets(kernel, stride, dilation, out_hw):
            image[:, :, rows, cols] += flat[:, k]
    return _crop(image, padding, size).transpose(1, 0, 2, 3)


def _gemm(a, b, out=None):
    """Grouped product: (G, m, k) @ (G, k, n); a plain 2-D GEMM when there is one group."""
    if a.shape[0] == 1:
        return np.matmul(a[0], b[0], out=None if out is None else out[0])
    return np.matmul(a, b, out=out)


def _spread(g, groups, width):
    """An (N, O, Ho, Wo) cotangent as (G, O/G, N*Ho*width), zero in the junk columns."""
    N, O, Ho, Wo = g.shape
    gt = g.transpose(1, 0, 2, 3)
    if width != Wo:
        wide = _workspace.take("grad", (O, N, Ho, width), g.dtype, zero=True)
        wide[..., :Wo] = gt
        gt = wide
    return gt.reshape(groups, O // groups, -1)


def _out_hw(size, kernel, stride, padding, dilation):
    return tuple(_out_len(n, k, s, p, d) for n, k, s, p, d in
                 zip(size, kernel, stride, padding, dilation))


@primitive("convolution", raw=True)
def conv2d(x, w, b, stride, padding, dilation, groups):
    """2-D cross-correlation of x (N, C, H, W) with w (O, C/groups, kh, kw), plus bias b."""
    N, _, H, W = x.shape
    O = w.shape[0]
    Ho, Wo = _out_hw(x.shape[2:], w.shape[2:], stride, padding, dilation)
    cols = _cols(x, w.shape[2:], stride, padding, dilation, (Ho, Wo))
    out = _gemm(w.reshape(groups, O // groups, -1), cols.reshape(groups, -1, cols.shape[1]))
    out = out.reshape(O, -1)
    if b is not None:
        out += b[:, None]
    R = _row_width(W, padding, stride, Wo)
    return out.reshape(O, N, Ho, R)[..., :Wo].transpose(1, 0, 2, 3)


@primitive("conv2d_input_grad", raw=True)
def conv2d_input_grad(g, w, size, stride, padding, dilation, groups):
    """The VJP of conv2d for its input (a transposed convolution of g with w)."""
    O = w.shape[0]
    out_hw = g.shape[2:]
    wt = w.reshape(groups, O // groups, -1).transpose(0, 2, 1)
    gt = _spread(g, groups, _row_width(size[1], padding, stride, out_hw[1]))
    dcols = _gemm(wt, gt, out=_workspace.take("cols", wt.shape[:2] + gt.shape[2:], g.dtype))
    dcols = dcols.reshape(-1, gt.shape[2])
    return _uncols(dcols, size, w.shape[2:], stride, padding, dilation, out_hw)


@primitive("conv2d_weight_grad", raw=True)
def conv2d_weight_grad(x, g, kernel, stride, padding, dilation, groups):
    """The VJP of conv2d for its weight (a correlation of x with g)."""
    C = x.shape[1]
    O, out_hw = g.shape[1], g.shape[2:]
    cols = _cols(x, kernel, stride, padding, dilation, out_hw)
    gt = _spread(g, groups, _row_width(x.shape[3], padding, stride, out_hw[1]))
    # written into an array of its own (not a view): it can become a .grad without a copy
    dw = np.empty((O, C // groups) + tuple(kernel), g.dtype)
    _gemm(gt, cols.reshape(groups, -1, cols.shape[1]).transpose(0, 2, 1),
          out=dw.reshape(groups, O // groups, -1))
    return dw


defvjp(conv2d,
       lambda g, out, x, w, b, **geom: conv2d_input_grad(g, w, size=x.shape[2:], **geom),
       lambda g, out, x, w, b, **geom: conv2d_weight_grad(x, g, kernel=w.shape[2:], **geom),
       lambda g, out, x, w, b, **geom: _sum(g, dims=(0, 2, 3)))
# conv2d is bilinear: each VJP's own VJPs are conv2d and the other VJP
defvjp(conv2d_input_grad,
       lambda h, out, g, w, size, **geom: conv2d(h, w, None, **geom),
       lambda h, out, g, w, size, **geom: conv2d_weight_grad(h, g, kernel=w.shape[2:], **geom))
defvjp(conv2d_weight_grad,
       lambda k, out, x, g, kernel, **geom: conv2d_input_grad(g, k, size=x.shape[2:], **geom),
       lambda k, out, x, g, kernel, **geom: conv2d(x, k, None, **geom))


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


@primitive("max_pool2d_with_indices", linear=True, raw=True)
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
    for k, rows, cols in _offsets(kernel, stride, dilation, g.shape[2:]):
        if apart:    # windows do not overlap: each entry is written once
            np.multiply(g, index == k, out=out[:, :, rows, cols])
        else:
            out[:, :, rows, cols] += g * (index == k)
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


@primitive("avg_pool2d", linear=True, raw=True)
def window_sum(x, scale, kernel, stride, padding, out_hw):
    """Zero-padded window sums of x, times `scale` (a number, or (Ho, Wo) per position)."""
    xp = _padded(x, padding, 0)
    out = np.zeros(x.shape[:2] + tuple(out_hw), x.dtype)
    for _, rows, cols in _offsets(kernel, stride, (1, 1), out_hw):
        out += xp[:, :, rows, cols]
    out *= scale
    return out


@primitive("avg_unpool2d", linear=True, raw=True)
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


# ---- batch norm (training statistics) --------------------------------------------------------
def _stat_shape(x):
    return (1, -1) + (1,) * (x.ndim - 2)


def _stat_dims(x):
    return (0,) + tuple(range(2, x.ndim))


def _channel_dot(a, b):
    """The sum of a * b over every dim but dim 1, in one pass: an einsum primitive, so it runs
    on arrays or tensors alike (NumPy's plain loop; a BLAS path would copy both operands)."""
    dims = "abcdefgh"[:a.ndim]
    return _einsum(a, b, eq=f"{dims},{dims}->{dims[1]}", optimize=False)


def batch_stats(x):
    """Batch mean and biased variance of x (N, C, ...) per channel, in two passes over x (a
    large mean costs no precision)."""
    mean = x.mean(_stat_dims(x))
    centered = x - mean.reshape(_stat_shape(x))
    return mean, _channel_dot(centered, centered) / (x.size // x.shape[1])


@primitive("native_batch_norm", raw=True)
def batch_norm(x, weight, bias, mean, var, eps):
    """Normalise x over every dim but dim 1 with its batch statistics `mean` and (biased)
    `var`, which the caller computed from x (they are x's, not independent inputs)."""
    shape = _stat_shape(x)
    scale = 1 / np.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    y = x * scale.reshape(shape).astype(x.dtype, copy=False)
    y += shift.reshape(shape)
    return y


def _centered(x, mean, var):
    """(x - mean, var), shaped to broadcast. A plain backward reuses the forward's statistics;
    when the rule is itself differentiated (create_graph) they are recomputed from x with
    tapegrad ops, so that their dependence on x is on the tape too."""
    shape = _stat_shape(x)
    if not isinstance(x, Tensor):
        return x - mean.reshape(shape), var.reshape(shape)
    dims = _stat_dims(x)
    centered = x - _mean(x, dims=dims, keepdim=True)
    return centered, _mean(centered * centered, dims=dims, keepdim=True)


def _batch_norm_input_grad(g, out, x, weight, bias, mean, var, eps):
    # scale * (g - mean(g) - xhat * mean(g * xhat)), regrouped into per-channel factors
    shape = _stat_shape(x)
    inv_n = x.shape[1] / math.prod(x.shape)
    centered, var = _centered(x, mean, var)
    invstd = rsqrt(var + eps)
    scale = invstd if weight is None else invstd * reshape_prim(weight, shape)
    dot = reshape_prim(_channel_dot(g, centered), shape)
    mean_g = _sum(g, dims=_stat_dims(x), keepdim=True) * inv_n
    return g * scale - centered * (scale * invstd * invstd * dot * inv_n) - scale * mean_g


def _batch_norm_weight_grad(g, out, x, weight, bias, mean, var, eps):
    centered, var = _centered(x, mean, var)
    return _channel_dot(g, centered) * reshape_prim(rsqrt(var + eps), (-1,))


defvjp(batch_norm, _batch_norm_input_grad, _batch_norm_weight_grad,
       lambda g, out, x, weight, bias, mean, var, eps: _sum(g, dims=_stat_dims(x)), None, None)


# ---- negative log likelihood -----------------------------------------------------------------
def _nll_coef(target, weight, ignore_index, reduction, dtype):
    """Per-sample weight of -logp[target] in the loss (0 where ignored), and the safe target."""
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    coef = keep.astype(dtype) if weight is None else np.where(keep, weight[safe], 0).astype(dtype)
    if reduction == "mean":
        total = coef.sum()
        coef = coef / total if total else np.full_like(coef, np.nan)
    return safe, coef


@primitive("nll_loss", raw=True)
def nll_loss(logp, target, weight, ignore_index, reduction):
    """-logp[n, target[n], ...] weighted, then summed, averaged by total weight, or kept."""
    safe, coef = _nll_coef(target, weight, ignore_index, reduction, logp.dtype)
    loss = -np.take_along_axis(logp, safe[:, None], 1)[:, 0] * coef
    return loss if reduction == "none" else loss.sum(dtype=logp.dtype)


@primitive("nll_loss_backward", raw=True)
def nll_loss_backward(g, target, weight, ignore_index, reduction, shape):
    """The VJP of nll_loss: -g times each sample's weight, at its target class."""
    safe, coef = _nll_coef(target, weight, ignore_index, reduction, g.dtype)
    out = np.zeros(shape, g.dtype)
    np.put_along_axis(out, safe[:, None], (-g * coef)[:, None], 1)
    return out


defvjp(nll_loss,
       lambda g, out, logp, target, weight, **kw: nll_loss_backward(g, target, weight,
                                                                    shape=logp.shape, **kw),
       None, None)
defvjp(nll_loss_backward,
       lambda h, out, g, target, weight, shape, **kw: nll_loss(h, target, weight, **kw),
       None, None)


# ---- GELU ------------------------------------------------------------------------------------
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


@primitive("gelu", raw=True)
def gelu(x):
    """x * Phi(x), Phi the standard normal CDF (the exact GELU)."""
    return (x * special.ndtr(x)).astype(x.dtype, copy=False)


@primitive("gelu_backward", raw=True)
def gelu_backward(g, x):
    """g * gelu'(x), with gelu'(x) = Phi(x) + x * phi(x)."""
    slope = special.ndtr(x) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (g * slope).astype(np.result_type(g, x), copy=False)


defvjp(gelu, lambda g, out, x: gelu_backward(g, x))
# gelu''(x) = phi(x) * (2 - x^2)
defvjp(gelu_backward,
       lambda h, out, g, x: gelu_backward(h, x),
       lambda h, out, g, x: h * g * exp(-0.5 * x * x) * (_INV_SQRT_2PI * (2 - x * x)))

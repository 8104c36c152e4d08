"""The fused convolution primitive and its two VJPs, on im2col and one BLAS GEMM.

The VJPs are primitives too, whose own rules point back at the forward ops (conv2d and its input
and weight VJPs), so derivatives of every order stay available. Argument checking lives in
`tapegrad.nn.conv`; these take normalised geometry (see ops/windows.py).
"""
import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..dtypes import wide
from ..primitives import primitive, defvjp
from .reduction import _sum
from .windows import _crop, _offsets, _out_len, _padded


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
    dt = wide(a.dtype)
    if dt is not a.dtype:       # bfloat16: in float32, rounded once (`out`, a workspace, unused)
        return _gemm(a.astype(dt), b.astype(dt)).astype(a.dtype)
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

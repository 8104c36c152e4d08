"""Fused recurrent layers: one primitive per layer and direction runs a whole sequence.

`rnn_layer`, `lstm_layer` and `gru_layer` take a time-major input (T, B, I), the initial
state(s) (B, H) and PyTorch's weights (`weight_ih` (G*H, I), `weight_hh` (G*H, H), biases or
None). The forward projects the input for all steps in one matmul, then does one matmul per
step for all gates, with the activations in place; it keeps only what backward needs (the
outputs, plus a reserve of gate activations and cell states). The VJP runs backpropagation
through time once, in one loop over preallocated buffers, and every input's rule then takes
its gradient from that one result (the input's and the weights' as one matmul each).

Ragged batches: `lengths` (one int per batch column, or None) freezes each column's state
once its sequence is over (forward) or until it begins (reverse): at such a step the output is
the unchanged state and no gate acts, so the final state is the one of the last real step, as
for PyTorch's packed sequences; backward passes the state's gradient straight through there.

Second order: the rules are NumPy, not tapegrad ops, so backward with `create_graph=True`
through these layers raises a RuntimeError (PyTorch's fused cuDNN RNN refuses it too).
"""
import threading
import weakref

import numpy as np

from .._tensor import Tensor
from ..primitives import primitive, defvjp

_LOCK = threading.Lock()
_CORE = {}   # id(first cotangent) -> (weakrefs to the cotangents and output, the BPTT result)


def _sigmoid_(a):
    """In place, without overflow: sigmoid(x) = (tanh(x/2) + 1) / 2."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


def _check(name, x, h0, w_ih, w_hh, gates, hidden=None):
    if x.ndim != 3 or h0.ndim != 2 or w_ih.ndim != 2 or w_hh.ndim != 2:
        raise RuntimeError(f"{name}: expected input (T, B, I), state (B, H) and 2-D weights, got "
                           f"{list(x.shape)}, {list(h0.shape)}, {list(w_ih.shape)}, "
                           f"{list(w_hh.shape)}")
    t, b, i = x.shape
    h, p = hidden or h0.shape[1], h0.shape[1]
    if t == 0:
        raise RuntimeError(f"{name}: the input sequence must not be empty")
    if w_ih.shape != (gates * h, i) or w_hh.shape != (gates * h, p) or h0.shape[0] != b:
        raise RuntimeError(f"{name}: shapes do not agree: input {list(x.shape)}, state "
                           f"{list(h0.shape)}, weight_ih {list(w_ih.shape)} (want "
                           f"{[gates * h, i]}), weight_hh {list(w_hh.shape)} (want "
                           f"{[gates * h, p]})")
    return t, b, h


def _masks(lengths, t, b):
    """Per step, the batch columns still running (a bool (B,) array), or None when all are."""
    if lengths is None:
        return [None] * t
    n = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if n.shape != (b,) or (b and (n.min() < 1 or n.max() > t)):
        raise RuntimeError(f"recurrent layer: lengths must hold {b} values in [1, {t}], got "
                           f"{list(n)}")
    return [None if bool((n > k).all()) else n > k for k in range(t)]


def _steps(t, reverse):
    return range(t - 1, -1, -1) if reverse else range(t)


def _project(x, w_ih, b_ih, b_hh, t, b, width, dtype):
    """The input's projection for every step at once (T, B, width), biases added."""
    out = np.empty((t, b, width), dtype)
    np.matmul(x.reshape(t * b, -1), w_ih.T, out=out.reshape(t * b, width))
    if b_ih is not None:
        out += b_ih
    if b_hh is not None:
        out += b_hh
    return out


def _previous(y, h0, reverse):
    """The state each step started from, (T, B, H): h0, then the outputs one step behind."""
    prev = np.empty_like(y)
    if reverse:
        prev[:-1], prev[-1] = y[1:], h0
    else:
        prev[1:], prev[0] = y[:-1], h0
    return prev


# ---- the forwards ------------------------------------------------------------------------------

@primitive("rnn_layer", n_out=2, uses_out=True, raw=True)
def rnn_layer(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh",
              reverse=False, lengths=None):
    """An Elman RNN layer over a whole sequence: (output (T, B, H), h_n (B, H))."""
    x, h = np.asarray(input), np.asarray(hx)
    t, b, hs = _check("rnn_layer", x, h, weight_ih, weight_hh, 1)
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    y = _project(x, weight_ih, bias_ih, bias_hh, t, b, hs, np.result_type(x, weight_ih))
    w_t = weight_hh.T
    masks = _masks(lengths, t, b)
    for k in _steps(t, reverse):
        prev = h
        y[k] += h @ w_t
        h = np.tanh(y[k], out=y[k]) if nonlinearity == "tanh" else np.maximum(y[k], 0, out=y[k])
        if masks[k] is not None:
            h[~masks[k]] = prev[~masks[k]]
    return y, h.copy()


@primitive("lstm_layer", n_out=4, uses_out=True, raw=True)
def lstm_layer(input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, weight_hr=None,
               reverse=False, lengths=None):
    """An LSTM layer over a whole sequence (gates i, f, g, o): (output (T, B, P), h_n, c_n,
    reserve), the reserve holding the gate activations, the cell states and their tanh (and,
    with a projection `weight_hr` (P, H), the unprojected states; h = (o * tanh(c)) W_hr^T;
    without one P = H)."""
    x, h, c = np.asarray(input), np.asarray(hx), np.asarray(cx)
    proj = weight_hr is not None
    t, b, hs = _check("lstm_layer", x, h, weight_ih, weight_hh, 4, c.shape[-1] if proj else None)
    if c.shape != (h.shape[0], hs) or proj and weight_hr.shape != (h.shape[1], hs):
        raise RuntimeError(f"lstm_layer: cell state shape {list(c.shape)}, hidden state shape "
                           f"{list(h.shape)} and weight_hr shape "
                           f"{list(np.shape(weight_hr)) if proj else None} do not agree")
    dtype = np.result_type(x, weight_ih)
    n = t * b * hs
    reserve = np.empty((7 if proj else 6) * n, dtype)
    ms = reserve[6 * n:].reshape(t, b, hs) if proj else None
    gates = reserve[:4 * n].reshape(t, b, 4 * hs)
    cs, tcs = reserve[4 * n:5 * n].reshape(t, b, hs), reserve[5 * n:6 * n].reshape(t, b, hs)
    np.matmul(x.reshape(t * b, -1), weight_ih.T, out=gates.reshape(t * b, 4 * hs))
    if bias_ih is not None:
        gates += bias_ih
    if bias_hh is not None:
        gates += bias_hh
    y = np.empty((t, b, h.shape[1]), dtype)
    w_t = weight_hh.T
    masks = _masks(lengths, t, b)
    for k in _steps(t, reverse):
        h_prev, c_prev = h, c
        g = gates[k]
        g += h @ w_t
        _sigmoid_(g[:, :2 * hs])
        np.tanh(g[:, 2 * hs:3 * hs], out=g[:, 2 * hs:3 * hs])
        _sigmoid_(g[:, 3 * hs:])
        c = np.multiply(g[:, hs:2 * hs], c, out=cs[k])
        c += g[:, :hs] * g[:, 2 * hs:3 * hs]
        np.tanh(c, out=tcs[k])
        if proj:
            np.multiply(g[:, 3 * hs:], tcs[k], out=ms[k])
            h = np.matmul(ms[k], weight_hr.T, out=y[k])
        else:
            h = np.multiply(g[:, 3 * hs:], tcs[k], out=y[k])
        if masks[k] is not None:
            off = ~masks[k]
            h[off], c[off] = h_prev[off], c_prev[off]
    return y, h.copy(), c.copy(), reserve


@primitive("gru_layer", n_out=3, uses_out=True, raw=True)
def gru_layer(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False,
              lengths=None):
    """A GRU layer over a whole sequence (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h +
    b_hn))): (output (T, B, H), h_n, reserve of r, z, n and W_hn h + b_hn)."""
    x, h = np.asarray(input), np.asarray(hx)
    t, b, hs = _check("gru_layer", x, h, weight_ih, weight_hh, 3)
    dtype = np.result_type(x, weight_ih)
    gx = _project(x, weight_ih, bias_ih, None, t, b, 3 * hs, dtype)
    reserve = np.empty((t, b, 4 * hs), dtype)
    y = np.empty((t, b, hs), dtype)
    w_t = weight_hh.T
    masks = _masks(lengths, t, b)
    for k in _steps(t, reverse):
        h_prev = h
        r = reserve[k]
        gh = h @ w_t
        if bias_hh is not None:
            gh += bias_hh
        np.add(gx[k, :, :2 * hs], gh[:, :2 * hs], out=r[:, :2 * hs])
        _sigmoid_(r[:, :2 * hs])
        r[:, 3 * hs:] = gh[:, 2 * hs:]
        n = np.multiply(r[:, :hs], r[:, 3 * hs:], out=r[:, 2 * hs:3 * hs])
        n += gx[k, :, 2 * hs:]
        np.tanh(n, out=n)
        h = np.subtract(h, n, out=y[k])        # h' = n + z * (h - n)
        h *= r[:, hs:2 * hs]
        h += n
        if masks[k] is not None:
            h[~masks[k]] = h_prev[~masks[k]]
    return y, h.copy(), reserve


# ---- backpropagation through time ---------------------------------------------------------------

def _refuse(g):
    if isinstance(g[0], Tensor):
        raise RuntimeError("rnn_layer/lstm_layer/gru_layer: double backward is not supported "
                           "(the fused recurrent layers' gradient is not differentiable in "
                           "tapegrad); call backward without create_graph")


def _core(kind, g, out, x, h0, c0, w_ih, w_hh, reverse, nonlinearity="tanh", lengths=None,
          w_hr=None):
    """BPTT once per backward: every rule of the same replay shares the result (keyed on the
    cotangents, freed with them)."""
    _refuse(g)
    g = [np.asarray(a) for a in g]
    mine = (*g, out[0])
    key = id(g[0])
    with _LOCK:
        hit = _CORE.get(key)
    if hit is not None and all(r() is a for r, a in zip(hit[0], mine)):
        return hit[1]
    masks = _masks(lengths, *np.shape(out[0])[:2])
    if kind == "lstm":
        res = _bptt_lstm(g, out, h0, c0, w_hh, reverse, masks, w_hr)
    elif kind == "gru":
        res = _bptt_gru(g, out, h0, w_hh, reverse, masks)
    else:
        res = _bptt_rnn(g, out, h0, w_hh, reverse, nonlinearity, masks)
    with _LOCK:
        _CORE[key] = (tuple(weakref.ref(a) for a in mine), res)
    weakref.finalize(g[0], _CORE.pop, key, None)
    return res


def _bptt_rnn(g, out, h0, w_hh, reverse, nonlinearity, masks):
    dy, dh = g[0], g[1].copy()
    y = out[0]
    d = np.empty_like(y)
    for k in _steps(y.shape[0], not reverse):
        dh += dy[k]
        if nonlinearity == "tanh":
            np.multiply(dh, 1 - y[k] * y[k], out=d[k])
        else:
            np.multiply(dh, y[k] > 0, out=d[k])
        if masks[k] is None:
            dh = d[k] @ w_hh
        else:                          # frozen columns: the state's gradient passes through
            off = ~masks[k]
            d[k][off] = 0
            dh_in, dh = dh, d[k] @ w_hh
            dh[off] = dh_in[off]
    return d, d, dh, None, _previous(y, h0, reverse)


def _bptt_lstm(g, out, h0, c0, w_hh, reverse, masks, w_hr=None):
    dy, dh, dc = g[0], g[1].copy(), g[2].copy()
    y, reserve = out[0], out[3]
    (t, b), hs = y.shape[:2], c0.shape[-1]
    n = t * b * hs
    gates = reserve[:4 * n].reshape(t, b, 4 * hs)
    cs, tcs = reserve[4 * n:5 * n].reshape(t, b, hs), reserve[5 * n:6 * n].reshape(t, b, hs)
    proj = w_hr is not None
    ms = reserve[6 * n:].reshape(t, b, hs) if proj else None
    d_hr = np.zeros(np.shape(w_hr), y.dtype) if proj else None
    d = np.empty_like(gates)
    tmp = np.empty((b, hs), y.dtype)
    first = t - 1 if reverse else 0
    for k in _steps(t, not reverse):
        dh += dy[k]
        if masks[k] is not None:
            off = ~masks[k]
            dh_in, dc_in = dh[off], dc[off]
        if proj:                       # h = m W_hr^T: the gradient reaching m = o * tanh(c)
            if masks[k] is not None:
                dh[off] = 0
            d_hr += dh.T @ ms[k]
            dh = dh @ w_hr
        gk, dk, tc = gates[k], d[k], tcs[k]
        i, f, gg, o = gk[:, :hs], gk[:, hs:2 * hs], gk[:, 2 * hs:3 * hs], gk[:, 3 * hs:]
        c_prev = c0 if k == first else cs[k + 1 if reverse else k - 1]
        # dc += dh * o * (1 - tanh(c)^2)
        np.multiply(tc, tc, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp
        np.multiply(dh, tc, out=dk[:, 3 * hs:])               # d o
        dk[:, 3 * hs:] *= o * (1 - o)
        np.multiply(dc, gg, out=dk[:, :hs])                    # d i
        dk[:, :hs] *= i * (1 - i)
        np.multiply(dc, c_prev, out=dk[:, hs:2 * hs])          # d f
        dk[:, hs:2 * hs] *= f * (1 - f)
        np.multiply(dc, i, out=dk[:, 2 * hs:3 * hs])           # d g
        dk[:, 2 * hs:3 * hs] *= 1 - gg * gg
        dc *= f
        if masks[k] is not None:
            dk[off] = 0
        dh = dk @ w_hh
        if masks[k] is not None:
            dh[off], dc[off] = dh_in, dc_in
    return d, d, dh, dc, _previous(y, h0, reverse), d_hr


def _bptt_gru(g, out, h0, w_hh, reverse, masks):
    dy, dh = g[0], g[1].copy()
    y, reserve = out[0], out[2]
    t, b, hs = y.shape
    dx = np.empty((t, b, 3 * hs), y.dtype)
    dhh = np.empty_like(dx)
    first = t - 1 if reverse else 0
    for k in _steps(t, not reverse):
        dh += dy[k]
        if masks[k] is not None:
            off = ~masks[k]
            dh_in = dh[off]
        rk = reserve[k]
        r, z, n, hn = rk[:, :hs], rk[:, hs:2 * hs], rk[:, 2 * hs:3 * hs], rk[:, 3 * hs:]
        h_prev = h0 if k == first else y[k + 1 if reverse else k - 1]
        dn = dx[k, :, 2 * hs:]
        np.multiply(dh, 1 - z, out=dn)
        dn *= 1 - n * n                                        # through tanh
        dr = dx[k, :, :hs]
        np.multiply(dn, hn, out=dr)
        dr *= r * (1 - r)
        dz = dx[k, :, hs:2 * hs]
        np.subtract(h_prev, n, out=dz)
        dz *= dh
        dz *= z * (1 - z)
        dhh[k, :, :2 * hs] = dx[k, :, :2 * hs]
        np.multiply(dn, r, out=dhh[k, :, 2 * hs:])
        if masks[k] is not None:
            dx[k][off], dhh[k][off] = 0, 0
        dh = dh * z
        dh += dhh[k] @ w_hh
        if masks[k] is not None:
            dh[off] = dh_in
    return dx, dhh, dh, None, _previous(y, h0, reverse)


# ---- the rules: each input's gradient from the shared BPTT result --------------------------------

def _flat(a):
    return a.reshape(-1, a.shape[-1])


def _rules(kind, has_c):
    """Rules for (input, h0[, c0], weight_ih, weight_hh, bias_ih, bias_hh)."""
    def core(g, out, args, params):
        x, h0 = args[0], args[1]
        c0 = args[2] if has_c else None
        w_ih, w_hh = args[2 + has_c], args[3 + has_c]
        w_hr = args[7] if has_c and len(args) > 7 else None
        return _core(kind, g, out, x, h0, c0, w_ih, w_hh, params.get("reverse", False),
                     params.get("nonlinearity", "tanh"), params.get("lengths"), w_hr)

    def d_input(g, out, *args, **params):
        dx = core(g, out, args, params)[0]
        return (_flat(dx) @ args[2 + has_c]).reshape(np.shape(args[0]))

    def d_h0(g, out, *args, **params):
        return core(g, out, args, params)[2]

    def d_c0(g, out, *args, **params):
        return core(g, out, args, params)[3]

    def d_w_ih(g, out, *args, **params):
        dx = core(g, out, args, params)[0]
        return _flat(dx).T @ _flat(np.asarray(args[0]))

    def d_w_hh(g, out, *args, **params):
        res = core(g, out, args, params)
        return _flat(res[1]).T @ _flat(res[4])

    def d_b_ih(g, out, *args, **params):
        return core(g, out, args, params)[0].sum((0, 1))

    def d_b_hh(g, out, *args, **params):
        return core(g, out, args, params)[1].sum((0, 1))

    def d_w_hr(g, out, *args, **params):
        return core(g, out, args, params)[5]

    return (d_input, d_h0) + ((d_c0,) if has_c else ()) + (d_w_ih, d_w_hh, d_b_ih, d_b_hh) + \
        ((d_w_hr,) if has_c else ())


defvjp(rnn_layer, *_rules("rnn", False))
defvjp(lstm_layer, *_rules("lstm", True))
defvjp(gru_layer, *_rules("gru", False))

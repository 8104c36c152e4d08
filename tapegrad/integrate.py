"""tapegrad.integrate: scipy.integrate.odeint with gradients by the adjoint method.

`odeint(func, y0, t, args)` solves dy/dt = func(y, t, *args) with SciPy's LSODA. Its backward
solves the adjoint system backwards in time (again with LSODA), taking the vector-Jacobian
products of `func` from the tape: gradients reach y0, t and every tensor in args without
differentiating through the solver's steps.
"""
import numpy as np
from scipy import integrate as _si

from .autograd.function import Function, once_differentiable
from .creation import as_tensor, tensor
from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad
from ._tensor import Tensor


def _rhs(func, shape, args):
    """func as SciPy calls it: flat float64 arrays in and out, nothing recorded."""
    def f(y, t):
        with no_grad():
            dy = func(tensor(y.reshape(shape)), tensor(t, dtype=np.float64), *args)
        return _flat(dy.numpy() if isinstance(dy, Tensor) else dy)
    return f


def _flat(a):
    return np.asarray(a, dtype=np.float64).ravel()


def _adjoint_rhs(func, shape, args, params):
    """The right-hand side of the augmented system [y, a, g]: dy/dt = f, da/dt = -a^T df/dy,
    dg/dt = -a^T df/dparams, with f's vector-Jacobian products from one forward and backward."""
    n = int(np.prod(shape))

    def rhs(state, t):
        y, a = state[:n], state[n:2 * n]
        with enable_grad():
            yt = tensor(y.reshape(shape), requires_grad=True)
            call = list(args)
            for i in params:
                call[i] = args[i].detach().requires_grad_(True)
            wrt = [yt] + [call[i] for i in params]
            f = func(yt, tensor(t, dtype=np.float64), *call)
            if isinstance(f, Tensor) and f.requires_grad:
                gs = _grad(f, wrt, tensor(a.reshape(f.shape)), allow_unused=True)
            else:
                gs = [None] * len(wrt)
        f = f.detach().numpy() if isinstance(f, Tensor) else f
        vjps = [np.zeros(x.numel()) if gx is None else _flat(gx.numpy()) for x, gx in zip(wrt, gs)]
        return np.concatenate([_flat(f)] + [-v for v in vjps])
    return rhs


class _ODEInt(Function):
    """odeint as one tape entry: LSODA forward, adjoint LSODA backward."""

    @staticmethod
    def forward(ctx, func, options, y0, t, *args):
        shape = y0.shape
        tt = t.detach().numpy().astype(np.float64)
        ys = _si.odeint(_rhs(func, shape, args), _flat(y0.detach().numpy()), tt, **options)
        ctx.func, ctx.options, ctx.shape, ctx.t, ctx.ys, ctx.args = \
            func, options, shape, tt, ys, args
        return as_tensor(ys.reshape((len(tt),) + tuple(shape)).astype(y0.dtype))

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        func, shape, tt, ys, args = ctx.func, ctx.shape, ctx.t, ctx.ys, ctx.args
        g = g.detach().numpy().reshape(len(tt), -1).astype(np.float64)
        params = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        sizes = [args[i].numel() for i in params]
        n, f = ys.shape[1], _rhs(func, shape, args)
        augmented = _adjoint_rhs(func, shape, args, params)
        a, gp, gt = g[-1].copy(), np.zeros(sum(sizes)), np.zeros(len(tt))
        for i in range(len(tt) - 1, 0, -1):
            gt[i] = g[i] @ f(ys[i], tt[i])      # moving t_i moves y(t_i) along the flow
            # restart from the stored forward solution: no error builds up in y backwards
            state = np.concatenate([ys[i], a, gp])
            state = _si.odeint(augmented, state, [tt[i], tt[i - 1]], **ctx.options)[-1]
            a, gp = state[n:2 * n] + g[i - 1], state[2 * n:]
        # y(t_0) = y0 does not move with t_0; every later output moves against it
        gt[0] = -(a - g[0]) @ f(ys[0], tt[0])
        grads = [None] * len(args)
        for i, chunk in zip(params, np.split(gp, np.cumsum(sizes)[:-1])):
            grads[i] = tensor(chunk.reshape(args[i].shape))
        # the engine casts each gradient to its input's dtype
        return (None, None, tensor(a.reshape(shape)), tensor(gt), *grads)


def odeint(func, y0, t, args=(), rtol=1.49012e-8, atol=1.49012e-8, mxstep=0):
    """Solve dy/dt = func(y, t, *args) differentiably, as scipy.integrate.odeint.

    `func` is written in tapegrad ops; the result holds y at each time in `t`, shape (len(t),) +
    y0.shape. It is differentiable in `y0`, `t` and the tensors in `args` (once: the backward
    itself is not differentiable). `rtol`, `atol` and `mxstep` are odeint's error tolerances and
    step limit (0: SciPy's default).
    """
    y0 = y0 if isinstance(y0, Tensor) else as_tensor(np.asarray(y0, dtype=np.float64))
    if y0.dtype.kind != "f":
        raise TypeError(f"odeint: y0 must be floating point, got {y0.dtype}")
    t = t if isinstance(t, Tensor) else as_tensor(np.asarray(t, dtype=np.float64))
    if t.ndim != 1 or t.shape[0] < 1:
        raise ValueError(f"odeint: t must be a 1-D sequence of times, got shape {list(t.shape)}")
    steps = np.diff(t.detach().numpy())
    if not (np.all(steps > 0) or np.all(steps < 0)):
        raise ValueError("odeint: t must be strictly increasing or strictly decreasing")
    options = dict(rtol=rtol, atol=atol, mxstep=mxstep)
    return _ODEInt.apply(func, options, y0, t, *args)


__all__ = ["odeint"]

"""tapegrad.integrate.odeint: values as SciPy's, adjoint gradients vs closed forms and finite
differences, dtypes, and errors."""
import numpy as np
import pytest
from scipy import integrate as si

import tapegrad as tg
from tapegrad.autograd import gradcheck
from tapegrad.integrate import odeint

TIGHT = dict(rtol=1e-11, atol=1e-11)


def decay(y, t, k):
    return -k * y


def test_exponential_decay_values_and_gradients():
    y0 = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    t = tg.tensor([0.0, 0.4, 1.5], dtype=tg.float64, requires_grad=True)
    k = tg.tensor(0.7, dtype=tg.float64, requires_grad=True)
    ys = odeint(decay, y0, t, (k,), **TIGHT)
    tn, y0n = t.detach().numpy(), y0.detach().numpy()
    e = np.exp(-0.7 * tn)[:, None]
    np.testing.assert_allclose(ys.detach().numpy(), y0n * e, rtol=1e-9)
    gy0, gt, gk = tg.autograd.grad(ys.sum(), [y0, t, k])
    np.testing.assert_allclose(gy0.numpy(), [e.sum()] * 2, rtol=1e-8)
    # y = y0 exp(-k t): dy/dt_i = -k y_i (0 for t_0, which only shifts the others' start)
    slope = -0.7 * (y0n * e).sum(1)
    np.testing.assert_allclose(gt.numpy()[1:], slope[1:], rtol=1e-8)
    np.testing.assert_allclose(gt.numpy()[0], -slope[1:].sum(), rtol=1e-8)
    np.testing.assert_allclose(gk.item(), (-(tn[:, None]) * y0n * e).sum(), rtol=1e-8)


def lotka_volterra(y, t, theta):
    a, b, c, d = theta[0], theta[1], theta[2], theta[3]
    return tg.stack([a * y[0] - b * y[0] * y[1], -c * y[1] + d * y[0] * y[1]])


@pytest.mark.parametrize("times", [[0.0, 0.3, 1.0, 2.0], [2.0, 1.2, 0.0]])
def test_nonlinear_system_matches_finite_differences(times):
    y0 = tg.tensor([1.0, 0.5], dtype=tg.float64, requires_grad=True)
    t = tg.tensor(times, dtype=tg.float64, requires_grad=True)
    theta = tg.tensor([1.1, 0.4, 0.9, 0.3], dtype=tg.float64, requires_grad=True)
    ys = odeint(lotka_volterra, y0, t, (theta,), **TIGHT)
    ref = si.odeint(lambda y, t: lotka_volterra(tg.tensor(y), t, theta.detach()).numpy(),
                    [1.0, 0.5], times, **TIGHT)
    np.testing.assert_allclose(ys.detach().numpy(), ref, rtol=1e-8)
    assert gradcheck(lambda y0, t, th: odeint(lotka_volterra, y0, t, (th,), **TIGHT),
                     [y0, t, theta], eps=1e-5, atol=1e-5, rtol=1e-4)


def test_matrix_state_constant_args_and_one_entry_on_the_tape():
    A = tg.tensor([[0.0, 1.0], [-1.0, -0.1]], dtype=tg.float64, requires_grad=True)
    y0 = tg.eye(2, dtype=tg.float64)
    with tg.Tape() as tape:
        ys = odeint(lambda Y, t, A, scale: scale * (A @ Y), y0, [0.0, 1.0], (A, 2.0), **TIGHT)
    assert len(tape) == 1 and ys.shape == (2, 2, 2)
    from scipy.linalg import expm
    np.testing.assert_allclose(ys[1].detach().numpy(), expm(2.0 * A.detach().numpy()), rtol=1e-8)
    assert gradcheck(lambda A: odeint(lambda Y, t, A: 2.0 * (A @ Y), y0, [0.0, 1.0], (A,),
                                      **TIGHT), [A], eps=1e-5, atol=1e-5, rtol=1e-4)


def test_float32_in_float32_out():
    y0 = tg.tensor([1.0, 2.0], requires_grad=True)
    k = tg.tensor(0.5, requires_grad=True)
    ys = odeint(decay, y0, [0.0, 1.0], (k,))
    assert ys.dtype == tg.float32
    gy0, gk = tg.autograd.grad(ys.sum(), [y0, k])
    assert gy0.dtype == tg.float32 and gk.dtype == tg.float32


def test_backward_is_once_differentiable():
    """Second order would differentiate through the adjoint solve: it raises, as in PyTorch."""
    y0 = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    v = tg.ones(2, 1, dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad(odeint(decay, y0, [0.0, 1.0], (0.5,)), [y0], v, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_errors():
    with pytest.raises(ValueError, match="strictly increasing or strictly decreasing"):
        odeint(decay, tg.ones(2), [0.0, 1.0, 0.5], (1.0,))
    with pytest.raises(ValueError, match=r"1-D.*\[2, 1\]"):
        odeint(decay, tg.ones(2), [[0.0], [1.0]], (1.0,))
    with pytest.raises(TypeError, match="floating point.*int64"):
        odeint(decay, tg.tensor([1, 2]), [0.0, 1.0], (1.0,))

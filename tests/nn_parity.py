"""Parity helpers for the layer tests (tests/test_nn_layers_more.py, test_nn_norm_more.py):
the same callables on tapegrad and PyTorch tensors, outputs and every gradient compared."""
import numpy as np

import tapegrad as tg
import tapegrad.nn as nn

RTOL, ATOL = 1e-5, 1e-5     # float32 rounding, relative to each value and to the largest


def close(a, b, what, rtol=RTOL, atol=ATOL):
    a = a.detach().numpy() if isinstance(a, tg.Tensor) else np.asarray(a)
    b = b.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    scale = float(np.abs(b).max()) if b.size else 0.0
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(scale, 0.1), err_msg=what)


def run_pair(torch, ours, theirs, fn_ours, fn_theirs, arrays, seed=0):
    """Outputs, input gradients and parameter gradients of two callables on the same arrays."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, want = fn_ours(*xs), fn_theirs(*ts)
    close(out, want, "output")
    g = np.random.default_rng(seed).standard_normal(tuple(want.shape)).astype(arrays[0].dtype)
    out.backward(tg.tensor(g))
    want.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts)):
        close(x.grad, t.grad, f"grad of input {i}")
    if ours is not None:
        theirs_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            close(p.grad, theirs_params[name].grad, f"grad of {name}")


def check_layer(torch, make, shape, train=True, dtype=np.float32, seed=0):
    """make(nn) against make(torch.nn), ours loaded with torch's state_dict."""
    theirs = make(torch.nn)
    ours = make(nn)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    ours.load_state_dict(theirs.state_dict())
    ours.train(train)
    theirs.train(train)
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    run_pair(torch, ours, theirs, ours, theirs, [x], seed + 1)
    return ours, theirs


def kw_ids(kw):
    return ",".join(f"{k}={v}" for k, v in kw.items())

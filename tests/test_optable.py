"""Every row of the op table: forward vs NumPy, VJP vs finite differences, second order, PyTorch."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import gradcheck, gradgradcheck
from tapegrad.primitives import REGISTRY
from tests.optable import ROWS

CASES = [pytest.param(row, g, id=f"{row.name}-{'x'.join(map(str, grp)) or 'scalar'}")
         for row in ROWS for g, grp in enumerate(row.shapes)]


def _tensors(row, group, lib=tg, requires_grad=True):
    arrays = row.inputs(row.shapes[group])
    out = []
    for i, a in enumerate(arrays):
        t = lib.tensor(a)
        if requires_grad and i not in row.make:
            t.requires_grad_(True)
        out.append(t)
    return arrays, out


def _outs(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


@pytest.mark.parametrize("row,group", CASES)
def test_forward_matches_numpy(row, group):
    if row.ref is None:
        pytest.skip("no NumPy reference for this row")
    arrays, xs = _tensors(row, group, requires_grad=False)
    got = _outs(row.fn(tg, *xs))
    want = _outs(row.ref(*arrays))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert isinstance(g, tg.Tensor)
        assert g.shape == np.shape(w), f"{row.name}: shape {g.shape} != {np.shape(w)}"
        np.testing.assert_allclose(g.numpy(), w, rtol=row.rtol, atol=row.atol)


@pytest.mark.parametrize("row,group", CASES)
def test_vjp_matches_finite_differences(row, group):
    if not row.grad:
        pytest.skip("not differentiable")
    _, xs = _tensors(row, group)
    assert gradcheck(lambda *a: row.fn(tg, *a), xs, eps=row.eps)


@pytest.mark.parametrize("row,group", CASES)
def test_second_order_matches_finite_differences(row, group):
    if not (row.grad and row.second):
        pytest.skip("second order not claimed")
    _, xs = _tensors(row, group)
    assert gradgradcheck(lambda *a: row.fn(tg, *a), xs, eps=row.eps)


@pytest.mark.parametrize("row,group", CASES)
def test_matches_pytorch(row, group):
    torch = pytest.importorskip("torch")
    if not row.torch:
        pytest.skip("no PyTorch counterpart")
    arrays, xs = _tensors(row, group)
    ts = [torch.tensor(a, requires_grad=(i not in row.make)) for i, a in enumerate(arrays)]
    got, want = _outs(row.fn(tg, *xs)), _outs(row.fn(torch, *ts))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-6, atol=1e-8)
    diff = [i for i in range(len(xs)) if i not in row.make]
    if not row.grad or not diff:
        return
    rng = np.random.default_rng(1)
    seeds = [rng.standard_normal(w.shape) for w in want]
    tg_grads = tg.autograd.grad([g for g in got if g.requires_grad], [xs[i] for i in diff],
                                [tg.tensor(s) for g, s in zip(got, seeds) if g.requires_grad],
                                allow_unused=True)
    th_grads = torch.autograd.grad([w for w in want if w.requires_grad], [ts[i] for i in diff],
                                   [torch.tensor(s) for w, s in zip(want, seeds)
                                    if w.requires_grad], allow_unused=True)
    for i, a, b in zip(diff, tg_grads, th_grads):
        a = np.zeros(arrays[i].shape) if a is None else a.numpy()
        b = np.zeros(arrays[i].shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8, err_msg=f"input {i}")


def test_every_primitive_is_in_the_table():
    """A primitive without a row would escape the gradient checks: the table must cover all."""
    seen = set()
    for row in ROWS:
        _, xs = _tensors(row, 0)
        with tg.Tape() as tape:
            out = row.fn(tg, *xs)    # noqa: F841  (entries live as long as their outputs)
        seen.update(e.prim.name for e in tape)
    missing = sorted(set(REGISTRY) - seen)
    assert not missing, f"primitives with no op-table row: {missing}"

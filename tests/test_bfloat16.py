"""torch.bfloat16 through ml_dtypes: dtype facts, promotion, ops and gradients against PyTorch's
bfloat16, and the error that names the package when it is not installed."""
import os
import subprocess
import sys

import numpy as np
import pytest

ml_dtypes = pytest.importorskip("ml_dtypes")

import tapegrad  # noqa: E402
import tapegrad.nn as tnn  # noqa: E402
import tapegrad.nn.functional as TF  # noqa: E402

BF16 = np.dtype(ml_dtypes.bfloat16)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _torch():
    return pytest.importorskip("torch")


def _close(got, want, rtol=2e-2, atol=2e-2):
    """Values within bfloat16's tolerance (8 significant bits: a rounding step is 2**-8 relative;
    composed ops round at every step where PyTorch's fused kernels round once)."""
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_allclose(got.detach().float().numpy(), want.detach().float().numpy(),
                               rtol=rtol, atol=atol)


# ---- the dtype -----------------------------------------------------------------------------
def test_dtype_facts():
    bf = tapegrad.bfloat16
    assert str(bf) == repr(bf) == "torch.bfloat16"
    assert bf == BF16 and bf.is_floating_point and bf.is_signed and not bf.is_complex
    assert bf.itemsize == 2
    assert tapegrad.dtypes.as_dtype("bfloat16") == BF16
    assert tapegrad.dtypes.as_dtype("torch.bfloat16") == BF16
    assert tapegrad.dtypes.as_dtype(ml_dtypes.bfloat16) == BF16
    t = tapegrad.tensor([1.5, 2.1234], dtype=bf)
    assert t.dtype == bf and t._data.dtype == BF16 and t.element_size() == 2
    assert t.type() == "torch.BFloat16Tensor" and t.is_floating_point()
    assert tapegrad.is_floating_point(t)
    assert isinstance(t, tapegrad.BFloat16Tensor) and not isinstance(t, tapegrad.FloatTensor)
    assert tapegrad.BFloat16Tensor([1, 2]).dtype == bf
    assert t.type("torch.FloatTensor").dtype == tapegrad.float32
    assert t.float().type(tapegrad.BFloat16Tensor).dtype == bf


def test_finfo_and_print():
    torch = _torch()
    got, want = tapegrad.finfo(tapegrad.bfloat16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(got, name) == getattr(want, name), name
    assert repr(got) == repr(want)
    values = [1.5, 2.1234, -3.0]
    assert repr(tapegrad.tensor(values, dtype=tapegrad.bfloat16)) == \
        repr(torch.tensor(values, dtype=torch.bfloat16))
    t = tapegrad.tensor(values, dtype=tapegrad.bfloat16, requires_grad=True)
    assert repr(t) == repr(torch.tensor(values, dtype=torch.bfloat16, requires_grad=True))


def test_tolist_item_and_casts():
    t = tapegrad.tensor([1.5, 2.1234, 3.0], dtype=tapegrad.bfloat16)
    assert t.tolist() == [1.5, 2.125, 3.0] and all(type(v) is float for v in t.tolist())
    assert t[1].item() == 2.125 and type(t[1].item()) is float
    assert t.to(tapegrad.int64).tolist() == [1, 2, 3]
    assert tapegrad.tensor([1, 2]).to(tapegrad.bfloat16).dtype == tapegrad.bfloat16
    assert t.double().dtype == tapegrad.float64 and t.half().dtype == tapegrad.float16
    assert t.float().to(tapegrad.bfloat16).dtype == tapegrad.bfloat16
    assert tapegrad.zeros(2, dtype=tapegrad.bfloat16).dtype == tapegrad.bfloat16
    assert tapegrad.randn(2, 3, dtype=tapegrad.bfloat16).dtype == tapegrad.bfloat16
    assert tapegrad.ones(2).bfloat16().dtype == tapegrad.bfloat16
    net = tnn.Linear(2, 3).bfloat16()
    assert net.weight.dtype == net.bias.dtype == tapegrad.bfloat16 and net.weight.requires_grad
    assert net.to(tapegrad.float32).weight.dtype == tapegrad.float32


@pytest.mark.parametrize("other", ["float16", "float32", "float64", "int64", "int8", "uint8",
                                   "bool", "bfloat16"])
def test_promote_types(other):
    torch = _torch()
    want = torch.promote_types(torch.bfloat16, getattr(torch, other))
    assert str(tapegrad.promote_types(tapegrad.bfloat16, getattr(tapegrad, other))) == str(want)
    assert str(tapegrad.promote_types(getattr(tapegrad, other), tapegrad.bfloat16)) == str(want)


@pytest.mark.parametrize("other", ["float16", "float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("zero_dim", [False, True])
def test_binary_promotion(other, zero_dim):
    torch = _torch()
    shape = () if zero_dim else (3,)
    a = (tapegrad.ones(3, dtype=tapegrad.bfloat16),
         tapegrad.ones(shape, dtype=getattr(tapegrad, other)))
    b = (torch.ones(3, dtype=torch.bfloat16), torch.ones(shape, dtype=getattr(torch, other)))
    assert str((a[0] * a[1]).dtype) == str((b[0] * b[1]).dtype)
    assert str((a[1] + a[0]).dtype) == str((b[1] + b[0]).dtype)
    assert str(tapegrad.result_type(a[0], a[1])) == str(torch.result_type(b[0], b[1]))
    assert str((a[0] * 2.5).dtype) == str((b[0] * 2.5).dtype) == "torch.bfloat16"
    assert str((a[0] + 2).dtype) == "torch.bfloat16"


def test_requires_grad_and_backward_dtype():
    x = tapegrad.tensor([1.0, -2.0], dtype=tapegrad.bfloat16).requires_grad_()
    y = (x * x).sum()
    assert y.requires_grad and y.grad_fn is not None
    y.backward()
    assert x.grad.dtype == tapegrad.bfloat16 and x.grad.tolist() == [2.0, -4.0]
    assert not x.argmax().requires_grad
    w = tnn.Parameter(tapegrad.zeros(2, dtype=tapegrad.bfloat16))
    assert w.requires_grad


# ---- ops against PyTorch's bfloat16 --------------------------------------------------------
UNARY = {
    "relu": lambda m, x: m.relu(x), "sigmoid": lambda m, x: m.sigmoid(x),
    "tanh": lambda m, x: m.tanh(x), "exp": lambda m, x: m.exp(x),
    "log": lambda m, x: m.log(x.abs() + 0.5), "sqrt": lambda m, x: (x.abs() + 0.5).sqrt(),
    "neg_pow": lambda m, x: (-x) ** 2, "div": lambda m, x: x / 3 + 1 / (x.abs() + 1),
    "sum": lambda m, x: x.sum(), "sum_dim": lambda m, x: x.sum(1),
    "mean": lambda m, x: x.mean(), "mean_dim": lambda m, x: x.mean(0, keepdim=True),
    "softmax": lambda m, x: m.softmax(x, 1), "log_softmax": lambda m, x: m.log_softmax(x, 1),
    "max": lambda m, x: x.max(1)[0], "clamp": lambda m, x: x.clamp(-0.5, 0.5),
    "var": lambda m, x: x.var(1), "logsumexp": lambda m, x: x.logsumexp(1),
    "gelu": lambda m, x: m.nn.functional.gelu(x), "silu": lambda m, x: m.nn.functional.silu(x),
    "layer_norm": lambda m, x: m.nn.functional.layer_norm(x, (x.shape[1],)),
    "matmul": lambda m, x: x @ x.t(), "einsum": lambda m, x: m.einsum("ij,kj->ik", x, x),
    "cat": lambda m, x: m.cat([x, x[:1]]), "index": lambda m, x: x[1:, ::2],
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_op_parity(name):
    torch = _torch()
    f = UNARY[name]
    data = np.random.default_rng(0).standard_normal((6, 40)).astype(np.float32)
    xt = torch.tensor(data, dtype=torch.bfloat16, requires_grad=True)
    xg = tapegrad.tensor(data, dtype=tapegrad.bfloat16, requires_grad=True)
    want, got = f(torch, xt), f(tapegrad, xg)
    _close(got, want)
    seed = np.random.default_rng(1).standard_normal(tuple(want.shape)).astype(np.float32)
    want.backward(torch.tensor(seed, dtype=torch.bfloat16))
    got.backward(tapegrad.tensor(seed, dtype=tapegrad.bfloat16))
    _close(xg.grad, xt.grad, rtol=4e-2, atol=4e-2)


def test_long_sum_accumulates_in_float32():
    """A sum of 10,000 ones is exact in float32 and rounded once, as in PyTorch; summed in
    bfloat16 it would stop at 256."""
    torch = _torch()
    assert tapegrad.ones(10000, dtype=tapegrad.bfloat16).sum().item() == \
        torch.ones(10000, dtype=torch.bfloat16).sum().item()
    assert tapegrad.ones(10000, dtype=tapegrad.bfloat16).mean().item() == 1.0


def test_cross_entropy_parity():
    torch = _torch()
    rng = np.random.default_rng(2)
    data, target = rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 5, 8)
    xt = torch.tensor(data, dtype=torch.bfloat16, requires_grad=True)
    xg = tapegrad.tensor(data, dtype=tapegrad.bfloat16, requires_grad=True)
    want = torch.nn.functional.cross_entropy(xt, torch.tensor(target))
    got = TF.cross_entropy(xg, tapegrad.tensor(target))
    _close(got, want)
    want.backward()
    got.backward()
    _close(xg.grad, xt.grad)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_mlp_step_parity(optimizer):
    """One step of a small bfloat16 MLP: loss, every gradient, and the updated weights."""
    torch = _torch()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 8)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    sizes = [(8, 32), (32, 1)]
    params = [(rng.standard_normal((o, i)).astype(np.float32) / np.sqrt(i),
               rng.standard_normal(o).astype(np.float32) * 0.1) for i, o in sizes]

    def build(m):
        net = m.nn.Sequential(m.nn.Linear(8, 32), m.nn.Tanh(), m.nn.Linear(32, 1))
        with m.no_grad():
            for layer, (w, b) in zip((net[0], net[2]), params):
                layer.weight.copy_(m.tensor(w))
                layer.bias.copy_(m.tensor(b))
        net = net.bfloat16()
        opt = getattr(m.optim, optimizer)(net.parameters(), lr=0.1 if optimizer == "SGD" else 0.01)
        loss = m.nn.functional.mse_loss(net(m.tensor(x).to(m.bfloat16)),
                                        m.tensor(y, dtype=m.bfloat16))
        opt.zero_grad()
        loss.backward()
        grads = [p.grad.clone() for p in net.parameters()]
        opt.step()
        return loss, grads, list(net.parameters())

    (lt, gt, pt), (lg, gg, pg) = build(torch), build(tapegrad)
    _close(lg, lt)
    for got, want in zip(gg + pg, gt + pt):
        assert got.dtype == tapegrad.bfloat16
        _close(got, want)


# ---- without ml_dtypes -----------------------------------------------------------------------
def test_clear_error_without_ml_dtypes():
    """With ml_dtypes made unimportable (sys.modules entry None), tapegrad imports and
    torch.bfloat16 raises an AttributeError naming the package; dtype names say so too."""
    code = (
        "import sys; sys.modules['ml_dtypes'] = None\n"
        "import tapegrad\n"
        "assert tapegrad.dtypes.ml_dtypes is None\n"
        "for name in ('bfloat16', 'BFloat16Tensor'):\n"
        "    try:\n"
        "        getattr(tapegrad, name)\n"
        "    except AttributeError as e:\n"
        "        assert 'pip install ml_dtypes' in str(e), e\n"
        "    else:\n"
        "        raise SystemExit('no error for ' + name)\n"
        "assert not hasattr(tapegrad, 'bfloat16')\n"
        "for spelling in ('bfloat16', 'torch.bfloat16', 'torch.BFloat16Tensor'):\n"
        "    try:\n"
        "        tapegrad.dtypes.as_dtype(spelling)\n"
        "    except TypeError as e:\n"
        "        assert 'pip install ml_dtypes' in str(e), e\n"
        "    else:\n"
        "        raise SystemExit('no error for ' + spelling)\n"
        "try:\n"
        "    tapegrad.no_such_name\n"
        "except AttributeError as e:\n"
        "    assert 'ml_dtypes' not in str(e), e\n"
        "assert (tapegrad.ones(2) * 2).tolist() == [2.0, 2.0]\n"
        "print('ok')\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_bfloat16_checkpoints_round_trip_with_torch():
    """A bfloat16 tensor saves as torch's BFloat16Storage and loads back as bfloat16, both
    ways (without ml_dtypes, tapegrad widens it to float32 on load)."""
    import io
    torch = pytest.importorskip("torch")
    x = tapegrad.tensor([1.5, -2.25, 3.0e-3, 65504.0]).to(tapegrad.bfloat16)
    buf = io.BytesIO()
    tapegrad.save({"x": x, "dtype": tapegrad.bfloat16}, buf)
    buf.seek(0)
    ours = tapegrad.load(buf)
    assert ours["x"].dtype == tapegrad.bfloat16 and ours["x"].tolist() == x.tolist()
    assert ours["dtype"] == tapegrad.bfloat16
    buf.seek(0)
    theirs = torch.load(buf)
    assert theirs["x"].dtype == torch.bfloat16 and theirs["x"].tolist() == x.tolist()
    buf = io.BytesIO()
    torch.save(torch.tensor([0.1, -7.0]).bfloat16(), buf)
    buf.seek(0)
    back = tapegrad.load(buf)
    assert back.dtype == tapegrad.bfloat16 and back.tolist() == torch.tensor([0.1, -7.0]).bfloat16().tolist()


def test_out_accepts_a_bfloat16_destination():
    out = tapegrad.zeros(2, dtype=tapegrad.bfloat16)
    got = tapegrad.add(tapegrad.ones(2, dtype=tapegrad.bfloat16), 1.5, out=out)
    assert got is out and out.dtype == tapegrad.bfloat16 and out.tolist() == [2.5, 2.5]
    with pytest.raises(RuntimeError, match="can't be cast"):
        tapegrad.add(tapegrad.ones(2, dtype=tapegrad.bfloat16), 1, out=tapegrad.zeros(2, dtype=tapegrad.int64))

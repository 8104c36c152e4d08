"""nn.RNN, LSTM, GRU and their cells against PyTorch: PyTorch's state_dict loaded into ours, the
same inputs; outputs, final states and the gradients of the input, the initial states and every
parameter; three SGD steps; and the refusal of double backward through the fused layers."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

T, B, I, H = 5, 3, 4, 6

# (class, kwargs): every mode, with bias off, 2 layers, bidirectional and batch_first mixed in
MODULES = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(bias=False, num_layers=2)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict(bias=False, bidirectional=True)),
]


def _pair(name, kw, dtype=torch.float64):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(I, H, dtype=dtype, **kw)
    ours = getattr(tg.nn, name)(I, H, dtype=tg.float64 if dtype == torch.float64 else None, **kw)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _states(name, kw, batched, rng):
    dirs = 2 if kw.get("bidirectional") else 1
    shape = (kw.get("num_layers", 1) * dirs,) + ((B,) if batched else ()) + (H,)
    n = 2 if name == "LSTM" else 1
    return [rng.standard_normal(shape) for _ in range(n)]


def _run(lib, module, name, x, states):
    xt = lib.tensor(x, requires_grad=True)
    st = [lib.tensor(s, requires_grad=True) for s in states]
    hx = None if not st else tuple(st) if name == "LSTM" else st[0]
    out, h = module(xt, hx)
    finals = list(h) if name == "LSTM" else [h]
    return xt, st, [out] + finals


def _compare(ours, theirs, name, x, states, rtol=1e-9):
    rng = np.random.default_rng(7)
    a = _run(tg, ours, name, x, states)
    b = _run(torch, theirs, name, x, states)
    seeds = [rng.standard_normal(tuple(o.shape)) for o in b[2]]
    for o, t in zip(a[2], b[2]):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=1e-12)
    loss_a = sum((o * tg.tensor(s)).sum() for o, s in zip(a[2], seeds))
    loss_b = sum((o * torch.tensor(s)).sum() for o, s in zip(b[2], seeds))
    loss_a.backward()
    loss_b.backward()
    for p, q in zip([a[0]] + a[1], [b[0]] + b[1]):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=1e-11)
    pa, pb = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(pa) == list(pb)
    for k in pa:
        np.testing.assert_allclose(pa[k].grad.numpy(), pb[k].grad.numpy(), rtol=rtol,
                                   atol=1e-11, err_msg=k)


@pytest.mark.parametrize("name,kw", MODULES, ids=[f"{n}-{'-'.join(k)}" for n, k in MODULES])
@pytest.mark.parametrize("h0", [False, True], ids=["zero_state", "h0"])
def test_module_matches_torch(name, kw, h0):
    ours, theirs = _pair(name, kw)
    rng = np.random.default_rng(1)
    shape = (B, T, I) if kw.get("batch_first") else (T, B, I)
    _compare(ours, theirs, name, rng.standard_normal(shape),
             _states(name, kw, True, rng) if h0 else [])


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(name):
    kw = dict(num_layers=2, bidirectional=True)
    ours, theirs = _pair(name, kw)
    rng = np.random.default_rng(2)
    _compare(ours, theirs, name, rng.standard_normal((T, I)), _states(name, kw, False, rng))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_three_sgd_steps_float32(name):
    kw = dict(num_layers=2, batch_first=True)
    ours, theirs = _pair(name, kw, torch.float32)
    x = np.random.default_rng(3).standard_normal((B, T, I)).astype(np.float32)
    target = np.random.default_rng(4).standard_normal((B, T, H)).astype(np.float32)
    opt_a = tg.optim.SGD(ours.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(3):
        for lib, m, opt in ((tg, ours, opt_a), (torch, theirs, opt_b)):
            opt.zero_grad()
            loss = ((m(lib.tensor(x))[0] - lib.tensor(target)) ** 2).mean()
            loss.backward()
            opt.step()
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=k)


CELLS = [("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu", bias=False)),
         ("LSTMCell", dict()), ("LSTMCell", dict(bias=False)), ("GRUCell", dict())]


@pytest.mark.parametrize("name,kw", CELLS, ids=[f"{n}-{'-'.join(k)}" for n, k in CELLS])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(name, kw, batched):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(I, H, dtype=torch.float64, **kw)
    ours = getattr(tg.nn, name)(I, H, dtype=tg.float64, **kw)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    rng = np.random.default_rng(5)
    lead = (B,) if batched else ()
    x = rng.standard_normal(lead + (I,))
    states = [rng.standard_normal(lead + (H,)) for _ in range(2 if name == "LSTMCell" else 1)]
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        xt = lib.tensor(x, requires_grad=True)
        st = [lib.tensor(s, requires_grad=True) for s in states]
        out = m(xt, tuple(st) if name == "LSTMCell" else st[0])
        outs = list(out) if name == "LSTMCell" else [out]
        # two steps, the second from the first's state, so the state's gradient flows through
        out2 = m(xt, tuple(outs) if name == "LSTMCell" else outs[0])
        outs2 = list(out2) if name == "LSTMCell" else [out2]
        sum(o.sum() * (k + 1) for k, o in enumerate(outs2)).backward()
        res.append([o.detach().numpy() for o in outs2] + [xt.grad.numpy()]
                   + [s.grad.numpy() for s in st]
                   + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    assert np.shape(res[0][0]) == lead + (H,)


def test_dropout_between_layers_in_training_only():
    ours = tg.nn.LSTM(I, H, num_layers=2, dropout=0.5)
    x = tg.tensor(np.random.default_rng(6).standard_normal((T, B, I)), dtype=tg.float32)
    ours.eval()
    with tg.no_grad():
        a, b = ours(x)[0], ours(x)[0]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    ours.train()
    tg.manual_seed(0)
    c = ours(x)[0].detach()
    tg.manual_seed(1)
    d = ours(x)[0].detach()
    assert not np.allclose(c.numpy(), d.numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        tg.nn.GRU(I, H, dropout=0.3)


def test_double_backward_is_refused_clearly():
    m = tg.nn.LSTM(I, H, dtype=tg.float64)
    x = tg.tensor(np.random.default_rng(8).standard_normal((T, B, I)), requires_grad=True)
    out = m(x)[0].sum()
    with pytest.raises(RuntimeError, match="double backward is not supported"):
        tg.autograd.grad(out, x, create_graph=True)


def test_names_shapes_init_and_errors():
    m = tg.nn.GRU(I, H, num_layers=2, bidirectional=True)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    want = {k: tuple(v.shape) for k, v in
            torch.nn.GRU(I, H, num_layers=2, bidirectional=True).state_dict().items()}
    assert shapes == want
    bound = 1 / np.sqrt(H)
    for p in m.parameters():
        assert np.abs(p.detach().numpy()).max() <= bound
    assert m.weight_ih_l1_reverse.shape == (3 * H, 2 * H)
    with pytest.raises(ValueError, match="proj_size"):
        tg.nn.LSTM(I, H, proj_size=H)
    with pytest.raises(ValueError, match="nonlinearity"):
        tg.nn.RNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="input_size"):
        m(tg.zeros(T, B, I + 1))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        m(tg.zeros(T, B, I), tg.zeros(1, B, H))
    assert repr(tg.nn.LSTM(I, H, 2, batch_first=True)) == repr(torch.nn.LSTM(I, H, 2,
                                                                             batch_first=True))

"""nn.LSTM with proj_size against PyTorch: parameters (weight_hr_l{k}) and their shapes, padded
and packed inputs, one and two layers, bidirectional, batch_first, given or zero initial states;
outputs, h_n (projected) and c_n, the gradients of the input, the states and every parameter."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

T, B, I, H, P = 4, 3, 3, 5, 2

CASES = [dict(), dict(num_layers=2, bidirectional=True), dict(batch_first=True, bias=False),
         dict(num_layers=2, bidirectional=True, batch_first=True)]


def _pair(kw):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(I, H, proj_size=P, dtype=torch.float64, **kw)
    ours = tg.nn.LSTM(I, H, proj_size=P, dtype=tg.float64, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    return ours, theirs


def _run(lib, module, x, states, packed_lengths):
    xt = lib.tensor(x, requires_grad=True)
    st = [lib.tensor(s, requires_grad=True) for s in states]
    inp = xt
    if packed_lengths is not None:
        inp = lib.nn.utils.rnn.pack_padded_sequence(xt, packed_lengths, enforce_sorted=False,
                                                    batch_first=module.batch_first)
    out, (h, c) = module(inp, tuple(st) if st else None)
    if packed_lengths is not None:
        out = out.data
    return [xt] + st, [out, h, c]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: ",".join(kw) or "default")
@pytest.mark.parametrize("mode", ["zero_state", "states", "packed"])
def test_lstm_proj_matches_torch(kw, mode):
    ours, theirs = _pair(kw)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, T, I) if kw.get("batch_first") else (T, B, I))
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1) * dirs
    states = [] if mode == "zero_state" else [rng.standard_normal((layers, B, P)),
                                              rng.standard_normal((layers, B, H))]
    lengths = [2, 4, 1] if mode == "packed" else None
    a_in, a_out = _run(tg, ours, x, states, lengths)
    b_in, b_out = _run(torch, theirs, x, states, lengths)
    for o, t in zip(a_out, b_out):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-9,
                                   atol=1e-12)
    seeds = [rng.standard_normal(tuple(t.shape)) for t in b_out]
    sum((o * tg.tensor(s)).sum() for o, s in zip(a_out, seeds)).backward()
    sum((o * torch.tensor(s)).sum() for o, s in zip(b_out, seeds)).backward()
    for p, q in zip(a_in, b_in):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-11)
    pa, pb = dict(ours.named_parameters()), dict(theirs.named_parameters())
    for k in pb:
        np.testing.assert_allclose(pa[k].grad.numpy(), pb[k].grad.numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=k)


def test_lstm_proj_surface():
    m = tg.nn.LSTM(I, H, 2, proj_size=P, bidirectional=True)
    assert repr(m) == repr(torch.nn.LSTM(I, H, 2, proj_size=P, bidirectional=True))
    assert m.weight_hr_l1_reverse.shape == (P, H) and m.weight_ih_l1.shape == (4 * H, 2 * P)
    assert len(m.all_weights) == 4 and len(m.all_weights[0]) == 5
    assert np.abs(m.weight_hr_l0.detach().numpy()).max() <= 1 / np.sqrt(H)
    out, (h, c) = m(tg.zeros(T, I))               # unbatched
    assert tuple(out.shape) == (T, 2 * P) and tuple(h.shape) == (4, P) and \
        tuple(c.shape) == (4, H)
    with pytest.raises(ValueError, match="smaller than hidden_size"):
        tg.nn.LSTM(I, H, proj_size=H)
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        m(tg.zeros(T, B, I), (tg.zeros(4, B, H), tg.zeros(4, B, H)))

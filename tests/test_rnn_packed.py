"""nn.RNN, LSTM, GRU on PackedSequence input against PyTorch: ragged batches (sorted and not,
enforce_sorted both ways), one and two layers, bidirectional; the packed output, h_n / c_n of
each sequence's last real step, the gradients of every sequence, of the initial states and of
every parameter, and a few SGD steps."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

I, H = 3, 4
LENGTHS = [[5, 3, 2], [2, 5, 1, 4]]

CASES = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", bidirectional=True)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=2, bidirectional=True, bias=False)),
]


def _pair(name, kw):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(I, H, dtype=torch.float64, **kw)
    ours = getattr(tg.nn, name)(I, H, dtype=tg.float64, **kw)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    return ours, theirs


def _forward(lib, module, name, seqs, states, enforce_sorted):
    xs = [lib.tensor(s, requires_grad=True) for s in seqs]
    st = [lib.tensor(s, requires_grad=True) for s in states]
    packed = lib.nn.utils.rnn.pack_sequence(xs, enforce_sorted=enforce_sorted)
    hx = None if not st else tuple(st) if name == "LSTM" else st[0]
    out, h = module(packed, hx)
    assert isinstance(out, lib.nn.utils.rnn.PackedSequence)
    finals = list(h) if name == "LSTM" else [h]
    return xs + st, [out.data] + finals, out


def _check(name, kw, lengths, with_state, enforce_sorted):
    ours, theirs = _pair(name, kw)
    rng = np.random.default_rng(sum(lengths))
    seqs = [rng.standard_normal((n, I)) for n in lengths]
    dirs = 2 if kw.get("bidirectional") else 1
    shape = (kw.get("num_layers", 1) * dirs, len(lengths), H)
    states = [rng.standard_normal(shape) for _ in range(2 if name == "LSTM" else 1)] \
        if with_state else []
    a_in, a_out, a_packed = _forward(tg, ours, name, seqs, states, enforce_sorted)
    b_in, b_out, b_packed = _forward(torch, theirs, name, seqs, states, enforce_sorted)
    np.testing.assert_array_equal(a_packed.batch_sizes.numpy(), b_packed.batch_sizes.numpy())
    for idx in ("sorted_indices", "unsorted_indices"):
        p, q = getattr(a_packed, idx), getattr(b_packed, idx)
        assert (p is None) == (q is None)
        if p is not None:
            np.testing.assert_array_equal(p.numpy(), q.numpy())
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
    return ours, theirs, seqs, states


@pytest.mark.parametrize("name,kw", CASES, ids=lambda v: v if isinstance(v, str) else
                         ",".join(f"{k}={w}" for k, w in v.items()) or "default")
@pytest.mark.parametrize("lengths", LENGTHS, ids=["sorted", "unsorted"])
def test_packed_parity(name, kw, lengths):
    _check(name, kw, lengths, with_state=True, enforce_sorted=False)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_packed_enforce_sorted_no_state(name):
    _check(name, dict(bidirectional=True), LENGTHS[0], with_state=False, enforce_sorted=True)


def test_packed_sgd_steps():
    ours, theirs = _pair("LSTM", dict(bidirectional=True))
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, I)) for n in LENGTHS[1]]
    opt_a = tg.optim.SGD(ours.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(3):
        for lib, m, opt in ((tg, ours, opt_a), (torch, theirs, opt_b)):
            opt.zero_grad()
            packed = lib.nn.utils.rnn.pack_sequence([lib.tensor(s) for s in seqs],
                                                    enforce_sorted=False)
            out, (h, c) = m(packed)
            ((out.data ** 2).sum() + h.sum() + (c * c).sum()).backward()
            opt.step()
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=k)


def test_packed_then_padded_matches_torch():
    ours, theirs = _pair("GRU", dict())
    rng = np.random.default_rng(5)
    seqs = [rng.standard_normal((n, I)) for n in LENGTHS[1]]
    outs = []
    for lib, m in ((tg, ours), (torch, theirs)):
        u = lib.nn.utils.rnn
        out, _ = m(u.pack_sequence([lib.tensor(s) for s in seqs], enforce_sorted=False))
        padded, lens = u.pad_packed_sequence(out, batch_first=True)
        outs.append((padded.detach().numpy(), lens.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


def test_packed_wrong_input_size():
    m = tg.nn.LSTM(I + 1, H)
    packed = tg.nn.utils.rnn.pack_sequence([tg.randn(3, I)])
    with pytest.raises(RuntimeError, match="input_size"):
        m(packed)

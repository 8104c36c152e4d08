"""tapegrad.nn.utils.rnn against torch.nn.utils.rnn: padding, packing and unpacking ragged
batches (sorted and unsorted, batch_first, total_length, left padding), and the gradients
that flow back through them to every sequence."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.nn.utils import rnn as R

torch = pytest.importorskip("torch")
TR = torch.nn.utils.rnn

LENGTHS = [(3, 5, 1, 4), (4, 4, 2), (6,)]


def _seqs(lengths, trail=(3,), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((k,) + trail) for k in lengths]


def _leaves(lib, arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


def _grads_match(ours, theirs, out_ours, out_theirs, seed=1):
    w = np.random.default_rng(seed).standard_normal(tuple(out_theirs.shape))
    (out_ours * tg.tensor(w)).sum().backward()
    (out_theirs * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        _close(a.grad, b.grad)


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(lengths, batch_first, side):
    arrays = _seqs(lengths, (2, 3))
    a, b = _leaves(tg, arrays), _leaves(torch, arrays)
    pa = R.pad_sequence(a, batch_first, -2.5, side)
    pb = TR.pad_sequence(b, batch_first, -2.5, side)
    assert tuple(pa.shape) == tuple(pb.shape)
    _close(pa, pb)
    _grads_match(a, b, pa, pb)


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_and_pad_round_trip(lengths, batch_first, enforce_sorted):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    arrays = _seqs(lengths)
    steps = max(lengths)
    padded = np.zeros((len(lengths), steps, 3))
    for i, s in enumerate(arrays):
        padded[i, :len(s)] = s
    if not batch_first:
        padded = padded.transpose(1, 0, 2).copy()
    xa, xb = tg.tensor(padded, requires_grad=True), torch.tensor(padded, requires_grad=True)
    pa = R.pack_padded_sequence(xa, lengths, batch_first, enforce_sorted)
    pb = TR.pack_padded_sequence(xb, torch.tensor(lengths), batch_first, enforce_sorted)
    _close(pa.data, pb.data)
    assert pa.batch_sizes.tolist() == pb.batch_sizes.tolist()
    for mine, theirs in [(pa.sorted_indices, pb.sorted_indices),
                         (pa.unsorted_indices, pb.unsorted_indices)]:
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.tolist() == theirs.tolist()
    oa, la = R.pad_packed_sequence(pa, batch_first, 7.0, total_length=steps + 2)
    ob, lb = TR.pad_packed_sequence(pb, batch_first, 7.0, total_length=steps + 2)
    _close(oa, ob)
    assert la.tolist() == lb.tolist() == list(lengths)
    assert la.dtype == tg.int64
    _grads_match([xa], [xb], oa, ob)


def test_pack_sequence_and_unpack():
    arrays = _seqs((2, 5, 3), (4,))
    a, b = _leaves(tg, arrays), _leaves(torch, arrays)
    pa, pb = R.pack_sequence(a, enforce_sorted=False), TR.pack_sequence(b, enforce_sorted=False)
    _close(pa.data, pb.data)
    _grads_match(a, b, pa.data, pb.data)
    back = R.unpack_sequence(pa)
    for x, y in zip(back, arrays):
        np.testing.assert_array_equal(x.detach().numpy(), y)
    padded, lengths = R.pad_packed_sequence(pa)
    for x, y in zip(R.unpad_sequence(padded, lengths), arrays):
        np.testing.assert_array_equal(x.detach().numpy(), y)


def test_packed_sequence_is_a_tuple():
    p = R.pack_sequence([tg.ones(3, 2), tg.ones(1, 2)])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert isinstance(p, tuple) and p.data is data
    assert batch_sizes.tolist() == [2, 1, 1] and sorted_indices is None
    q = R.PackedSequence(p.data, p.batch_sizes, tg.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0]
    assert p.double().data.dtype == tg.float64
    assert R.PackedSequence((p.data, p.batch_sizes)).batch_sizes is p.batch_sizes
    assert tg.nn.utils.rnn.pack_sequence is R.pack_sequence


def test_gradcheck_through_pack_and_pad():
    x = tg.tensor(np.random.default_rng(2).standard_normal((4, 3, 2)), requires_grad=True)

    def f(x):
        p = R.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        return R.pad_packed_sequence(tg.nn.utils.rnn.PackedSequence(
            p.data * p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices))[0]
    assert tg.autograd.gradcheck(f, (x,))
    assert tg.autograd.gradgradcheck(f, (x,))


def test_errors():
    x = tg.zeros(4, 2, 3)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        R.pack_padded_sequence(x, [2, 4])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [2, 0], enforce_sorted=False)
    with pytest.raises(ValueError, match="batch_size"):
        R.pack_padded_sequence(x, [2, 1, 1])
    p = R.pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match="total_length"):
        R.pad_packed_sequence(p, total_length=3)
    with pytest.raises(ValueError, match="padding_side"):
        R.pad_sequence([x[0]], padding_side="middle")

"""torch.nn.utils.rnn: padding and packing ragged batches of sequences (PackedSequence).

Everything is a gather: the rows of the sequences (and, for padding, one row of padding
values appended at the end) are taken by one integer index, so gradients flow back to the
data through `getitem`'s rule, and packing or padding a batch costs one copy.
"""
from collections import namedtuple

import numpy as np

from ... import creation
from ...ops.indexing import getitem
from ...ops.join import cat
from ...ops.shape import reshape
from ..._tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


def _ints(x):
    """A 1-D int64 NumPy array from a tensor, array or list."""
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    return np.asarray(a, dtype=np.int64).reshape(-1)


def invert_permutation(permutation):
    """The inverse of the 1-D index tensor ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    p = _ints(permutation)
    inv = np.empty_like(p)
    inv[p] = np.arange(len(p), dtype=np.int64)
    return creation.tensor(inv)


_Fields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                        "unsorted_indices"])


class PackedSequence(_Fields):
    """A batch of variable-length sequences packed step by step (nn.utils.rnn.PackedSequence).

    ``data`` holds the time steps one after another (step t: the ``batch_sizes[t]``
    sequences still running, longest first), shape (sum of lengths, ...). ``sorted_indices``
    orders the original batch by decreasing length and ``unsorted_indices`` undoes it (both
    None when the batch came sorted). As in torch, ``data`` may also be the pair
    (data, batch_sizes).
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:          # torch's form: data is (data, batch_sizes)
            data, batch_sizes = data
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _map_data(self, fn):
        return type(self)(fn(self.data), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def to(self, *args, **kwargs):
        """A PackedSequence whose data is ``data.to(*args, **kwargs)`` (self if nothing changes)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes,
                                                        self.sorted_indices,
                                                        self.unsorted_indices)

    def cpu(self):
        """Return self: tapegrad's tensors always live on the CPU."""
        return self

    def cuda(self, *args, **kwargs):
        """Call ``data.cuda(*args, **kwargs)``: a clear error, as tapegrad has no CUDA."""
        return self._map_data(lambda d: d.cuda(*args, **kwargs))

    def double(self):
        """A PackedSequence whose data is cast to float64."""
        return self._map_data(lambda d: d.double())

    def float(self):
        """A PackedSequence whose data is cast to float32."""
        return self._map_data(lambda d: d.float())

    def half(self):
        """A PackedSequence whose data is cast to float16."""
        return self._map_data(lambda d: d.half())

    @property
    def is_cuda(self):
        """False: tapegrad has no CUDA tensors."""
        return False

    def is_pinned(self):
        """False: tapegrad has no pinned memory."""
        return False


def _lengths(lengths, batch, steps):
    n = _ints(lengths)
    if len(n) != batch:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                         f"{len(n)} (batch_size={batch})")
    if len(n) and n.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if len(n) and n.max() > steps:
        raise RuntimeError(f"Expected sequence length to be at most {steps} (the input's time "
                           f"dimension), but got a length of {n.max()}")
    return n


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch of sequences into a :class:`PackedSequence`.

    ``input`` is (T, B, ...), or (B, T, ...) with ``batch_first``; ``lengths`` (a list or 1-D
    tensor of B ints) gives each sequence's length. With ``enforce_sorted`` the lengths must
    be in decreasing order; otherwise the batch is sorted and the permutation recorded.
    """
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected an input of at least 2 dimensions, "
                         f"got {input.ndim}")
    batch, steps = (input.shape[0], input.shape[1]) if batch_first else \
        (input.shape[1], input.shape[0])
    n = _lengths(lengths, batch, steps)
    if enforce_sorted:
        if np.any(np.diff(n) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order, sorted_indices = np.arange(batch), None
    else:
        order = np.argsort(-n, kind="stable")
        sorted_indices = creation.tensor(order.astype(np.int64))
    n = n[order]
    batch_sizes = (n[None, :] > np.arange(n[0])[:, None]).sum(axis=1)
    # flat position of (step t, sorted sequence j) in the padded input, step-major
    t = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    j = np.concatenate([np.arange(b) for b in batch_sizes])
    b = order[j]
    flat = b * steps + t if batch_first else t * batch + b
    rows = reshape(input, (batch * steps,) + tuple(input.shape[2:]))
    data = getitem(rows, creation.tensor(flat.astype(np.int64)))
    return PackedSequence(data, creation.tensor(batch_sizes.astype(np.int64)), sorted_indices,
                          None)


def _check_packed(sequence):
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"expected a PackedSequence, got {type(sequence).__name__}")


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: (padded batch, lengths) in the original batch order.

    ``sequence`` is a PackedSequence; the result is (T, B, ...), or (B, T, ...) with
    ``batch_first``, filled with ``padding_value`` past each length; ``total_length`` pads to
    that many steps (at least the longest sequence). ``lengths`` is an int64 tensor.
    """
    _check_packed(sequence)
    bs = _ints(sequence.batch_sizes)
    steps, batch = len(bs), int(bs[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    order = np.arange(batch) if sequence.sorted_indices is None else \
        _ints(sequence.sorted_indices)
    data = sequence.data
    n = data.shape[0]
    t = np.repeat(np.arange(len(bs)), bs)
    b = order[np.concatenate([np.arange(k) for k in bs])]
    flat = b * steps + t if batch_first else t * batch + b
    index = np.full(batch * steps, n, dtype=np.int64)      # n: the padding row
    index[flat] = np.arange(n)
    trail = tuple(data.shape[1:])
    pad = creation.full((1,) + trail, padding_value, dtype=data.dtype)
    out = getitem(cat([data, pad]), creation.tensor(index))
    out = reshape(out, ((batch, steps) if batch_first else (steps, batch)) + trail)
    lengths = (bs[None, :] > np.arange(batch)[:, None]).sum(axis=1)     # sorted order
    orig = np.empty(batch, dtype=np.int64)
    orig[order] = lengths
    return out, creation.tensor(orig)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack ``sequences`` of shapes (L_i, ...) into one padded (L_max, B, ...) tensor.

    The result is (B, L_max, ...) with ``batch_first``; the gaps hold ``padding_value``, on the
    right or, with ``padding_side='left'``, on the left.
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trail = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != trail:
            raise RuntimeError(f"The size of tensor a ({list(trail)}) must match the size of "
                               f"tensor b ({list(s.shape[1:])}) at non-singleton dimension 1")
    n = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    batch, steps, total = len(n), int(n.max()), int(n.sum())
    dtype = sequences[0].dtype
    pad = creation.full((1,) + trail, padding_value, dtype=dtype)
    index = np.full((batch, steps), total, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    for i, (s, k) in enumerate(zip(starts, n)):
        cols = np.arange(k) if padding_side == "right" else np.arange(steps - k, steps)
        index[i, cols] = np.arange(s, s + k)
    if not batch_first:
        index = index.T
    return getitem(cat(sequences + [pad]), creation.tensor(np.ascontiguousarray(index)))


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of ``sequences`` (L_i, ...): pack_padded_sequence(pad_sequence(sequences)).

    With ``enforce_sorted`` the sequences must come longest first.
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into its sequences, each cut to its length.

    The inverse of :func:`pad_sequence`: ``padded_sequences`` is (T, B, ...) or, with
    ``batch_first``, (B, T, ...); ``lengths`` gives each sequence's length.
    """
    n = _ints(lengths)
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(k)] for i, k in enumerate(n)]


def unpack_sequence(packed_sequences):
    """The list of sequences, in the original order, that ``packed_sequences`` holds."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

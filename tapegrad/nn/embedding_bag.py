"""`embedding_bag` and `EmbeddingBag` (torch.nn.functional's and torch.nn.EmbeddingBag): sums,
means or maxima of bags of embedding rows, without materialising the per-index rows' output."""
import numpy as np

from .. import creation
from ..grad_mode import no_grad
from ..ops.elementwise import where
from ..ops.indexing import getitem, index_add
from ..ops.shape import reshape_prim
from . import init
from .embedding import _indices, _renorm_rows
from .module import Module
from .parameter import Parameter


def _bags(idx, offsets, include_last_offset, op):
    """Flat indices and each one's bag number, and the number of bags."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2D, then offsets has to be None, as input is "
                             f"treated as a mini-batch of fixed length sequences; got offsets "
                             f"of type {type(offsets).__name__}")
        B, n = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(B), n), B
    if idx.ndim != 1:
        raise ValueError(f"{op}: input has to be 1D or 2D Tensor, but got shape "
                         f"{list(idx.shape)}")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor but got None")
    off = _indices(offsets, op).astype(np.int64)
    if off.ndim != 1:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor, got shape {list(off.shape)}")
    if off.size and off[0] != 0:
        raise ValueError(f"{op}: offsets[0] has to be 0, i.e., the first sequence in the "
                         f"mini-batch has to start from position 0. However, got {off[0]}")
    if off.size and (np.any(np.diff(off) < 0) or off[-1] > idx.size):
        raise RuntimeError(f"{op}: offsets must be non-decreasing and at most the input's "
                           f"length {idx.size}, got {off.tolist()}")
    ends = off[1:] if include_last_offset else np.append(off[1:], idx.size)
    starts = off[:-1] if include_last_offset else off
    bag = np.repeat(np.arange(len(starts)), ends - starts)
    # with include_last_offset, offsets[-1] ends the last bag (the CSR layout PyTorch
    # documents; its float64 and mean kernels read to the input's end instead)
    return idx[: len(bag)], bag, len(starts)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of rows of ``weight``: a (bags, D) tensor.

    Mirrors torch.nn.functional.embedding_bag. ``input`` is (B, N) (B bags of N indices) or
    1-D with ``offsets`` giving each bag's start (``include_last_offset``: the last offset
    ends the last bag). ``mode`` is 'sum', 'mean' or 'max'; ``per_sample_weights`` (mode
    'sum' only) weighs each index. Entries equal to ``padding_idx`` are left out of their bag
    and an empty bag gives zeros. ``max_norm``, ``norm_type`` and ``scale_grad_by_freq`` as
    in :func:`embedding`; ``sparse`` is accepted for compatibility (the gradient is dense).
    """
    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise RuntimeError(f"{op}: per_sample_weights was not None. per_sample_weights is only "
                           f"supported for mode='sum' (got mode='{mode}')")
    if scale_grad_by_freq and mode == "max":
        raise ValueError(f"{op}: max mode does not support scaling the gradient by the "
                         "frequency")
    idx = _indices(input, op)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != idx.shape:
        raise ValueError(f"{op}: per_sample_weights {list(per_sample_weights.shape)} must have "
                         f"the input's shape {list(idx.shape)}")
    flat, bag, B = _bags(idx, offsets, include_last_offset, op)
    n, D = weight.shape
    if flat.size and (flat.min() < 0 or flat.max() >= n):
        raise IndexError(f"{op}: index out of range in self (indices must be in [0, {n}), got "
                         f"min {flat.min()}, max {flat.max()})")
    if max_norm is not None:
        with no_grad():
            _renorm_rows(weight, flat, max_norm, norm_type)
    keep = np.ones(flat.shape, bool) if padding_idx is None else flat != padding_idx % n
    rows = getitem(weight, creation.tensor(flat[keep]))
    if scale_grad_by_freq and rows.requires_grad:
        _, inverse, counts = np.unique(flat[keep], return_inverse=True, return_counts=True)
        freq = creation.tensor(counts[inverse].reshape(-1, 1).astype(rows.dtype))
        rows.register_hook(lambda g: g / freq)
    bag = bag[keep]
    if mode == "max":
        return _bag_max(weight, flat[keep], bag, B)
    if per_sample_weights is not None:
        psw = reshape_prim(per_sample_weights, (-1,))
        rows = rows * reshape_prim(getitem(psw, creation.tensor(np.flatnonzero(keep))), (-1, 1))
    elif mode == "mean":
        count = np.bincount(bag, minlength=B)
        rows = rows / creation.tensor(count[bag].reshape(-1, 1).astype(weight.dtype))
    return index_add(creation.zeros((B, D), dtype=weight.dtype), 0, creation.tensor(bag), rows)


def _bag_max(weight, flat, bag, B):
    """Per bag and column, the largest entry of the bag's rows (zeros for an empty bag)."""
    w = weight.detach().numpy()
    D = w.shape[1]
    best = np.zeros((B, D), np.int64)
    filled = np.zeros(B, bool)
    for b in np.unique(bag):
        members = flat[bag == b]
        best[b] = members[np.argmax(w[members], axis=0)]
        filled[b] = True
    out = getitem(weight, (creation.tensor(best), creation.tensor(np.arange(D))))
    if filled.all():
        return out
    return where(creation.tensor(filled[:, None]), out, 0.0)


class EmbeddingBag(Module):
    """An Embedding whose rows are summed, averaged or maxed per bag (torch.nn.EmbeddingBag).

    ``num_embeddings`` vectors of size ``embedding_dim``, drawn from N(0, 1); ``max_norm``,
    ``norm_type``, ``scale_grad_by_freq``, ``mode``, ``sparse``, ``include_last_offset`` and
    ``padding_idx`` as in :func:`embedding_bag`. ``device`` and ``dtype`` place the weight.
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(creation.empty((num_embeddings, embedding_dim), dtype=dtype,
                                                   device=device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        """Redraw the weight from N(0, 1), zeroing the padding_idx row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None):
        """Reduce the bags of ``input`` (with ``offsets`` and ``per_sample_weights``)."""
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose weight is the 2-D tensor ``embeddings`` (V, D).

        The weight requires no gradient if ``freeze`` (the default); ``max_norm``,
        ``norm_type``, ``scale_grad_by_freq``, ``mode``, ``sparse``, ``include_last_offset``
        and ``padding_idx`` as in the constructor.
        """
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

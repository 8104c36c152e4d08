"""`embedding`, `one_hot` and `Embedding` (torch.nn.functional's and torch.nn.Embedding)."""
import numpy as np

from .. import creation
from .._state import sparse_lookup_weights
from ..grad_mode import is_grad_enabled, no_grad
from ..ops.conversion import clone
from ..ops.elementwise import where
from ..ops.indexing import getitem
from ..sparse import SparseGrad
from ..tape import bump_version
from .._tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


def _indices(input, op):
    a = input._data if isinstance(input, Tensor) else np.asarray(input)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {a.dtype} instead")
    return a


def _renorm_rows(weight, rows, max_norm, norm_type):
    """Scale the rows of weight that `rows` uses down to norm max_norm, in place (PyTorch's
    ``embedding_renorm_``)."""
    w = weight._data
    rows = np.unique(rows)
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        bump_version(weight)


def _accumulate_rows(weight, rows, values):
    """weight.grad += the sparse gradient (rows, values): kept sparse, or added into a dense
    .grad that another use of weight already made."""
    old = weight._grad
    if old is None:
        weight._grad = SparseGrad(rows, values.copy(), weight._data.shape)
    elif isinstance(old, SparseGrad):
        old.add_rows_(rows, values)
    else:
        np.add.at(old._data, rows, values)
        bump_version(old)


def _sparse_lookup(weight, idx, padding_idx):
    """The rows of weight at idx, whose gradient reaches weight.grad as a SparseGrad (rows
    idx, values: the output's gradient) without a dense (num_embeddings, dim) gradient ever
    being made. The rows are a leaf of their own whose hook does the accumulation, so
    autograd.grad with respect to weight cannot see them (PyTorch's can): the engine refuses
    to be asked for it."""
    rows = idx.reshape(-1)
    keep = None if padding_idx is None else rows != padding_idx
    proxy = creation.tensor(weight._data[idx], requires_grad=True)

    def to_weight(g):
        if g.requires_grad:
            raise RuntimeError("embedding with sparse=True: gradients of the sparse gradient "
                               "(create_graph=True) are not supported; use sparse=False")
        values = g._data.reshape((len(rows),) + g._data.shape[idx.ndim:])
        if keep is None:
            _accumulate_rows(weight, rows, values)
        else:
            _accumulate_rows(weight, rows[keep], values[keep])
    proxy.register_hook(to_weight)
    sparse_lookup_weights[id(weight)] = weight
    return clone(proxy)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """The rows of ``weight`` (V, D) at the integer indices ``input`` (...): a (..., D) tensor.

    Mirrors torch.nn.functional.embedding. Entries equal to ``padding_idx`` get no gradient;
    with ``max_norm``, the rows used are first renormalised in place to at most that
    ``norm_type``-norm; ``scale_grad_by_freq`` divides each row's gradient by its count in
    ``input``. With ``sparse=True``, weight.grad is a SparseGrad (the used rows only), which
    optim.SGD and optim.SparseAdam consume.
    """
    idx = _indices(input, "embedding")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"embedding: index out of range in self (indices must be in "
                         f"[0, {n}), got min {idx.min()}, max {idx.max()})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        with no_grad():
            _renorm_rows(weight, idx.reshape(-1), max_norm, norm_type)
    if sparse and weight.requires_grad and is_grad_enabled():
        if scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with "
                               "sparse gradients")
        return _sparse_lookup(weight, idx, padding_idx)
    out = getitem(weight, input if isinstance(input, Tensor) else creation.tensor(idx))
    if padding_idx is not None and out.requires_grad:
        pad = idx == padding_idx
        if pad.any():
            out = where(creation.tensor(pad[..., None]), out.detach(), out)
    if scale_grad_by_freq and out.requires_grad:
        _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
        freq = creation.tensor(counts[inverse].reshape(idx.shape + (1,)).astype(out.dtype))
        out.register_hook(lambda g: g / freq)
    return out


def one_hot(tensor, num_classes=-1):
    """One-hot encoding of the int64 indices ``tensor`` (...): int64 (..., num_classes).

    Mirrors torch.nn.functional.one_hot; ``num_classes=-1`` uses the largest index plus one.
    """
    a = _indices(tensor, "one_hot")
    if a.size and a.min() < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    elif a.size and a.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {a.max()}.")
    return creation.tensor((a[..., None] == np.arange(num_classes)).astype(np.int64))


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim`` (torch.nn.Embedding).

    The weight is drawn from N(0, 1), with the ``padding_idx`` row (if any) zeroed and kept
    out of the gradient; ``max_norm``, ``norm_type``, ``scale_grad_by_freq`` and ``sparse``
    as in :func:`embedding`. ``dtype`` sets the weight's dtype (``device`` is accepted as in
    torch).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(creation.empty((num_embeddings, embedding_dim), dtype=dtype,
                                                   device=device),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Redraw the weight from N(0, 1), zeroing the padding_idx row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is the 2-D tensor ``embeddings`` (V, D).

        The weight requires no gradient if ``freeze`` (the default); ``padding_idx``,
        ``max_norm``, ``norm_type``, ``scale_grad_by_freq`` and ``sparse`` as in the
        constructor.
        """
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s

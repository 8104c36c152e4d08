"""torch.dropout, conv1d, conv2d, layer_norm, batch_norm, embedding, pdist, cosine_similarity
and pairwise_distance: nn.functional's ops under PyTorch's top-level (ATen) signatures."""
import numpy as np

from .._tensor import _leaf
from ..linalg import vector_norm
from ..ops.indexing import index_select
from .conv import conv2d  # noqa: F401
from .conv_more import conv1d  # noqa: F401
from .dropout import dropout as _dropout
from .embedding import embedding as _embedding
from .loss_more import cosine_similarity, pairwise_distance  # noqa: F401
from .normalization import batch_norm as _batch_norm, layer_norm as _layer_norm


def dropout(input, p, train):
    """Dropout with ATen's signature: nn.functional.dropout(input, p, training=train)."""
    return _dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """Layer norm of ``input`` over its trailing ``normalized_shape`` dims (torch.layer_norm).

    ``weight``, ``bias`` and ``eps`` as in nn.functional.layer_norm; ``cudnn_enable`` is
    accepted and ignored.
    """
    return _layer_norm(input, normalized_shape, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """Batch normalisation with ATen's argument order (torch.batch_norm).

    ``input``, ``weight``, ``bias``, ``running_mean``, ``running_var``, ``training``,
    ``momentum`` and ``eps`` as in nn.functional.batch_norm; ``cudnn_enabled`` is accepted
    and ignored.
    """
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """The rows of ``weight`` at ``indices``, with ATen's signature (torch.embedding).

    ``padding_idx`` < 0 means none; ``scale_grad_by_freq`` and ``sparse`` as in
    nn.functional.embedding.
    """
    return _embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                      scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def pdist(input, p=2):
    """The ``p``-norm distances between the rows of the 2-d ``input`` (torch.pdist).

    Pairs i < j come in row-major order: the upper triangle of cdist, flattened.
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    i, j = np.triu_indices(input.shape[0], 1)
    pick = lambda k: index_select(input, 0, _leaf(k.astype(np.int64)))  # noqa: E731
    return vector_norm(pick(i) - pick(j), p, -1)

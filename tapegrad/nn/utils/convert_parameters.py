"""Parameters to one flat vector and back (torch.nn.utils.parameters_to_vector and inverse)."""
from ...ops.join import cat
from ...ops.shape import reshape
from ..._tensor import Tensor


def parameters_to_vector(parameters):
    """torch.nn.utils.parameters_to_vector: the parameters flattened and concatenated (a
    recorded op: gradients flow back to each parameter)."""
    return cat([reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec, parameters):
    """torch.nn.utils.vector_to_parameters: slice `vec` into the parameters' .data, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    at = 0
    for p in parameters:
        n = p.numel()
        p.data = vec.detach()._data[at:at + n].reshape(tuple(p.shape))
        at += n

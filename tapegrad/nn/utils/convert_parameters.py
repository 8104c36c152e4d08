"""Parameters to one flat vector and back (torch.nn.utils.parameters_to_vector and inverse)."""
from ...ops.join import cat
from ...ops.shape import reshape
from ..._tensor import Tensor


def parameters_to_vector(parameters):
    """The ``parameters`` flattened and concatenated into one 1-D tensor.

    Mirrors torch.nn.utils.parameters_to_vector; it is a recorded op, so gradients flow back
    to each parameter.
    """
    return cat([reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Slice the 1-D tensor ``vec`` into the .data of each of ``parameters``, in order.

    Mirrors torch.nn.utils.vector_to_parameters (not recorded: it replaces the data).
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    at = 0
    for p in parameters:
        n = p.numel()
        p.data = vec.detach()._data[at:at + n].reshape(tuple(p.shape))
        at += n

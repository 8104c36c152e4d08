"""`dropout` and `Dropout` (torch.nn.functional.dropout / torch.nn.Dropout)."""
from .. import creation
from .module import Module


def _check(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each entry of ``input`` with probability ``p``, scaling the rest by 1/(1-p).

    Mirrors torch.nn.functional.dropout: only when ``training``, else the identity;
    ``inplace=True`` multiplies ``input`` in place. Masks come from tapegrad's generator, so
    they differ from PyTorch's for the same seed.
    """
    _check(p)
    if not training or p == 0:
        return input
    a = input._data
    if p == 1:
        mask = creation.zeros(*a.shape, dtype=a.dtype)
    else:
        keep = creation.numpy_rng(None).random(a.shape) >= p
        mask = creation.tensor(keep.astype(a.dtype) * a.dtype.type(1 / (1 - p)))
    return input.mul_(mask) if inplace else input * mask


class Dropout(Module):
    """Module applying :func:`dropout` in training mode, the identity in eval mode (nn.Dropout).

    ``p`` is the probability of zeroing an entry; ``inplace=True`` overwrites the input.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check(p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"

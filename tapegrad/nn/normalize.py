"""`normalize` and `softmin` (torch.nn.functional's) and the `Softmin` module."""
from ..ops.elementwise import clamp
from ..ops.statistics import norm
from .activation import _implicit_dim, softmax
from .module import Module


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """Divide ``input`` by its ``p``-norm along ``dim``, at least ``eps`` (functional.normalize).

    ``out=`` is not supported (TypeError): assign the result instead.
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported by tapegrad; assign the result")
    return input / clamp(norm(input, p=p, dim=dim, keepdim=True), min=eps)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """Softmin, softmax(-input) along ``dim`` (torch.nn.functional.softmin).

    ``dim=None`` picks PyTorch's legacy implicit dim with a warning; ``dtype`` casts the
    input first.
    """
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmin")
    return softmax(-input, dim, dtype=dtype)


class Softmin(Module):
    """Module applying :func:`softmin` along ``dim`` (torch.nn.Softmin)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"

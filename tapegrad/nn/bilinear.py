"""`Bilinear` and `bilinear` (torch.nn.Bilinear / torch.nn.functional.bilinear)."""
import math

from .. import creation
from ..ops.einsum import einsum
from . import init
from .module import Module
from .parameter import Parameter


def bilinear(input1, input2, weight, bias=None):
    """Bilinear form y[..., o] = input1 @ weight[o] @ input2 + bias[o] (functional.bilinear).

    ``input1`` (..., in1) and ``input2`` (..., in2) share their leading dims; ``weight`` is
    (out, in1, in2) and the optional ``bias`` (out,).
    """
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or \
            input2.shape[-1] != weight.shape[2] or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input1 {list(input1.shape)} and input2 "
                           f"{list(input2.shape)} must agree but for their last dims, which "
                           f"must match weight {list(weight.shape)}'s last two")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


class Bilinear(Module):
    """Module applying :func:`bilinear` with a learned weight and bias (torch.nn.Bilinear).

    The weight is (``out_features``, ``in1_features``, ``in2_features``) and, if ``bias``,
    the bias (out_features,), both drawn from U(-1/sqrt(in1_features), 1/sqrt(in1_features))
    as in PyTorch, created on ``device`` with ``dtype``.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty((out_features, in1_features, in2_features),
                                               dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        """The bilinear form of ``input1`` (..., in1_features) and ``input2`` (..., in2)."""
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")

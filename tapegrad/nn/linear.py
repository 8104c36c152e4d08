"""`Identity`, `Linear` and `linear` (torch.nn.Linear / torch.nn.functional.linear)."""
import math

from .. import creation
from ..ops.blas import addmm_prim
from ..ops.linalg import matmul
from . import init
from .module import Module
from .parameter import Parameter


def linear(input, weight, bias=None):
    """Affine map ``input @ weight.T + bias`` (torch.nn.functional.linear).

    ``input`` is (..., in), ``weight`` (out, in) and the optional ``bias`` (out,); the result
    is (..., out). A 2-D input runs as one fused addmm.
    """
    if bias is not None and input.ndim == 2 and weight.ndim == 2:
        return addmm_prim(bias, input, weight, mat2_transposed=True)
    out = matmul(input, weight.T if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def reset_weight_and_bias(weight, bias):
    """Initialise ``weight`` and ``bias`` (or None) as PyTorch's Linear and Conv layers do.

    kaiming_uniform(a=sqrt(5)) weights, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias
    from the same range.
    """
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """A module returning its input unchanged (torch.nn.Identity); args and kwargs are ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Affine layer y = x @ weight.T + bias over the last dim (torch.nn.Linear).

    The weight is (``out_features``, ``in_features``) and, if ``bias``, the bias
    (out_features,), drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)) as in PyTorch,
    created on ``device`` with ``dtype``.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty((out_features, in_features), dtype=dtype,
                                               device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw weight and bias with PyTorch's default initialisation."""
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            rows = math.prod(input.shape[:-1]) if input.ndim else 1
            k = input.shape[-1] if input.ndim else 1
            raise RuntimeError(f"{self!r}: mat1 and mat2 shapes cannot be multiplied ({rows}x{k} "
                               f"and {self.in_features}x{self.out_features}): the input has "
                               f"shape {list(input.shape)}, its last dimension must be "
                               f"in_features={self.in_features}")
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

"""torch.autograd.Variable: the legacy wrapper, today a tensor (as in PyTorch)."""
from .._tensor import Tensor


class _VariableType(type):
    """Calling `Variable(t, requires_grad=...)` returns a tensor; every tensor is a Variable."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)

    def __call__(cls, data, requires_grad=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        # as PyTorch: a new leaf over the same memory, with the requested requires_grad
        return data.detach().requires_grad_(requires_grad)

    def __repr__(cls):
        return "<class 'torch.autograd.variable.Variable'>"


class Variable(metaclass=_VariableType):
    """torch.autograd.Variable(data, requires_grad=False): a tensor sharing `data`'s memory."""

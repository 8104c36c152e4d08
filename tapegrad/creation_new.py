"""Tensor.new_ones, new_zeros, new_full, new_empty, new_tensor: leaves with the dtype of the
tensor they are called on (unless `dtype` says otherwise), as PyTorch's."""
from . import creation


def new_ones(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    """Ones of shape `size` in `input`'s dtype, as torch.Tensor.new_ones.

    `dtype` overrides the dtype; `device` may only name the CPU; `requires_grad` makes a recording
    leaf; `layout` and `pin_memory` are accepted for PyTorch's signature.
    """
    return creation.ones(*size, dtype=dtype or input.dtype, device=device,
                         requires_grad=requires_grad)


def new_zeros(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """Zeros of shape `size` in `input`'s dtype, as torch.Tensor.new_zeros.

    `dtype` overrides the dtype; `device` may only name the CPU; `requires_grad` makes a recording
    leaf; `layout` and `pin_memory` are accepted for PyTorch's signature.
    """
    return creation.zeros(*size, dtype=dtype or input.dtype, device=device,
                          requires_grad=requires_grad)


def new_empty(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """A tensor of shape `size` in `input`'s dtype (zero-filled), as torch.Tensor.new_empty.

    `dtype` overrides the dtype; `device` may only name the CPU; `requires_grad` makes a recording
    leaf; `layout` and `pin_memory` are accepted for PyTorch's signature.
    """
    return creation.empty(*size, dtype=dtype or input.dtype, device=device,
                          requires_grad=requires_grad)


def new_full(input, size, fill_value, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False):
    """`fill_value` in a tensor of shape `size` and `input`'s dtype, as torch.Tensor.new_full.

    The dtype is `input`'s whatever the type of `fill_value`; `dtype` overrides it. `device` may
    only name the CPU; `requires_grad` makes a recording leaf; `layout` and `pin_memory` are
    accepted for PyTorch's signature.
    """
    return creation.full(size, fill_value, dtype=dtype or input.dtype, device=device,
                         requires_grad=requires_grad)


def new_tensor(input, data, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    """A copy of `data` in `input`'s dtype (not inferred from data), as torch.Tensor.new_tensor.

    `dtype` overrides the dtype; `device` may only name the CPU; `requires_grad` makes a recording
    leaf; `layout` and `pin_memory` are accepted for PyTorch's signature.
    """
    return creation.tensor(data, dtype=dtype or input.dtype, device=device,
                           requires_grad=requires_grad)

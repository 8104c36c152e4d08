"""Tensor.new_ones, new_zeros, new_full, new_empty, new_tensor: leaves with the dtype of the
tensor they are called on (unless `dtype` says otherwise), as PyTorch's."""
from . import creation


def new_ones(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    """Tensor.new_ones(size): ones of `input`'s dtype."""
    return creation.ones(*size, dtype=dtype or input.dtype, device=device,
                         requires_grad=requires_grad)


def new_zeros(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """Tensor.new_zeros(size): zeros of `input`'s dtype."""
    return creation.zeros(*size, dtype=dtype or input.dtype, device=device,
                          requires_grad=requires_grad)


def new_empty(input, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """Tensor.new_empty(size): a tensor of `input`'s dtype (zero-filled, as `empty`)."""
    return creation.empty(*size, dtype=dtype or input.dtype, device=device,
                          requires_grad=requires_grad)


def new_full(input, size, fill_value, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False):
    """Tensor.new_full(size, fill_value): `fill_value` in `input`'s dtype, whatever its type."""
    return creation.full(size, fill_value, dtype=dtype or input.dtype, device=device,
                         requires_grad=requires_grad)


def new_tensor(input, data, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    """Tensor.new_tensor(data): a copy of `data` in `input`'s dtype (not inferred from data)."""
    return creation.tensor(data, dtype=dtype or input.dtype, device=device,
                           requires_grad=requires_grad)

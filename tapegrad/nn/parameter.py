"""`Parameter`: the tensor type a Module registers as a learnable weight (torch.nn.Parameter)."""
import copy

import numpy as np

from ..dtypes import is_floating
from .._state import FRESH, own_counter
from .._tensor import Tensor, _leaf
from ..io.tensors import register_parameter_class


class Parameter(Tensor):
    """A leaf tensor that a Module registers when assigned as an attribute (torch.nn.Parameter).

    It shares memory with the Tensor ``data`` (an empty float32 tensor if None) and requires
    grad if ``requires_grad`` (the default; then the dtype must be floating). Ops on a
    Parameter return plain Tensors.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            array = np.zeros(0, np.float32)
            counter = FRESH
        elif isinstance(data, Tensor):
            array, counter = data._data, own_counter(data)
        else:
            raise TypeError(f"Parameter: data must be a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        p._data, p._counter = array, counter
        p._requires_grad, p._entry, p._index, p._grad, p._hooks, p._base = False, None, 0, None, None, None
        if requires_grad and not is_floating(array.dtype):
            raise RuntimeError(f"Parameter: only Tensors of floating point dtype can require "
                               f"gradients, got {array.dtype}")
        p._requires_grad = bool(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        """Everything is set up by __new__ (Tensor.__init__ would copy the data)."""

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = _rebuild(self._data.copy(), self._requires_grad)
        if self._grad is not None:
            p._grad = copy.deepcopy(self._grad, memo)
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        return _rebuild, (self._data, self._requires_grad)


def _rebuild(array, requires_grad):
    """Unpickle (and deep-copy) a Parameter from its array."""
    return Parameter(_leaf(np.asarray(array)), requires_grad)


register_parameter_class(Parameter)   # checkpoints rebuild torch.nn.Parameter as this class

"""Tensor's methods and operators, installed in one place from name -> function tables.

Every method is a function of some lower module (its first argument is the tensor), so
`Tensor.add is ops.elementwise.add`: to find a method, find its name here. Installing them
from above (as JAX's `register_jax_array_methods` does) keeps `_tensor.py` free of imports
of the ops, which are written in terms of Tensor. `tapegrad/__init__.py` calls `install()`.
"""
from . import engine, inplace, linalg
from ._tensor import Tensor
from .tape import Tape
from .ops import (comparison, conversion, cumulative, elementwise, indexing, join,
                  linalg as matrix, nn, reduction, shape, statistics, unary)

# method name -> the function behind it, by the module that defines it
_NAMES = {
    elementwise: "add sub mul div true_divide floor_divide remainder pow neg relu clamp clip "
                 "maximum minimum square reciprocal where lerp",
    unary: "abs exp log log1p expm1 sqrt rsqrt sin cos tan tanh sigmoid sign log2 log10 floor ceil "
           "round trunc frac",
    conversion: "clone contiguous to type type_as",
    comparison: "eq ne lt le gt ge isnan isinf isfinite logical_not logical_and logical_or "
                "logical_xor equal allclose isclose",
    reduction: "sum mean prod max min amax amin argmax argmin logsumexp all any count_nonzero",
    statistics: "var std var_mean std_mean",
    cumulative: "cumsum cumprod",
    shape: "reshape view view_as reshape_as flatten unflatten squeeze unsqueeze transpose "
           "swapaxes swapdims permute t expand expand_as broadcast_to repeat tile flip movedim "
           "moveaxis sum_to_size adjoint",
    join: "split chunk narrow unbind",
    indexing: "gather scatter scatter_add index_select masked_fill masked_select take_along_dim "
              "index_add index_put select nonzero argwhere",
    matrix: "matmul mm bmm mv dot outer inner ger",
    nn: "softmax log_softmax",
    inplace: "zero_ fill_ copy_ add_ sub_ mul_ div_ pow_ clamp_ clip_ neg_ exp_ relu_ sigmoid_ "
             "tanh_ sqrt_ abs_ masked_fill_ scatter_ scatter_add_ index_add_ index_put_ uniform_ "
             "normal_",
}
METHODS = {name: getattr(module, name) for module, names in _NAMES.items()
           for name in names.split()}
# torch.linalg functions that PyTorch also offers as Tensor methods
METHODS.update(norm=linalg.norms.tensor_norm, det=linalg.det, slogdet=linalg.slogdet,
               matrix_exp=linalg.matrix_exp, cholesky=linalg.cholesky, inverse=linalg.inv,
               pinverse=linalg.pinv)


def _cast(name, dtype):
    """Tensor.float(), .double()...: `to()` one dtype."""
    def method(self):
        return conversion.to(self, dtype)
    method.__name__ = method.__qualname__ = name
    return method


METHODS.update({name: _cast(name, dt) for name, dt in conversion.CASTS.items()})

OPERATORS = {
    "__add__": elementwise.add, "__sub__": elementwise.sub, "__mul__": elementwise.mul,
    "__truediv__": elementwise.div, "__floordiv__": elementwise.floor_divide,
    "__mod__": elementwise.remainder, "__pow__": elementwise.pow, "__matmul__": matrix.matmul,
    "__neg__": elementwise.neg, "__abs__": unary.abs,
    "__eq__": comparison.eq, "__ne__": comparison.ne, "__lt__": comparison.lt,
    "__le__": comparison.le, "__gt__": comparison.gt, "__ge__": comparison.ge,
    "__invert__": comparison.logical_not, "__and__": comparison.logical_and,
    "__or__": comparison.logical_or,
    "__getitem__": indexing.getitem, "__setitem__": inplace.setitem,
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_,
    "__itruediv__": inplace.div_, "__ipow__": inplace.pow_,
}


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradient of this tensor w.r.t. graph leaves into their `.grad`."""
    engine.backward(self, gradient, retain_graph, create_graph, inputs)


METHODS["backward"] = backward


def _reflected(op):
    """`number op tensor`: the operands swap."""
    def method(self, other):
        return op(other, self)
    method.__name__ = method.__qualname__ = f"__r{op.__name__}__"
    return method


def _rtruediv(self, other):
    if isinstance(other, (int, float)) and self._data.dtype.kind == "f":
        # as torch: reciprocal, whose rule reads only its result, times the number
        return elementwise.mul(elementwise.reciprocal(self), other)
    return elementwise.div(other, self)


REFLECTED = {
    "__radd__": _reflected(elementwise.add), "__rsub__": _reflected(elementwise.sub),
    "__rmul__": _reflected(elementwise.mul), "__rtruediv__": _rtruediv,
    "__rfloordiv__": _reflected(elementwise.floor_divide),
    "__rmod__": _reflected(elementwise.remainder), "__rpow__": _reflected(elementwise.pow),
    "__rmatmul__": _reflected(matrix.matmul),
}

PROPERTIES = {
    "T": lambda self: shape.permute(self, tuple(range(self.ndim - 1, -1, -1))),
    "mT": lambda self: shape.adjoint(self, "mT"),
    "mH": lambda self: shape.adjoint(self, "mH"),
}


def install():
    """Bind the tables onto Tensor (and `gradient` onto Tape); called once, on import."""
    for table in (METHODS, OPERATORS, REFLECTED):
        for name, fn in table.items():
            setattr(Tensor, name, fn)
    for name, get in PROPERTIES.items():
        setattr(Tensor, name, property(get))
    Tape.gradient = engine.tape_gradient

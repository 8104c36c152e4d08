"""Tensor's methods and operators, installed in one place from name -> function tables.

Every method is a function of some lower module (its first argument is the tensor), so
`Tensor.add is ops.elementwise.add`: to find a method, find its name here. Installing them
from above (as JAX's `register_jax_array_methods` does) keeps `_tensor.py` free of imports
of the ops, which are written in terms of Tensor. `tapegrad/__init__.py` calls `install()`.
"""
from . import creation_new, dtypes, engine, inplace, linalg, type_info
from .linalg import aliases
from ._tensor import Tensor
from .tape import Tape
from .ops import activation, bitwise, pointwise, trig
from .ops import counting, matrix_ops, scans, sorting
from .ops import arrange, blas, numeric
from . import inplace_fills, inplace_shape, special, viz
from .autograd import memory
from .linalg import legacy, lu
from .ops import (comparison, conversion, cumulative, elementwise, indexing, join,
                  linalg as matrix, nn, reduction, shape, statistics, unary)

# method name -> the function behind it, by the module that defines it
_NAMES = {
    elementwise: "add sub mul div true_divide floor_divide remainder pow neg relu clamp clip "
                 "maximum minimum square reciprocal lerp negative fmod",
    unary: "abs exp log log1p expm1 sqrt rsqrt sin cos tan tanh sigmoid sign log2 log10 floor ceil "
           "round trunc frac absolute",
    conversion: "clone contiguous to type type_as",
    comparison: "eq ne lt le gt ge isnan isinf isfinite logical_not logical_and logical_or "
                "logical_xor equal allclose isclose",
    reduction: "sum mean prod max min amax amin argmax argmin logsumexp all any count_nonzero",
    statistics: "var std var_mean std_mean",
    cumulative: "cumsum cumprod",
    shape: "reshape view view_as reshape_as flatten unflatten squeeze unsqueeze transpose "
           "swapaxes swapdims permute t expand expand_as broadcast_to repeat tile flip movedim "
           "moveaxis sum_to_size adjoint",
    join: "chunk narrow unbind",
    indexing: "gather scatter scatter_add index_select masked_fill masked_select take_along_dim "
              "index_add index_put select nonzero argwhere",
    matrix: "matmul mm bmm mv dot outer inner ger",
    nn: "softmax log_softmax",
    trig: "asin acos atan atan2 sinh cosh asinh acosh atanh arcsin arccos arctan arctan2 arcsinh "
          "arccosh arctanh",
    pointwise: "hypot logaddexp logaddexp2 copysign signbit fmax fmin clamp_min clamp_max divide",
    bitwise: "bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift "
             "bitwise_right_shift",
    activation: "hardshrink prelu",
    sorting: "sort argsort msort topk kthvalue median nanmedian mode quantile nanquantile",
    counting: "unique unique_consecutive bincount histc",
    matrix_ops: "diagonal diag_embed diag triu tril trace kron cross roll rot90 dist",
    scans: "cummax cummin logcumsumexp nansum nanmean",
    numeric: "exp2 sgn nan_to_num isposinf isneginf subtract multiply",
    arrange: "fliplr flipud tensor_split take diagflat repeat_interleave",
    blas: "addmm addmv addbmm baddbmm",
    special: "erf erfc erfinv logit xlogy",
    legacy: "svd qr logdet",
    lu: "lu",
    inplace_fills: "random_ bernoulli_ exponential_ fill_diagonal_",
    inplace_shape: "unsqueeze_ squeeze_ t_",
    creation_new: "new_ones new_zeros new_full new_empty new_tensor",
    type_info: "is_complex is_nonzero",
    inplace: "zero_ fill_ copy_ add_ sub_ mul_ div_ pow_ clamp_ clip_ neg_ exp_ relu_ sigmoid_ "
             "tanh_ sqrt_ abs_ masked_fill_ scatter_ scatter_add_ index_add_ index_put_ uniform_ "
             "normal_ "
             "triu_ tril_ "
             "sin_ cos_ tan_ log_ log1p_ log2_ log10_ expm1_ rsqrt_ floor_ ceil_ round_ trunc_ "
             "frac_ sign_ reciprocal_ square_ asin_ acos_ atan_ sinh_ cosh_ asinh_ acosh_ atanh_ "
             "atan2_ arcsin_ arccos_ arctan_ arctan2_ arcsinh_ arccosh_ arctanh_ hypot_ "
             "copysign_ clamp_min_ clamp_max_ floor_divide_ remainder_ fmod_ lerp_ true_divide_ "
             "divide_ negative_ absolute_ bitwise_and_ bitwise_or_ bitwise_xor_ bitwise_not_ "
             "bitwise_left_shift_ bitwise_right_shift_",
}
METHODS = {name: getattr(module, name) for module, names in _NAMES.items()
           for name in names.split()}
# torch.linalg functions that PyTorch also offers as Tensor methods
METHODS.update(norm=linalg.norms.tensor_norm, det=aliases.det, slogdet=aliases.slogdet,
               matrix_exp=linalg.matrix_exp, cholesky=linalg.cholesky, inverse=aliases.inverse,
               pinverse=aliases.pinverse)


def _cast(name, dtype):
    """Tensor.float(), .double()...: `to()` one dtype."""
    def method(self, memory_format=None):
        return conversion.to(self, dtype)
    method.__doc__ = (f"The tensor converted to {dtypes.public(dtype)}, as torch.Tensor.{name}."
                      "\n\nThe tensor itself if it has that dtype already; `memory_format` "
                      "is accepted for PyTorch's signature.")
    method.__name__ = method.__qualname__ = name
    return method


METHODS.update({name: _cast(name, dt) for name, dt in conversion.CASTS.items()})
METHODS["cholesky"] = legacy.cholesky     # Tensor.cholesky(upper=False): torch.cholesky's

OPERATORS = {
    "__add__": elementwise.add, "__sub__": elementwise.sub, "__mul__": elementwise.mul,
    "__truediv__": elementwise.div, "__floordiv__": elementwise.floor_divide,
    "__mod__": elementwise.remainder, "__pow__": elementwise.pow, "__matmul__": matrix.matmul,
    "__neg__": elementwise.neg, "__abs__": unary.abs,
    "__eq__": comparison.eq, "__ne__": comparison.ne, "__lt__": comparison.lt,
    "__le__": comparison.le, "__gt__": comparison.gt, "__ge__": comparison.ge,
    "__invert__": bitwise.invert, "__and__": bitwise.bitwise_and, "__or__": bitwise.bitwise_or,
    "__xor__": bitwise.bitwise_xor, "__lshift__": bitwise.bitwise_left_shift,
    "__rshift__": bitwise.bitwise_right_shift, "__iand__": inplace.bitwise_and_,
    "__ior__": inplace.bitwise_or_, "__ixor__": inplace.bitwise_xor_,
    "__getitem__": indexing.getitem, "__setitem__": inplace.setitem,
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_,
    "__itruediv__": inplace.div_, "__ipow__": inplace.pow_,
}


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradient of this tensor w.r.t. graph leaves into their `.grad`.

    As torch.Tensor.backward: `gradient` is the cotangent (needed unless the tensor has one
    element); `retain_graph` keeps the tape's saved values for another backward (default:
    `create_graph`); `create_graph` records the backward itself, for higher derivatives;
    `inputs` limits the accumulation to those tensors.
    """
    engine.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


METHODS["backward"] = backward


def where(self, condition, other):
    """Tensor.where(condition, other): torch.where(condition, self, other)."""
    return elementwise.where(condition, self, other)


def split(self, split_size, dim=0):
    """Tensor.split(split_size, dim=0): torch.split (a size, or a list of sizes)."""
    return join.split(self, split_size, dim)


METHODS.update(where=where, split=split)


def _reflected(op):
    """`number op tensor`: the operands swap."""
    def method(self, other):
        return op(other, self)
    method.__name__ = method.__qualname__ = f"__r{op.__name__}__"
    return method


def _rtruediv(self, other):
    if isinstance(other, (int, float)) and dtypes.is_floating(self._data.dtype):
        # as torch: reciprocal, whose rule reads only its result, times the number
        return elementwise.mul(elementwise.reciprocal(self), other)
    return elementwise.div(other, self)


REFLECTED = {
    "__radd__": _reflected(elementwise.add), "__rsub__": _reflected(elementwise.sub),
    "__rmul__": _reflected(elementwise.mul), "__rtruediv__": _rtruediv,
    "__rfloordiv__": _reflected(elementwise.floor_divide),
    "__rmod__": _reflected(elementwise.remainder), "__rpow__": _reflected(elementwise.pow),
    "__rmatmul__": _reflected(matrix.matmul),
    "__rand__": _reflected(bitwise.bitwise_and), "__ror__": _reflected(bitwise.bitwise_or),
    "__rxor__": _reflected(bitwise.bitwise_xor),
}

def _reversed_dims(self):
    """The tensor with its dimensions reversed (a view), as torch.Tensor.T."""
    return shape.permute(self, tuple(range(self.ndim - 1, -1, -1)))


def _matrix_transpose(self):
    """The tensor with its last two dimensions swapped (a view), as torch.Tensor.mT."""
    return shape.adjoint(self, "mT")


def _matrix_adjoint(self):
    """The conjugate transpose of the last two dimensions, as torch.Tensor.mH.

    tapegrad's tensors are real, so it is `mT`.
    """
    return shape.adjoint(self, "mH")


PROPERTIES = {"T": _reversed_dims, "mT": _matrix_transpose, "mH": _matrix_adjoint}


# Tape's methods from the layers above it (`gradient` is installed by install() itself)
TAPE_METHODS = {"to_dot": viz.tape_graph, "memory": memory.memory_report,
                "_repr_mimebundle_": viz.tape_mimebundle}


def install():
    """Bind the tables onto Tensor (and `gradient` onto Tape); called once, on import."""
    for table in (METHODS, OPERATORS, REFLECTED):
        for name, fn in table.items():
            setattr(Tensor, name, fn)
    for name, get in PROPERTIES.items():
        setattr(Tensor, name, property(get))
    Tape.gradient = engine.tape_gradient
    for name, fn in TAPE_METHODS.items():
        setattr(Tape, name, fn)

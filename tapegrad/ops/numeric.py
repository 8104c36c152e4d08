"""torch.exp2, sgn, nan_to_num, isposinf, isneginf, and the aliases subtract and multiply.
Forward and VJP side by side; rules are tapegrad ops, so they differentiate again."""
import math

import numpy as np

from ..dtypes import is_floating
from .._tensor import _leaf, Tensor
from ..primitives import primitive, defvjp
from .comparison import isfinite
from .elementwise import sub, mul
from .unary import _floating, sign

subtract = sub          # torch.subtract(input, other, *, alpha=1)
multiply = mul          # torch.multiply(input, other)


@primitive("exp2", uses_out=True, raw=True)
def exp2(input):
    """torch.exp2: 2 ** input, elementwise."""
    return np.exp2(_floating(input))


defvjp(exp2, lambda g, out, x: g * out * math.log(2), reads=((-1,),))


def sgn(input):
    """The sign of `input`, as torch.sgn.

    For real tensors it is `sign` (x / |x| is for complex ones, which tapegrad lacks).
    """
    return sign(input)


def _limits(a, posinf, neginf):
    info = np.finfo(a.dtype)
    return (info.max if posinf is None else posinf), (info.min if neginf is None else neginf)


@primitive("nan_to_num", raw=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """`input` with NaN, +inf and -inf replaced by finite numbers, as torch.nan_to_num.

    NaN becomes `nan`, +inf `posinf` and -inf `neginf`; by default 0 and the dtype's largest and
    smallest finite values. Integer tensors come back unchanged.
    """
    a = np.asarray(input)
    if not is_floating(a.dtype):
        return a.copy()
    hi, lo = _limits(a, posinf, neginf)
    return np.nan_to_num(a, nan=0.0 if nan is None else nan, posinf=hi, neginf=lo)


# the replaced entries are constants: their gradient is 0, as in PyTorch
defvjp(nan_to_num, lambda g, out, x, nan=0.0, posinf=None, neginf=None: g * isfinite(x))


def _classify(name, test):
    def fn(input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        return _leaf(test(input._data))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: a bool tensor, True where input is {name[2:-3]} infinity."
    return fn


isposinf = _classify("isposinf", np.isposinf)
isneginf = _classify("isneginf", np.isneginf)

__all__ = ["subtract", "multiply", "exp2", "sgn", "nan_to_num", "isposinf", "isneginf"]

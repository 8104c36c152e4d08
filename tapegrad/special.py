"""tapegrad.special: torch.special's functions (SciPy's names where torch has none).

Forwards run scipy.special; each VJP is written in tapegrad ops, so it is differentiable again
(digamma's rule is polygamma(1, x), polygamma(n)'s is polygamma(n + 1), ...). Integer inputs
compute in the default float dtype; float16/float32 inputs keep their dtype.
"""
import math

import numpy as np
from scipy import special as _sp

from .dtypes import promote
from .primitives import primitive, defvjp
from .ops.elementwise import where, clamp
from .ops.reduction import logsumexp as _logsumexp, _sum
from .ops.nn import softmax as _softmax, log_softmax as _log_softmax
from .ops.join import stack
from .ops.unary import _floating, _data, _const, exp, log, sign, cos, sigmoid as expit

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


def _ufunc(f, *args):
    """Apply a scipy ufunc as an array in, array out op of the input's float dtype (SciPy
    upcasts float16 and some float32 loops, and gives scalars for 0-d arrays); integer
    inputs compute in the default float dtype, as in PyTorch."""
    args = [_floating(a) for a in args]
    out = f(*args)
    want = next((a.dtype for a in args if type(a) is np.ndarray), None)
    if want is None:
        return out
    out = np.asarray(out)
    return out if out.dtype == want else out.astype(want)


def _binary(f, x, y):
    """A scipy ufunc of two operands promoted as PyTorch promotes them."""
    return _ufunc(f, *promote(x, y))


def _safe(x):
    """x with its zeros replaced by ones: a divisor for branches that `where` discards at 0
    (dividing by the real zero would put NaN into the second derivative)."""
    a = np.asarray(_data(x))
    return where(_const(x, a == 0), 1.0, x)


def _is_zero(x):
    return _const(x, np.asarray(_data(x)) == 0)


# ---- error function and the normal distribution ---------------------------------------------
@primitive("erf", raw=True)
def erf(input):
    """The error function of `input`, elementwise, as torch.special.erf."""
    return _ufunc(_sp.erf, input)


defvjp(erf, lambda g, out, x: g * ((2 / _SQRT_PI) * exp(-x * x)))


@primitive("erfc", raw=True)
def erfc(input):
    """The complementary error function 1 - erf(`input`), as torch.special.erfc.

    Accurate for large `input`.
    """
    return _ufunc(_sp.erfc, input)


defvjp(erfc, lambda g, out, x: g * ((-2 / _SQRT_PI) * exp(-x * x)))


@primitive("erfinv", uses_out=True, raw=True)
def erfinv(input):
    """The inverse error function of `input`, elementwise, as torch.special.erfinv."""
    return _ufunc(_sp.erfinv, input)


defvjp(erfinv, lambda g, out, x: g * ((_SQRT_PI / 2) * exp(out * out)))


@primitive("ndtr", raw=True)
def ndtr(input):
    """The standard normal CDF at `input`, elementwise, as torch.special.ndtr."""
    return _ufunc(_sp.ndtr, input)


defvjp(ndtr, lambda g, out, x: g * (exp(-0.5 * x * x) / _SQRT_2PI))


@primitive("log_ndtr", uses_out=True, raw=True)
def log_ndtr(input):
    """The log of the standard normal CDF at `input`, as torch.special.log_ndtr.

    Accurate far in the left tail.
    """
    return _ufunc(_sp.log_ndtr, input)


# pdf / cdf computed as exp(log pdf - log cdf): finite where the cdf itself underflows
defvjp(log_ndtr, lambda g, out, x: g * (exp(-0.5 * x * x - out) / _SQRT_2PI))


@primitive("ndtri", uses_out=True, raw=True)
def ndtri(input):
    """The inverse of the standard normal CDF at `input`, as torch.special.ndtri."""
    return _ufunc(_sp.ndtri, input)


defvjp(ndtri, lambda g, out, x: g * (_SQRT_2PI * exp(0.5 * out * out)))


# ---- logistic ---------------------------------------------------------------------------------
@primitive("logit", raw=True)
def _logit(x):
    return _ufunc(_sp.logit, x)


defvjp(_logit, lambda g, out, x: g / (x * (1 - x)))


def logit(input, eps=None):
    """log(p / (1 - p)) for p in `input`, as torch.special.logit.

    With `eps`, p is clamped to [eps, 1 - eps] first (the gradient is then zero outside that
    interval, as in PyTorch).
    """
    if eps is not None:
        input = clamp(input, eps, 1 - eps)
    return _logit(input)


def _xlogy_like(name, f, pole, dlog):
    """A primitive x * f(y) that is 0 where x == 0 (PyTorch's xlogy/xlog1py): f(y) is singular
    at y = pole, and dlog(y) = f'(y)."""
    prim = primitive(name, raw=True)(lambda x, y: _binary(f, x, y))

    def x_grad(g, out, x, y):
        # g * f(y) (as prim(g, y): 0 where g is 0), but 0 where x == 0 and y <= pole, as in
        # PyTorch: there the forward is 0 whatever x's sign, and f(y) is not finite
        a, b = np.asarray(_data(x)), np.asarray(_data(y))
        return where(_const(g, (a == 0) & (b <= pole)), 0.0, prim(g, y))
    return defvjp(prim, x_grad, lambda g, out, x, y: g * x * dlog(y))


_xlogy = _xlogy_like("xlogy", _sp.xlogy, 0.0, lambda y: 1 / y)
_xlog1py = _xlogy_like("xlog1py", _sp.xlog1py, -1.0, lambda y: 1 / (1 + y))


def xlogy(input, other):
    """torch.special.xlogy: input * log(other), and 0 where input == 0 (either may be a number)."""
    return _xlogy(input, other)


def xlog1py(input, other):
    """torch.special.xlog1py: input * log1p(other), and 0 where input == 0."""
    return _xlog1py(input, other)


@primitive("entr", raw=True)
def entr(input):
    """The entropy term -x log x of each x in `input`, as torch.special.entr.

    0 at 0 and -inf for x < 0.
    """
    return _ufunc(_sp.entr, input)


defvjp(entr, lambda g, out, x: g * -(log(x) + 1))


@primitive("sinc", uses_out=True, raw=True)
def sinc(input):
    """The normalised sinc sin(pi x) / (pi x) of `input`, as torch.special.sinc.

    1 at 0.
    """
    return _ufunc(np.sinc, input)


# sinc'(x) = (cos(pi x) - sinc(x)) / x, and 0 at x = 0 (sinc is even)
defvjp(sinc, lambda g, out, x: g * where(_is_zero(x), 0.0, (cos(math.pi * x) - out) / _safe(x)))


# ---- gamma family -----------------------------------------------------------------------------
@primitive("polygamma", raw=True)
def _polygamma(x, n=0):
    if n == 0:
        return _ufunc(_sp.digamma, x)
    return _ufunc(lambda a: _sp.polygamma(n, a), x)


defvjp(_polygamma, lambda g, out, x, n=0: g * _polygamma(x, n=n + 1))


def polygamma(n, input):
    """The `n`-th derivative of digamma at `input`, as torch.special.polygamma.

    n = 0 is digamma itself.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise RuntimeError(f"polygamma: n must be a non-negative integer, got {n!r}")
    return _polygamma(input, n=int(n))


def digamma(input):
    """The derivative of gammaln at `input`, as torch.special.digamma (alias psi)."""
    return _polygamma(input, n=0)


psi = digamma


@primitive("gammaln", raw=True)
def gammaln(input):
    """log |Gamma(x)| for x in `input`, as torch.special.gammaln."""
    return _ufunc(_sp.gammaln, input)


defvjp(gammaln, lambda g, out, x: g * _polygamma(x, n=0))


def multigammaln(input, p):
    """The log multivariate gamma of dimension `p` at `input`, as torch.special.multigammaln.

    p (p - 1) / 4 log(pi) + sum_j gammaln(x - j / 2); needs every x > (p - 1) / 2.
    """
    if not isinstance(p, (int, np.integer)) or isinstance(p, bool) or p < 1:
        raise RuntimeError(f"multigammaln: p must be a positive integer, got {p!r}")
    a = np.asarray(_data(input))
    if a.size and not (a > (p - 1) / 2).all():
        raise RuntimeError(f"multigammaln: all elements must be greater than (p-1)/2 = "
                           f"{(p - 1) / 2} for p={p}; the smallest of the input (shape "
                           f"{list(a.shape)}) is {a.min()}")
    terms = stack([input - j / 2 for j in range(p)], -1)
    return _sum(gammaln(terms), dims=(terms.ndim - 1,)) + p * (p - 1) / 4 * math.log(math.pi)


@primitive("betaln", raw=True)
def betaln(a, b):
    """scipy.special.betaln: log |B(a, b)| (torch has no counterpart)."""
    return _binary(_sp.betaln, a, b)


def _betaln_grad(g, out, a, b):
    return g * (_polygamma(a, n=0) - _polygamma(a + b, n=0))


defvjp(betaln, _betaln_grad, lambda g, out, a, b: _betaln_grad(g, out, b, a))


@primitive("gammainc", raw=True)
def gammainc(input, other):
    """torch.special.gammainc: the regularised lower incomplete gamma P(a=input, x=other).

    Differentiable in `other` only: as in PyTorch, backward raises NotImplementedError when
    `input` requires grad (detach it)."""
    return _binary(_sp.gammainc, input, other)


def _gammainc_a_grad(g, out, a, x):
    raise NotImplementedError("gammainc: the derivative with respect to input (the shape "
                              "parameter a) has no closed form and is not implemented; pass "
                              "input.detach() to differentiate with respect to other (x) only")


# d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a), in log space so large a and x do not overflow
defvjp(gammainc, _gammainc_a_grad,
       lambda g, out, a, x: g * exp((a - 1) * log(x) - x - gammaln(a)))


# ---- modified Bessel functions ----------------------------------------------------------------
@primitive("i0", raw=True)
def i0(input):
    """The modified Bessel function of the first kind, order 0, of `input`, as torch.special.i0."""
    return _ufunc(_sp.i0, input)


@primitive("i0e", uses_out=True, raw=True)
def i0e(input):
    """exp(-|x|) i0(x) for x in `input`, as torch.special.i0e."""
    return _ufunc(_sp.i0e, input)


@primitive("i1", uses_out=True, raw=True)
def i1(input):
    """The modified Bessel function of the first kind, order 1, of `input`, as torch.special.i1."""
    return _ufunc(_sp.i1, input)


@primitive("i1e", uses_out=True, raw=True)
def i1e(input):
    """exp(-|x|) i1(x) for x in `input`, as torch.special.i1e."""
    return _ufunc(_sp.i1e, input)


defvjp(i0, lambda g, out, x: g * i1(x))
defvjp(i0e, lambda g, out, x: g * (i1e(x) - sign(x) * out))
# i1'(x) = i0(x) - i1(x) / x, with the limit 1/2 at x = 0
defvjp(i1, lambda g, out, x: g * where(_is_zero(x), 0.5, i0(x) - out / _safe(x)))
defvjp(i1e, lambda g, out, x:
       g * where(_is_zero(x), 0.5, i0e(x) - out * (sign(x) + 1 / _safe(x))))


# ---- reductions that live in tapegrad's op families, with torch.special's signatures ----------
def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(`input`))) over `dim`, as torch.special.logsumexp.

    The same op as tapegrad.logsumexp; with `keepdim` the reduced dims stay.
    """
    return _logsumexp(input, dim, keepdim)


def softmax(input, dim, *, dtype=None):
    """The softmax of `input` along `dim`, as torch.special.softmax.

    The same op as tapegrad.softmax; `dtype`, if given, is the dtype to compute in.
    """
    return _softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """The log of the softmax of `input` along `dim`, as torch.special.log_softmax.

    The same op as tapegrad.log_softmax; `dtype`, if given, is the dtype to compute in.
    """
    return _log_softmax(input, dim, dtype)


__all__ = ["erf", "erfc", "erfinv", "expit", "logit", "xlogy", "xlog1py", "gammaln", "digamma",
           "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "log_ndtr", "ndtr",
           "ndtri", "sinc", "entr", "logsumexp", "softmax", "log_softmax", "betaln", "gammainc"]

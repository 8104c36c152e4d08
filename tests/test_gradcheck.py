"""gradcheck / gradgradcheck: they pass on correct VJPs and catch wrong ones (the checker is tested)."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import Function, gradcheck, gradgradcheck, GradcheckError
from tapegrad.primitives import primitive, defvjp, REGISTRY


class GoodSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2.0 * g * x


class WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3.0 * g * x          # deliberately wrong: d(x^2)/dx is 2x


class FirstOrderOnly(Function):
    """Right first derivative, but backward detaches x, so its second derivative is lost."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2.0 * g * x.detach()


@pytest.fixture
def wrong_primitive():
    """A primitive with a wrong rule, registered only for the duration of one test."""
    @primitive("gradcheck_wrong_cube")
    def cube(x):
        return x ** 3

    defvjp(cube, lambda g, out, x: g * (2 * x * x))    # deliberately wrong: should be 3 x^2
    yield cube
    REGISTRY.pop("gradcheck_wrong_cube", None)


def _x(shape=(2, 3), seed=0):
    return tg.tensor(np.random.default_rng(seed).uniform(0.5, 1.5, shape), requires_grad=True)


def test_passes_on_correct_vjps():
    x, y = _x(), _x((3,), 1)
    assert gradcheck(GoodSquare.apply, (x,))
    assert gradcheck(lambda a, b: tg.exp(a) * tg.tanh(b) - a / b, (x, y))
    assert gradgradcheck(GoodSquare.apply, (x,))
    assert gradgradcheck(lambda a, b: tg.exp(a) * tg.sin(b), (x, y))


def test_fails_on_a_wrong_function_backward():
    x = _x()
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to "
                                             "input 0"):
        gradcheck(WrongSquare.apply, (x,))
    assert gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_fails_on_a_wrong_primitive_rule(wrong_primitive):
    x = _x()
    np.testing.assert_allclose(wrong_primitive(x).detach().numpy(), x.detach().numpy() ** 3)
    with pytest.raises(GradcheckError):
        gradcheck(wrong_primitive, (x,))
    assert gradcheck(lambda a: wrong_primitive(a) * 2.0, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_a_lost_second_derivative():
    x = _x()
    assert gradcheck(FirstOrderOnly.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(FirstOrderOnly.apply, (x,))
    assert gradgradcheck(FirstOrderOnly.apply, (x,), raise_exception=False) is False


def test_error_type_and_inputs_that_do_not_require_grad():
    assert issubclass(GradcheckError, RuntimeError)
    x, c = _x(), tg.tensor(np.ones((2, 3)))
    assert gradcheck(lambda a, b: a * b + b, (x, c))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: WrongSquare.apply(b) * a, (c, x))


def test_non_contiguous_input():
    base = np.random.default_rng(3).uniform(0.5, 1.5, (4, 3))
    x = tg.tensor(base).T.detach().requires_grad_(True)     # a transposed, non-contiguous view
    assert not x.is_contiguous()
    assert gradcheck(lambda a: tg.exp(a) * a, (x,))
    assert not gradcheck(WrongSquare.apply, (x,), raise_exception=False)

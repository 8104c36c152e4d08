"""Grad modes: thread-local switches for recording, usable as context managers and decorators."""
import functools
import inspect

from ._state import state


class _Mode:
    """Base: set grad mode on entry, restore the previous mode on exit; also a decorator
    (with or without parentheses: `@no_grad` is `@no_grad()`)."""

    enabled = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs and cls._bare_decorator:
            return cls()(args[0])        # `@no_grad` without parentheses
        return super().__new__(cls)

    _bare_decorator = True

    def __enter__(self):
        st = state
        self._prev = (st.grad_enabled, st.inference)
        st.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        state.grad_enabled, state.inference = self._prev
        return False

    def __call__(self, fn):
        args = self._args()
        factory = functools.partial(self.__class__, *args)
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(factory, fn)

        @functools.wraps(fn)
        def wrapped(*a, **kw):
            with factory():
                return fn(*a, **kw)
        return wrapped

    def clone(self):
        return self.__class__(*self._args())

    def _args(self):
        return ()


def _wrap_generator(factory, fn):
    """A generator function whose body runs in the mode at every resume, as PyTorch's
    decorators do; the caller's code between resumes keeps the caller's mode."""
    @functools.wraps(fn)
    def generator(*args, **kwargs):
        gen = fn(*args, **kwargs)
        step, arg = gen.send, None
        while True:
            try:
                with factory():
                    value = step(arg)
            except StopIteration as stop:
                return stop.value
            try:
                arg = yield value
                step = gen.send
            except GeneratorExit:
                with factory():
                    gen.close()
                raise
            except BaseException as err:      # thrown in by the caller: pass it on
                step, arg = gen.throw, err
    return generator


class no_grad(_Mode):
    """Run ops without recording: their results do not require grad, as torch.no_grad.

    A context manager (`with no_grad():`) or a decorator (`@no_grad()` or `@no_grad`; used bare,
    the decorated function is the only one of the constructor's `args`, and it takes no `kwargs`).
    """

    enabled = False


class enable_grad(_Mode):
    """Turn recording back on inside a no_grad block, as torch.enable_grad.

    A context manager or a decorator (`@enable_grad()` or `@enable_grad`; used bare, the decorated
    function is the only one of the constructor's `args`, and it takes no `kwargs`).
    """

    enabled = True


class set_grad_enabled(_Mode):
    """Set grad mode to `mode`: as a function call, a context manager, or a decorator."""

    _bare_decorator = False

    def __init__(self, mode):
        self.enabled = bool(mode)
        self._prev = (state.grad_enabled, state.inference)
        state.grad_enabled = self.enabled    # a plain call takes effect at once

    def __enter__(self):
        return self

    def __call__(self, fn):
        state.grad_enabled = self._prev[0]   # used as a decorator: undo the call's effect
        return super().__call__(fn)

    def _args(self):
        return (self.enabled,)


class inference_mode(_Mode):
    """no_grad that also marks inference, as torch.inference_mode.

    `inference_mode(False)` (`mode` False) turns grad mode on and inference off, even inside
    no_grad (as PyTorch's InferenceMode(false)).
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        st = state
        self._prev = (st.grad_enabled, st.inference)
        st.grad_enabled, st.inference = not self.mode, self.mode
        return self

    def _args(self):
        return (self.mode,)


def is_grad_enabled():
    """Whether ops record on the tape now (grad mode, per thread), as torch.is_grad_enabled."""
    return state.grad_enabled


def is_inference_mode_enabled():
    """Whether inference mode is on in this thread, as torch.is_inference_mode_enabled."""
    return state.inference

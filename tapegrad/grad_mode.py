"""Grad modes: thread-local switches for recording, usable as context managers and decorators."""
import functools

from .tape import _state


class _Mode:
    """Base: set grad mode on entry, restore the previous mode on exit; also a decorator."""

    enabled = True

    def __enter__(self):
        st = _state
        self._prev = (st.grad_enabled, st.inference)
        st.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.grad_enabled, _state.inference = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapped

    def _args(self):
        return ()


class no_grad(_Mode):
    """Ops run inside do not record, and their results do not require grad (torch.no_grad)."""

    enabled = False


class enable_grad(_Mode):
    """Turn recording back on inside a no_grad block (torch.enable_grad)."""

    enabled = True


class set_grad_enabled(_Mode):
    """Set grad mode to `mode`: as a function call, a context manager, or a decorator."""

    def __init__(self, mode):
        self.enabled = bool(mode)
        self._prev = (_state.grad_enabled, _state.inference)
        _state.grad_enabled = self.enabled    # a plain call takes effect at once

    def __enter__(self):
        return self

    def __call__(self, fn):
        _state.grad_enabled = self._prev[0]   # used as a decorator: undo the call's effect
        return super().__call__(fn)

    def _args(self):
        return (self.enabled,)


class inference_mode(_Mode):
    """Like no_grad (torch.inference_mode); `inference_mode(False)` leaves grad mode as is."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        st = _state
        self._prev = (st.grad_enabled, st.inference)
        if self.mode:
            st.grad_enabled, st.inference = False, True
        return self

    def _args(self):
        return (self.mode,)


def is_grad_enabled():
    return _state.grad_enabled


def is_inference_mode_enabled():
    return _state.inference

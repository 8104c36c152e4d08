"""Grad modes (design.md 1.7): thread-local, nestable, context managers and decorators."""
import threading

import tapegrad as tg


def test_no_grad_and_enable_grad_nest():
    x = tg.ones(2, requires_grad=True)
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        assert not (x * 2).requires_grad
        with tg.enable_grad():
            assert tg.is_grad_enabled() and (x * 2).requires_grad
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled() and (x * 2).requires_grad


def test_modes_as_decorators():
    x = tg.ones(2, requires_grad=True)

    @tg.no_grad()
    def frozen(t):
        return t * 2

    @tg.enable_grad()
    def tracked(t):
        return t * 2

    assert not frozen(x).requires_grad
    with tg.no_grad():
        assert tracked(x).requires_grad
    assert tg.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator():
    x = tg.ones(2, requires_grad=True)
    tg.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert tg.is_grad_enabled()          # decorating does not switch the mode
    assert not f(x).requires_grad and tg.is_grad_enabled()


def test_inference_mode():
    x = tg.ones(2, requires_grad=True)
    with tg.inference_mode():
        assert tg.is_inference_mode_enabled() and not (x * 2).requires_grad
    with tg.inference_mode(False):
        assert (x * 2).requires_grad
    assert not tg.is_inference_mode_enabled()


def test_mode_is_restored_after_an_exception():
    try:
        with tg.no_grad():
            raise ValueError("boom")
    except ValueError:
        pass
    assert tg.is_grad_enabled()


def test_modes_are_thread_local():
    seen = []

    def worker():
        seen.append(tg.is_grad_enabled())

    with tg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [True]

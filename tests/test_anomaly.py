"""Anomaly mode: PyTorch's switches and its backward message, plus the first forward entry
that went non-finite and the source lines of the entries involved."""
import inspect
import os
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad._state import debug
from tapegrad.autograd import anomaly
from tapegrad.autograd import (detect_anomaly, set_detect_anomaly, is_anomaly_enabled,
                               is_anomaly_check_nan_enabled)


@pytest.fixture(autouse=True)
def quiet_numpy():
    with np.errstate(all="ignore"):
        yield
    assert not is_anomaly_enabled()      # every test leaves it off


def divides_by_zero_three_ops_before_the_loss(x):
    d = x / tg.zeros(3)          # inf: the first bad entry
    y = d * 0                    # nan
    z = y + 1
    return (z * 2).sum()


def line_of(fn, text):
    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if text in line)


def test_backward_names_the_rule_and_the_line_that_divided_by_zero():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with detect_anomaly():
        loss = divides_by_zero_three_ops_before_the_loss(x)
        with pytest.raises(RuntimeError) as err:
            loss.backward()
    msg = str(err.value)
    line = line_of(divides_by_zero_three_ops_before_the_loss, "/ tg.zeros")
    where = f"{os.path.abspath(__file__)}:{line}"
    assert msg.startswith("Function 'DivBackward0' returned nan values in its 0th output.")
    assert f"recorded by 'div' at {where}" in msg
    assert f"first forward entry whose output became nan or inf from finite inputs: 'div' " \
           f"(DivBackward0) at {where}" in msg
    assert "in [1, 3]" in msg and "in [0, 0]" in msg          # the inputs' ranges
    assert x.grad is None                                       # nothing was written


def test_without_anomaly_mode_the_same_backward_runs_and_gives_nan():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    divides_by_zero_three_ops_before_the_loss(x).backward()
    assert np.isnan(x.grad.numpy()).all()
    assert debug.on_record is None and debug.vjp is None and debug.on_cut is None


def test_the_first_bad_entry_is_the_first_in_forward_order():
    x = tg.tensor([1.0, 0.0], requires_grad=True)
    with detect_anomaly():
        a = x.log()                  # -inf at 0: first
        b = a * 0                    # nan, but from a non-finite input
        c = b.exp() / x              # more nan and inf
        first = anomaly.first_nonfinite()
    assert first.startswith("'log' (LogBackward0) at ")
    line = line_of(test_the_first_bad_entry_is_the_first_in_forward_order, "x.log()")
    assert first.endswith(f":{line}, from input 0 (2,) float32 in [0, 1]")
    del a, b, c


def test_an_inf_from_a_rule_with_no_bad_forward_entry():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt().sum()           # finite forward; the rule divides by sqrt(0)
        with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward0' returned inf values "
                                               r"in its 0th output\..*No forward entry"):
            y.backward()


def test_a_graph_built_before_anomaly_mode_has_no_line():
    x = tg.tensor([0.0], requires_grad=True)
    y = x.sqrt().sum()
    with detect_anomaly(), pytest.raises(RuntimeError, match="unknown: the graph was built"):
        y.backward()


def test_check_nan_false_records_lines_but_checks_nothing():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        loss = divides_by_zero_three_ops_before_the_loss(x)
        loss.backward()
        assert loss.grad_fn.source.endswith(
            f":{line_of(divides_by_zero_three_ops_before_the_loss, 'return (z * 2)')}")
    assert np.isnan(x.grad.numpy()).all()


def test_switches_as_in_torch():
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert is_anomaly_enabled() and is_anomaly_check_nan_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
            assert debug.on_record is None and debug.vjp is None
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled() and debug.vjp is not None
    finally:
        set_detect_anomaly(False)
    assert debug.on_record is None and debug.vjp is None and debug.on_unrecorded is None
    assert tg.autograd.anomaly_mode.detect_anomaly is detect_anomaly


def test_detect_anomaly_as_a_decorator():
    @detect_anomaly()
    def step(x):
        assert is_anomaly_enabled()
        return divides_by_zero_three_ops_before_the_loss(x).backward()

    with pytest.raises(RuntimeError, match="DivBackward0"):
        step(tg.tensor([1.0, 2.0, 3.0], requires_grad=True))
    assert not is_anomaly_enabled()


def test_anomaly_mode_leaves_a_record_source_tape_recording_lines():
    x = tg.tensor([1.0], requires_grad=True)
    with tg.Tape(record_source=True) as tape:
        with detect_anomaly():
            pass
        y = x * 2     # noqa: F841  (kept alive: the tape holds entries weakly)
    assert tape.entries()[0].source is not None and debug.on_record is None


class Broken(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        raise ValueError("broken rule")


def test_an_error_in_a_rule_warns_with_the_forward_line_as_pytorch():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = Broken.apply(x).sum()
        with pytest.warns(UserWarning, match="Error detected in BrokenBackward") as caught, \
                pytest.raises(ValueError, match="broken rule"):
            y.backward()
    line = line_of(test_an_error_in_a_rule_warns_with_the_forward_line_as_pytorch, "Broken.apply")
    assert f"{os.path.abspath(__file__)}:{line}" in str(caught[0].message)


def test_the_message_starts_as_pytorchs():
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError) as theirs:
            divides_by_zero_three_ops_before_the_loss_torch(torch, x).backward()
    ours = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError) as mine:
        divides_by_zero_three_ops_before_the_loss(ours).backward()
    assert str(mine.value).startswith(str(theirs.value).split("\n")[0])


def divides_by_zero_three_ops_before_the_loss_torch(torch, x):
    d = x / torch.zeros(3)
    return ((d * 0 + 1) * 2).sum()

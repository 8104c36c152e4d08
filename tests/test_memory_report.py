"""memory_report / Tape.memory: the bytes a graph keeps for backward, per entry and in total,
equal to the arrays the entries actually hold (a view counts its whole base, once)."""
import gc
import weakref

import pytest

import tapegrad as tg
from tapegrad.autograd import memory_report


def f64(n, requires_grad=False):
    return tg.randn(n, dtype=tg.float64, requires_grad=requires_grad)


def test_total_is_the_arrays_the_entries_hold():
    x, c = f64(100, True), f64(100)
    with tg.Tape() as tape:
        y = x.exp()              # exp keeps its output
        z = y * c                # y's gradient needs c; c needs none, so y is not kept
        loss = z.sum()           # sum keeps nothing
    report = tape.memory()
    assert report.total == y._data.nbytes + c._data.nbytes == 1600
    assert [r.bytes for r in report.entries] == [800, 800, 0]
    assert [r.op for r in report.entries] == ["ExpBackward0", "MulBackward0", "SumBackward0"]
    assert memory_report(loss).total == report.total
    # the saved arrays are kept alive by the graph alone, and freed by a backward
    kept = weakref.ref(c._data)
    del c, y, z
    gc.collect()
    assert kept() is not None and memory_report(loss).total == 1600
    loss.backward()
    gc.collect()
    assert kept() is None
    after = tape.memory()
    assert after.total == 0


def test_a_saved_view_counts_its_whole_base_once():
    x = f64(10, True)
    base = f64(1000)
    loss = (x * base[:10]).sum() + (x * base[10:20]).sum()
    report = memory_report(loss)
    assert report.total == base._data.nbytes == 8000
    assert sorted(r.bytes for r in report.entries if r.bytes) == [8000, 8000]
    assert report.buffers == 1


def test_parameters_are_counted_as_alive_anyway():
    x = tg.ones(4, 3, dtype=tg.float64)
    w = tg.ones(3, 5, dtype=tg.float64, requires_grad=True)
    loss = (x @ w).tanh().sum()
    report = memory_report(loss, params={"fc.weight": w})
    # matmul keeps both operands; tanh keeps its output
    assert report.total == x._data.nbytes + w._data.nbytes + 4 * 5 * 8 == 376
    assert report.leaf_bytes == w._data.nbytes                  # alive anyway
    assert "fewer" in str(report) and f"{376 - 120} B fewer" in str(report)


def test_the_report_reads_well():
    x = f64(1000, True)
    with tg.Tape() as tape:
        loss = (x.exp() * 2).sin().sum()  # noqa: F841  (the tape holds entries weakly)
    text = str(tape.memory())
    first, top = text.splitlines()[:2]
    # exp keeps its output, sin its input; the product with 2 and the sum keep nothing
    assert first.startswith("15.6 KiB saved for backward by 4 entries (2 buffers")
    assert "ExpBackward0" in text and "7.8 KiB" in top
    assert "no_grad()" in text and "retain_graph=True" in text


def test_source_lines_show_when_recorded():
    x = f64(10, True)
    with tg.Tape(record_source=True) as tape:
        loss = x.exp().sum()
    assert loss.grad_fn is not None and __file__ in str(tape.memory())


def test_memory_report_refuses_other_things():
    with pytest.raises(TypeError, match="memory_report: expected a Tensor"):
        memory_report("loss")


class Saves(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * x * g


def test_what_a_custom_function_saves_is_counted():
    x = f64(30, True)
    loss = Saves.apply(x).sum()
    assert memory_report(loss).total == x._data.nbytes == 240

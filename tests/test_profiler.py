"""torch.profiler / torch.autograd.profiler: per-op forward and backward times from the tape."""
import json

import pytest

import tapegrad as tg
from tapegrad.primitives import REGISTRY
from tapegrad.profiler import ProfilerActivity, profile, record_function


def _run():
    x = tg.ones(4, 3, requires_grad=True)
    y = tg.ones(3)
    z = (x * y).exp()
    (z * y).sum().backward()
    return x


def _by_key(prof):
    return {e.key: e for e in prof.key_averages()}


def test_counts_per_op_are_exact_and_times_positive():
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _run()
    got = _by_key(prof)
    assert got["aten::exp"].count == 1
    assert got["aten::sum"].count == 1
    assert got["MulBackward0"].count == 2 and got["ExpBackward0"].count == 1
    assert got["SumBackward0"].count == 1
    for e in got.values():
        assert e.cpu_time_total > 0 and 0 <= e.self_cpu_time_total <= e.cpu_time_total + 1e-9
        assert e.cpu_time == pytest.approx(e.cpu_time_total / e.count)
    with profile() as prof:        # forward only: one event per op call
        x = tg.ones(4, 3, requires_grad=True)
        (x * x * 2).exp().sum()
    assert {e.key: e.count for e in prof.key_averages()} == {"aten::mul": 2, "aten::exp": 1,
                                                              "aten::sum": 1}


def test_table_has_pytorch_columns_and_sorts():
    with profile() as prof:
        _run()
    averages = prof.key_averages()
    text = averages.table(sort_by="cpu_time_total", row_limit=3)
    for column in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total",
                   "CPU time avg", "# of Calls", "Self CPU time total:"):
        assert column in text
    names = [line.split()[0] for line in text.splitlines()[3:6]]
    expect = sorted(averages, key=lambda e: e.cpu_time_total, reverse=True)[:3]
    assert names == [e.key for e in expect]
    by_count = averages.table(sort_by="count").splitlines()
    assert by_count[3].split()[0] == max(averages, key=lambda e: e.count).key
    self_sorted = averages.table(sort_by="self_cpu_time_total", row_limit=1).splitlines()
    assert self_sorted[3].split()[0] == max(averages,
                                             key=lambda e: e.self_cpu_time_total).key
    with pytest.raises(ValueError, match="sort_by"):
        averages.table(sort_by="cuda_time_total")


def test_record_function_nests_and_owns_its_time():
    with profile() as prof:
        with record_function("outer"):
            a = tg.ones(5) * 2
            with record_function("inner"):
                tg.exp(a)
    events = {e.name: e for e in prof.events()}
    outer, inner, exp = events["outer"], events["inner"], events["aten::exp"]
    assert outer.cpu_time_total >= inner.cpu_time_total >= exp.cpu_time_total
    assert inner.self_cpu_time_total == pytest.approx(inner.cpu_time_total
                                                      - exp.cpu_time_total, abs=1e-3)
    assert outer.start_us <= inner.start_us <= exp.start_us
    with record_function("not profiled"):        # no profiler: nothing happens
        tg.ones(2) * 2


def test_shapes_memory_and_chrome_trace(tmp_path):
    with profile(record_shapes=True, profile_memory=True) as prof:
        tg.ones(2, 3, dtype=tg.float64) * tg.ones(3, dtype=tg.float64)
    (mul,) = [e for e in prof.key_averages(group_by_input_shape=True) if e.key == "aten::mul"]
    assert mul.input_shapes == [[2, 3], [3]] and mul.cpu_memory_usage == 48
    assert "Input Shapes" in prof.key_averages(group_by_input_shape=True).table()
    assert "CPU Mem" in prof.key_averages().table()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    (event,) = [e for e in trace["traceEvents"] if e["name"] == "aten::mul"]
    assert event["ph"] == "X" and event["dur"] > 0 and event["args"]["Input Dims"] == [[2, 3], [3]]


def test_nothing_recorded_after_the_block_and_hooks_removed():
    with profile() as prof:
        tg.ones(3) * 2
    n = len(prof.events())
    _run()
    assert len(prof.events()) == n
    assert all(p.run is p.forward for p in REGISTRY.values())
    from tapegrad._state import profiling
    assert profiling.vjp is None


def test_errors_and_legacy_spelling():
    with profile():
        with pytest.raises(RuntimeError, match="already running"):
            profile().start()
    with pytest.raises(RuntimeError, match="schedule"):
        profile(schedule=lambda step: None)
    with tg.autograd.profiler.profile(record_shapes=True) as prof:
        _run()
    assert _by_key(prof)["ExpBackward0"].count == 1
    with tg.autograd.profiler.profile(enabled=False) as prof:
        _run()
    assert len(prof.events()) == 0
    with pytest.raises(RuntimeError, match="CPU only"):
        tg.autograd.profiler.profile(use_cuda=True)
    # a failing op leaves no open frame behind
    with profile() as prof:
        with pytest.raises(RuntimeError):
            tg.ones(2) * tg.ones(3)
        tg.ones(2) * 2
    assert [e.name for e in prof.events()] == ["aten::mul"]


def test_same_keys_as_torch_for_a_small_graph():
    torch = pytest.importorskip("torch")
    x = torch.ones(4, requires_grad=True)
    with torch.profiler.profile() as theirs:
        (x * x).sum().backward()
    with profile() as ours:
        _run()
    keys = {e.key for e in theirs.key_averages()}
    assert {"aten::mul", "aten::sum", "MulBackward0", "SumBackward0"} <= keys
    assert {"aten::mul", "aten::sum", "MulBackward0", "SumBackward0"} <= set(_by_key(ours))


def test_custom_function_backward_is_timed_through_its_own_vjp():
    class Double(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = tg.ones(3, requires_grad=True)
    with profile() as prof:
        Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    assert any(e.key.startswith("Double") for e in prof.key_averages())

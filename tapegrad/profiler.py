"""torch.profiler / torch.autograd.profiler: per-op forward time (every primitive's NumPy
forward) and backward time (every VJP the replay runs, named as PyTorch's nodes: MulBackward0).

While a profiler is active, each primitive's `run` is a timed stand-in for its forward and the
replay's `vjp` a timed stand-in for `Primitive.vjp`; outside one the ops run untouched.
"""
import contextlib
import enum
import json
import os
import threading
import time
import warnings

import numpy as np

from ._state import profiling
from ._tensor import Tensor
from .primitives import REGISTRY

_clock = time.perf_counter_ns
_active = None          # the running profile, if any
_local = threading.local()      # per thread: the stack of open frames [name, start, child_ns]


class ProfilerActivity(enum.Enum):
    """torch.profiler.ProfilerActivity: tapegrad runs on the CPU only."""

    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    HPU = 4
    PrivateUse1 = 5


def _stack():
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def _open(name):
    frame = [name, _clock(), 0]
    _stack().append(frame)
    return frame


def _close(frame, kind, shapes=None, memory=0):
    """End `frame`: record its event on the active profile and charge its time to its parent."""
    end = _clock()
    stack = _stack()
    stack.pop()
    total = end - frame[1]
    if stack:
        stack[-1][2] += total
    prof = _active
    if prof is not None:
        prof._events.append(FunctionEvent(frame[0], frame[1] - prof._start, total,
                                          total - frame[2], threading.get_ident(), kind,
                                          shapes, memory))


def _nbytes(result):
    if isinstance(result, (tuple, list)):
        return sum(_nbytes(r) for r in result)
    if isinstance(result, Tensor):
        result = result._data
    return result.nbytes if isinstance(result, np.ndarray) else 0


def _timed_forward(prim):
    name = "aten::" + prim.name
    forward = prim.forward

    def run(*args, **params):
        frame = _open(name)
        try:
            out = forward(*args, **params)
        except BaseException:
            _stack().pop()       # a failed call is not an event
            raise
        prof = _active
        shapes = None
        if prof is not None and prof.record_shapes:
            shapes = [list(a.shape) if isinstance(a, np.ndarray) else [] for a in args]
        _close(frame, "cpu_op", shapes,
               _nbytes(out) if prof is not None and prof.profile_memory else 0)
        return out
    return run


def _timed_vjp(prim, entry, gs, raw=False):
    frame = _open(prim.grad_fn_name)
    try:
        grads = prim.vjp(entry, gs, raw)
    except BaseException:
        _stack().pop()
        raise
    prof = _active
    _close(frame, "backward", None,
           _nbytes(grads) if prof is not None and prof.profile_memory else 0)
    return grads


class record_function(contextlib.ContextDecorator):
    """torch.profiler.record_function: the time inside the block is attributed to `name`."""

    def __init__(self, name, args=None):
        self.name, self.args = name, args
        self._frames = []

    def __enter__(self):
        self._frames.append(_open(self.name) if _active is not None else None)
        return self

    def __exit__(self, *exc):
        frame = self._frames.pop()
        if frame is not None:
            _close(frame, "user_annotation")
        return False


class FunctionEvent:
    """One timed call: an op's forward, a VJP, or a record_function block (times in us)."""

    def __init__(self, name, start_ns, total_ns, self_ns, thread, kind, shapes, memory):
        self.name = self.key = name
        self.thread, self.kind = thread, kind
        self.start_us = start_ns / 1e3
        self.cpu_time_total = total_ns / 1e3
        self.self_cpu_time_total = self_ns / 1e3
        self.input_shapes = shapes if shapes is not None else []
        self.cpu_memory_usage = self.self_cpu_memory_usage = memory
        self.count = 1

    @property
    def cpu_time(self):
        return self.cpu_time_total

    def __repr__(self):
        return (f"<FunctionEvent name={self.name} cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us>")


class FunctionEventAvg:
    """The events of one key summed (torch.autograd.profiler_util.FunctionEventAvg)."""

    def __init__(self, key, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0

    def add(self, e):
        self.count += e.count
        self.cpu_time_total += e.cpu_time_total
        self.self_cpu_time_total += e.self_cpu_time_total
        self.cpu_memory_usage += e.cpu_memory_usage
        self.self_cpu_memory_usage += e.self_cpu_memory_usage
        return self

    @property
    def cpu_time(self):
        """The average time of one call (us)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} count={self.count} cpu_time_total="
                f"{self.cpu_time_total:.3f}us self_cpu_time_total={self.self_cpu_time_total:.3f}us>")


_SORT_KEYS = ("cpu_time", "cpu_time_total", "self_cpu_time_total", "count",
              "cpu_memory_usage", "self_cpu_memory_usage")


class EventList(list):
    """A list of events or averages, with PyTorch's `table()` and `export_chrome_trace()`."""

    def __init__(self, events=(), with_shapes=False, with_memory=False):
        super().__init__(events)
        self._with_shapes, self._with_memory = with_shapes, with_memory

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def total_average(self):
        """All events summed into one FunctionEventAvg keyed 'Total'."""
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """PyTorch's text table: per key the self and total CPU time (with their share of the
        whole), the average time per call and the number of calls."""
        rows = list(self)
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise ValueError(f"table: sort_by={sort_by!r} is not one of {_SORT_KEYS} (tapegrad "
                                 "profiles the CPU only)")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        return _table(rows, self.self_cpu_time_total, header, max_name_column_width,
                      max_shapes_column_width, time_unit, self._with_shapes, self._with_memory)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (JSON; open in chrome://tracing or Perfetto)."""
        pid = os.getpid()
        events = [{"ph": "X", "cat": e.kind, "name": e.name, "pid": pid, "tid": e.thread,
                   "ts": e.start_us, "dur": e.cpu_time_total,
                   "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}}
                  for e in self if isinstance(e, FunctionEvent)]
        with open(path, "w") as f:
            json.dump({"traceEvents": events, "displayTimeUnit": "ms"}, f)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """The events grouped by name (and input shapes) and summed: one FunctionEventAvg each."""
        groups = {}
        for e in self:
            shapes = e.input_shapes if group_by_input_shape else None
            k = (e.key, str(shapes)) if group_by_input_shape else e.key
            avg = groups.get(k)
            if avg is None:
                avg = groups[k] = FunctionEventAvg(e.key, shapes)
            avg.add(e)
        return EventList(groups.values(), group_by_input_shape, self._with_memory)


_UNITS = {"s": 1e6, "ms": 1e3, "us": 1.0}


def _time(us, unit):
    if unit is None:
        unit = "s" if us >= 1e6 else "ms" if us >= 1e3 else "us"
    return f"{us / _UNITS[unit]:.3f}{unit}"


def _memory(b):
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(b) >= size:
            return f"{b / size:.2f} {unit}"
    return f"{b} b"


def _table(rows, total, header, name_width, shapes_width, unit, with_shapes, with_memory):
    total = total or 1.0
    heads = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if with_memory:
        heads += ["CPU Mem", "Self CPU Mem"]
    heads.append("# of Calls")
    if with_shapes:
        heads.append("Input Shapes")

    def cut(text, width):
        return text if len(text) <= width else text[:width - 3] + "..."
    lines = []
    for e in rows:
        cells = [cut(e.key, name_width), f"{100 * e.self_cpu_time_total / total:.2f}%",
                 _time(e.self_cpu_time_total, unit), f"{100 * e.cpu_time_total / total:.2f}%",
                 _time(e.cpu_time_total, unit), _time(e.cpu_time, unit)]
        if with_memory:
            cells += [_memory(e.cpu_memory_usage), _memory(e.self_cpu_memory_usage)]
        cells.append(str(e.count))
        if with_shapes:
            cells.append(cut(str(e.input_shapes), shapes_width))
        lines.append(cells)
    widths = [max([len(h)] + [len(c[i]) for c in lines]) + 2 for i, h in enumerate(heads)]
    rule = "  ".join("-" * w for w in widths)

    def fmt(cells):
        return "  ".join(c.rjust(w) for c, w in zip(cells, widths))
    out = ([header] if header else []) + [rule, fmt(heads), rule] + [fmt(c) for c in lines]
    out += [rule, f"Self CPU time total: {_time(total, unit)}", ""]
    return "\n".join(out)


class _Profile:
    """What both profilers share: start and stop the timing hooks, and the results."""

    def _setup(self, enabled, record_shapes, profile_memory):
        self.enabled = enabled
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self._events, self._start = EventList(), 0
        self._running = False

    def start(self):
        """Begin timing every op forward and every VJP (one profiler at a time)."""
        global _active
        if not self.enabled:
            return
        if _active is not None:
            raise RuntimeError("profiler: a profiler is already running; profilers do not nest")
        self._events, self._start = EventList(), _clock()
        _active, self._running = self, True
        for prim in list(REGISTRY.values()):
            prim.run = _timed_forward(prim)
        profiling.vjp = _timed_vjp

    def stop(self):
        """Stop timing: the ops run untouched again and nothing more is recorded."""
        global _active
        if not self._running:
            return
        profiling.vjp = None
        for prim in list(REGISTRY.values()):
            prim.run = prim.forward
        _active, self._running = None, False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def events(self):
        """Every timed call, in the order they ended."""
        return EventList(self._events, self.record_shapes, self.profile_memory)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events grouped by name (and input shapes, with record_shapes) and summed."""
        if group_by_input_shape and not self.record_shapes:
            raise RuntimeError("key_averages: group_by_input_shape=True needs the profiler to "
                               "run with record_shapes=True")
        return self.events().key_averages(group_by_input_shape)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (JSON)."""
        self.events().export_chrome_trace(path)

    @property
    def self_cpu_time_total(self):
        return self.events().self_cpu_time_total

    def table(self, *args, **kwargs):
        return self.key_averages().table(*args, **kwargs)


class profile(_Profile):
    """torch.profiler.profile: a context manager timing each op's forward and backward on the
    CPU; `prof.key_averages().table(sort_by="cpu_time_total")` lists them."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, use_cuda=None, custom_trace_id_callback=None,
                 post_processing_timeout_s=None):
        if schedule is not None:
            raise RuntimeError("profiler.profile: schedule= is not supported by tapegrad's "
                               "profiler; profile the steps you want inside the block")
        for a in activities or ():
            if a is not ProfilerActivity.CPU:
                warnings.warn(f"profiler.profile: {a} is not available (tapegrad runs on the "
                              "CPU); profiling the CPU only", stacklevel=2)
        self._setup(True, record_shapes, profile_memory)
        self.activities = set(activities) if activities else {ProfilerActivity.CPU}
        self.on_trace_ready = on_trace_ready

    def stop(self):
        running = self._running
        super().stop()
        if running and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self):
        """Mark a step's end (without a schedule, a no-op as in PyTorch)."""


class _AutogradProfile(_Profile):
    """torch.autograd.profiler.profile: the legacy spelling of the same profiler."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None,
                 activity_filters=None):
        if use_cuda or use_device not in (None, "cpu"):
            raise RuntimeError("autograd.profiler.profile: tapegrad runs on the CPU only "
                               f"(use_cuda={use_cuda}, use_device={use_device!r})")
        self._setup(enabled, record_shapes, profile_memory)


def is_profiler_enabled():
    """Whether a profiler is running (torch.autograd.profiler's `_is_profiler_enabled`)."""
    return _active is not None

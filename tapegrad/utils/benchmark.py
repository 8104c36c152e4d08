"""torch.utils.benchmark: `Timer` and the `Measurement` it returns (Python statements only)."""
import statistics
import timeit

import numpy as np


def _unit(seconds):
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if seconds >= scale:
            return scale, unit
    return 1e-9, "ns"


class Measurement:
    """torch.utils.benchmark.Measurement: raw block times and the runs per block."""

    def __init__(self, number_per_run, raw_times, task_spec=None, metadata=None):
        self.number_per_run, self.raw_times = number_per_run, list(raw_times)
        self.task_spec = task_spec or {}
        self.metadata = metadata

    @property
    def times(self):
        """Seconds per run, one number per block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self):
        return statistics.mean(self.times)

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def iqr(self):
        q1, q3 = np.percentile(self.times, [25, 75])
        return float(q3 - q1)

    @property
    def title(self):
        spec = self.task_spec
        label = spec.get("label")
        sub = spec.get("sub_label")
        if label is not None:
            return f"{label}: {sub}" if sub else label
        return spec.get("stmt", "")

    def __repr__(self):
        scale, unit = _unit(self.median)
        lines = [f"<{type(self).__module__}.Measurement object at {hex(id(self))}>", self.title]
        if self.task_spec.get("description"):
            lines.append(self.task_spec["description"])
        n = len(self.times)
        if n == 1:
            lines += [f"  {self.median / scale:.2f} {unit}",
                      f"  1 measurement, {self.number_per_run} runs , 1 thread"]
        else:
            q1, q3 = np.percentile(self.times, [25, 75])
            lines += [f"  Median: {self.median / scale:.2f} {unit}",
                      f"  IQR:    {self.iqr / scale:.2f} {unit} ({q1 / scale:.2f} to "
                      f"{q3 / scale:.2f})",
                      f"  {n} measurements, {self.number_per_run} runs per measurement, "
                      f"1 thread"]
        return "\n".join(lines)


class Timer:
    """torch.utils.benchmark.Timer: times `stmt` (after `setup`) in a namespace made of
    `globals`; only language='python' is supported."""

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=timeit.default_timer,
                 globals=None, label=None, sub_label=None, description=None, env=None,
                 num_threads=1, language="python"):
        if str(language).lower() not in ("python", "py", "language.python"):
            raise ValueError(f"Timer: language {language!r} is not supported by tapegrad; only "
                             "Python statements can be timed")
        if global_setup:
            raise ValueError("Timer: global_setup is only for C++ statements")
        self._timer = timeit.Timer(stmt, setup, timer, dict(globals or {}))
        self._task_spec = dict(stmt=stmt, setup=setup, label=label, sub_label=sub_label,
                               description=description, env=env, num_threads=num_threads)

    def _measure(self, number, raw_times):
        return Measurement(number, raw_times, dict(self._task_spec))

    def timeit(self, number=1000000):
        """One block of `number` runs."""
        return self._measure(number, [self._timer.timeit(number)])

    def _block_size(self, min_run_time):
        """Runs per block: enough that a block takes a hundredth of min_run_time."""
        number = 1
        while True:
            took = self._timer.timeit(number)
            if took >= min_run_time / 100 or took > min_run_time or number >= 1 << 30:
                return number
            number *= 10

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of equal size until at least min_run_time has been spent timing."""
        number = self._block_size(min_run_time)
        times, total = [], 0.0
        while total < min_run_time or not times:
            took = self._timer.timeit(number)
            total += took
            times.append(took)
            if callback is not None:
                callback(number, took)
        return self._measure(number, times)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0,
                           callback=None):
        """Blocks until the IQR is within `threshold` of the median, or max_run_time."""
        number = self._block_size(min_run_time)
        times, total = [], 0.0
        while total < max_run_time:
            took = self._timer.timeit(number)
            total += took
            times.append(took)
            if callback is not None:
                callback(number, took)
            m = self._measure(number, times)
            if total >= min_run_time and len(times) > 3 and m.iqr / m.median < threshold:
                break
        return self._measure(number, times)

"""torch.testing.assert_close (tolerances, messages, containers) and torch.utils.benchmark.Timer,
with PyTorch's own messages as the oracle where it is installed."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import assert_close
from tapegrad.utils.benchmark import Measurement, Timer


def _message(fn, *args, **kwargs):
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    return type(info.value), str(info.value)


CASES = [
    (lambda m: m.tensor([1.0, 2.0, 3.0]), lambda m: m.tensor([1.0, 2.5, 3.0]), {}),
    (lambda m: m.tensor([1, 2, 3]), lambda m: m.tensor([1, 3, 3]), {}),
    (lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1.0, 2.0, 3.0]), {}),
    (lambda m: m.tensor([1.0, 2.0]), lambda m: m.tensor([1.0, 2.0], dtype=m.float64), {}),
    (lambda m: 1.0, lambda m: 1.5, {}),
    (lambda m: 1, lambda m: 1.0, {}),
    (lambda m: [m.tensor(1.0), m.tensor(2.0)], lambda m: [m.tensor(1.0), m.tensor(3.0)], {}),
    (lambda m: {"a": m.tensor(1.0)}, lambda m: {"a": m.tensor(2.0)}, {}),
    (lambda m: m.tensor([float("nan")]), lambda m: m.tensor([float("nan")]), {}),
    (lambda m: m.tensor([1.0]), lambda m: m.tensor([1.1]), dict(rtol=0.2)),
    (lambda m: m.tensor([1.0]), lambda m: np.array([1.0]), {}),
    (lambda m: m.tensor([[1.0, 2.0]]), lambda m: m.tensor([[1.0, 5.0]]), dict(msg="custom")),
    (lambda m: [1, 2], lambda m: [1, 2, 3], {}),
    (lambda m: m.tensor(True), lambda m: m.tensor(False), {}),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_assert_close_fails_as_torch_does(case):
    torch = pytest.importorskip("torch")
    a, e, kw = CASES[case]
    theirs = _message(torch.testing.assert_close, a(torch), e(torch), **kw)
    ours = _message(assert_close, a(tg), e(tg), **kw)
    assert ours[0] is theirs[0]
    # the wording and the numbers' places agree; digits past float32's may not
    first = lambda s: s.split("Greatest relative")[0].split("Relative difference")[0]  # noqa
    assert first(ours[1]).replace("tapegrad._tensor.", "torch.") == first(theirs[1])


def test_assert_close_passes_within_tolerance():
    assert_close(tg.tensor([1.0, 0.0]), tg.tensor([1.0, 1e-9]))       # float32: atol 1e-5
    assert_close(tg.tensor([1.0], dtype=tg.float64), tg.tensor([1.0 + 1e-8],
                                                                dtype=tg.float64))
    assert_close(tg.tensor([float("nan"), 1.0]), tg.tensor([float("nan"), 1.0]), equal_nan=True)
    assert_close(tg.tensor([1.0]), tg.tensor([1.0], dtype=tg.float64), check_dtype=False)
    assert_close(tg.tensor([float("inf")]), tg.tensor([float("inf")]))
    assert_close((1, [2.0, {"k": np.ones(2)}]), (1, [2.0, {"k": np.ones(2)}]))
    with pytest.raises(AssertionError, match="float64 differs"):
        assert_close(tg.tensor([1.0], dtype=tg.float64), tg.tensor([1.1], dtype=tg.float64),
                     msg=lambda text: "float64 differs:\n" + text)
    with pytest.raises(AssertionError, match=r"item \[1\]\[0\]"):
        assert_close([1.0, [2.0]], [1.0, [3.0]])


def test_timer_timeit_and_blocked_autorange():
    x = tg.ones(3)
    m = Timer("x + x", globals={"x": x}).timeit(50)
    assert isinstance(m, Measurement) and m.number_per_run == 50 and len(m.raw_times) == 1
    assert m.mean > 0 and m.median == m.mean and m.times[0] == m.raw_times[0] / 50
    assert "x + x" in repr(m) and "50 runs" in repr(m)
    seen = []
    m = Timer("x * 2", setup="y = 1", globals={"x": x}, label="mul", sub_label="ones",
              description="3").blocked_autorange(callback=lambda n, t: seen.append(n),
                                                 min_run_time=0.02)
    assert sum(m.raw_times) >= 0.02 and len(seen) == len(m.raw_times)
    assert m.title == "mul: ones" and "Median" in repr(m) and m.iqr >= 0
    m = Timer("x + 1", globals={"x": x}).adaptive_autorange(min_run_time=0.01, max_run_time=0.2)
    assert m.median > 0
    with pytest.raises(ValueError, match="Python"):
        Timer("x", language="c++")

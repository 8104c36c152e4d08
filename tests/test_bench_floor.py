"""The benchmark's hand-written NumPy floor (bench/numpy_cnn.py) computes the same training steps
as tapegrad: same losses over several steps from the same weights. A floor that did less work
than the libraries it is compared with would make every ratio in the README meaningless."""
import os
import sys

import numpy as np
import pytest

import tapegrad

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")


@pytest.fixture(scope="module")
def cnn():
    sys.path.insert(0, BENCH)
    try:
        import cnn
        yield cnn
    finally:
        sys.path.remove(BENCH)


def losses(case, steps):
    return np.array([case() for _ in range(steps)])


def test_lenet_floor_matches_tapegrad(cnn):
    cases = cnn.lenet_cases({"tapegrad": tapegrad})
    floor, ours = losses(cases["numpy"], 4), losses(cases["tapegrad"], 4)
    assert floor[-1] < floor[0]           # the steps train: the same batch's loss goes down
    np.testing.assert_allclose(floor, ours, rtol=1e-4)


def test_resnet_floor_matches_tapegrad(cnn):
    cases = cnn.resnet_cases({"tapegrad": tapegrad}, batch=2)
    floor, ours = losses(cases["numpy"], 3), losses(cases["tapegrad"], 3)
    assert len(set(floor.tolist())) == 3       # the weights change from step to step
    np.testing.assert_allclose(floor, ours, rtol=1e-4)

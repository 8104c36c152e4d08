"""set_num_threads / get_num_threads drive the thread count of every OpenBLAS in the process."""
import numpy as np
import pytest
import scipy.linalg  # noqa: F401  (SciPy's own OpenBLAS is loaded too)

import tapegrad as tg
from tapegrad import threads


def test_set_num_threads_sets_every_blas():
    libraries = threads._blas_libraries()
    if not libraries:
        pytest.skip("no OpenBLAS loaded")
    before = tg.get_num_threads()
    try:
        for n in (1, 2):
            tg.set_num_threads(n)
            assert tg.get_num_threads() == n
            assert [get() for _, get in libraries] == [n] * len(libraries)
            a = np.ones((64, 64))
            np.testing.assert_array_equal(a @ a, 64 * a)      # BLAS still computes
    finally:
        tg.set_num_threads(before)


@pytest.mark.parametrize("bad, message", [(0, "positive integer"), (-2, "positive integer"),
                                          (1.5, "expects an int, but got float")])
def test_set_num_threads_rejects_what_pytorch_rejects(bad, message):
    before = tg.get_num_threads()
    with pytest.raises(RuntimeError, match=message):
        tg.set_num_threads(bad)
    assert tg.get_num_threads() == before

"""tapegrad keeps freed array memory for reuse (tapegrad/_malloc.py): buffers allocated and freed
every step, as in a training loop, stop faulting their pages in again. Measured by the page
faults a fresh interpreter takes, with the tuning and with it switched off."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STEPS = """
import ctypes
import resource
import numpy as np
import tapegrad

# Transparent huge pages off for this process (PR_SET_THP_DISABLE): where they are on for all
# memory, one fault maps 2 MiB and the counts would not tell reuse from fresh pages.
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)

def step():      # six 2 MiB activations alive at once, then all freed
    return [np.ones(1 << 19, np.float32) for _ in range(6)]

for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(**env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    full.update(env, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", STEPS], env=full, capture_output=True,
                         text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning")
def test_freed_buffers_are_reused():
    import tapegrad._malloc as m
    if not m.tune():
        pytest.skip("no glibc mallopt here")
    pages = 20 * 6 * (2 << 20) // os.sysconf("SC_PAGE_SIZE")
    assert page_faults() < pages // 20
    assert page_faults(TAPEGRAD_SYSTEM_MALLOC="1") > pages // 2      # the opt-out works ...
    assert page_faults(MALLOC_ARENA_MAX="2") > pages // 2           # ... as do MALLOC_ vars

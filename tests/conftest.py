import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    from hypothesis import settings
except ImportError:      # the modules that need it skip by themselves
    pass
else:
    # The same examples on every run and machine, and no per-example deadline (a wall-clock
    # limit a busy machine breaks). `--hypothesis-profile=default` brings back random draws.
    settings.register_profile("tapegrad", deadline=None, derandomize=True, database=None)
    settings.load_profile("tapegrad")

# pytest.importorskip("torch")'s reason, or an ImportError's text in a skip reason; torch or
# one of its submodules, not torchvision and the like
TORCH_MISSING = re.compile(r"(could not import|No module named) 'torch(\.[\w.]+)?'")


@pytest.fixture(autouse=True)
def _seed_global_generators():
    """Every test starts from the same global random state, whatever ran before it (torch's
    default seed is fixed too): a failure on random inputs happens on every run, or never."""
    for name in ("tapegrad", "torch"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "manual_seed"):
            module.manual_seed(0)


def _skip_reason(report):
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_terminal_summary(terminalreporter):
    """Say once, at the end, how many PyTorch parity tests did not run for lack of torch."""
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if TORCH_MISSING.search(_skip_reason(r))]
    if not skipped:
        return
    tests = sum(1 for r in skipped if not isinstance(r, pytest.CollectReport))
    files = sorted({r.nodeid for r in skipped if isinstance(r, pytest.CollectReport)})
    whole = f", and {len(files)} test file{'s' * (len(files) > 1)} whole ({', '.join(files)})" \
        if files else ""
    terminalreporter.write_line(
        f"tapegrad: {tests} PyTorch parity tests skipped{whole}: torch is not installed "
        f"(pip install torch==2.13.0 to run them)", yellow=True, bold=True)

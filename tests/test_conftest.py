"""tests/conftest.py: the one-line summary of the parity tests skipped without torch, and the
seed every test starts from."""
import os
import shutil
import subprocess
import sys

import tapegrad as tg

HERE = os.path.dirname(os.path.abspath(__file__))

PARITY = """
import pytest

def test_parity_a():
    pytest.importorskip("torch")

def test_parity_b():
    torch = pytest.importorskip("torch")

def test_other_optional_module():
    pytest.importorskip("no_such_module_for_tapegrad")

def test_plain():
    pass
"""

WHOLE = """
import pytest
torch = pytest.importorskip("torch")

def test_needs_torch():
    pass
"""


def run_suite(tmp_path, torch_source):
    """pytest on a two-file suite with tests/conftest.py, `import torch` running torch_source."""
    suite, fake = tmp_path / "suite", tmp_path / "fake" / "torch"
    suite.mkdir()
    fake.mkdir(parents=True)
    shutil.copy(os.path.join(HERE, "conftest.py"), suite / "conftest.py")
    (suite / "test_parity.py").write_text(PARITY)
    (suite / "test_whole.py").write_text(WHOLE)
    (fake / "__init__.py").write_text(torch_source)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake.parent), os.path.dirname(HERE)]))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "."],
                          cwd=suite, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "PyTorch parity" in line]


def test_tests_skipped_for_lack_of_torch_are_counted_once(tmp_path):
    lines = run_suite(tmp_path, "raise ModuleNotFoundError(\"No module named 'torch'\", "
                                "name='torch')\n")
    assert lines == ["tapegrad: 2 PyTorch parity tests skipped, and 1 test file whole "
                     "(test_whole.py): torch is not installed (pip install torch==2.13.0 to run "
                     "them)"]


def test_no_summary_when_torch_imports(tmp_path):
    assert run_suite(tmp_path, "") == []


def test_every_test_starts_from_the_same_seed():
    first = tg.randn(4).tolist()
    tg.manual_seed(0)
    assert tg.randn(4).tolist() == first

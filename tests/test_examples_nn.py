"""examples/train_digits.py and examples/finetune_resnet.py run as a user runs them (a fresh
interpreter, offline) and show what they claim: digits >= 97% test accuracy, frozen weights
unchanged while the new classifier learns."""
import os
import re
import subprocess
import sys

import pytest

import tapegrad
from tapegrad import models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, *args, env=None, path=(), cwd=ROOT):
    """Run examples/<name>; `path`: directories put first on PYTHONPATH."""
    full = dict(os.environ, **(env or {}))
    full["PYTHONPATH"] = os.pathsep.join([*path, ROOT] + [full.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    return subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args],
                          cwd=cwd, env=full, capture_output=True, text=True, timeout=300)


def hide_modules(tmp_path, *names):
    """A directory of stand-in packages that fail to import, as if never installed."""
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ImportError('no {name}')\n")
    return str(tmp_path)


def test_train_digits_reaches_97_percent(tmp_path):
    pytest.importorskip("sklearn")
    plot = tmp_path / "loss.png"
    proc = run_example("train_digits.py", "--plot", str(plot))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    final = re.search(r"final test accuracy ([\d.]+)%", proc.stdout)
    assert final and float(final.group(1)) >= 97.0, proc.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no loss plot" in proc.stdout
    else:
        assert plot.stat().st_size > 1000 and f"loss curve saved to {plot}" in proc.stdout


def test_train_digits_without_tqdm_and_matplotlib(tmp_path):
    pytest.importorskip("sklearn")
    hidden = hide_modules(tmp_path, "tqdm", "matplotlib")
    proc = run_example("train_digits.py", "--epochs", "1", "--plot", str(tmp_path / "p.png"),
                       path=[hidden])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "epoch  1:" in proc.stdout and "no loss plot" in proc.stdout
    assert not (tmp_path / "p.png").exists()


def test_train_digits_plots_outside_the_checkout_by_default(tmp_path):
    pytest.importorskip("sklearn")
    before = set(os.listdir(ROOT))
    proc = run_example("train_digits.py", "--epochs", "1", env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    new = set(os.listdir(ROOT)) - before
    assert not [name for name in new if name.endswith(".png")]     # no plot in the checkout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no loss plot" in proc.stdout
    else:
        plot = tmp_path / "tapegrad_digits.png"
        assert plot.stat().st_size > 1000 and f"loss curve saved to {plot}" in proc.stdout


def test_train_digits_without_sklearn(tmp_path):
    proc = run_example("train_digits.py", path=[hide_modules(tmp_path, "sklearn")])
    assert proc.returncode == 1
    assert "needs scikit-learn" in proc.stderr and "pip install scikit-learn" in proc.stderr
    assert "Traceback" not in proc.stderr


def finetune_checks(out):
    assert "parameters with gradients: ['fc.weight', 'fc.bias']" in out
    assert "frozen weights and statistics unchanged: True (120 tensors)" in out
    before, after = map(float, re.search(r"held-out loss: ([\d.]+) -> ([\d.]+) \(decreased\)",
                                         out).groups())
    assert after < before


def test_finetune_resnet_fresh_weights(tmp_path):
    env = {"TORCH_HOME": str(tmp_path / "torch"), "TAPEGRAD_HOME": str(tmp_path / "tg")}
    proc = run_example("finetune_resnet.py", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # tapegrad's own message, once: which checkpoint is missing and where it would be found
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("ResNet18_Weights.IMAGENET1K_V1: the checkpoint "
                               "resnet18-f37072fd.pth is not in the cache")
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in lines[0]
    assert lines[1] == "-> using freshly initialised weights"
    assert sum("resnet18-f37072fd.pth" in line for line in lines) == 1
    finetune_checks(proc.stdout)


def test_finetune_resnet_cached_weights(tmp_path):
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    tapegrad.manual_seed(3)
    tapegrad.save(models.resnet18().state_dict(), str(cache / "resnet18-f37072fd.pth"))
    env = {"TORCH_HOME": str(tmp_path / "torch"), "TAPEGRAD_HOME": str(tmp_path / "tg")}
    proc = run_example("finetune_resnet.py", "--steps", "4", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] == f"pretrained weights: {cache / 'resnet18-f37072fd.pth'}"
    assert "frozen weights and statistics unchanged: True" in proc.stdout

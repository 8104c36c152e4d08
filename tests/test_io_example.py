"""examples/load_torch_checkpoint.py runs as a user runs it and matches PyTorch's output."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_load_torch_checkpoint_example():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    script = os.path.join(ROOT, "examples", "load_torch_checkpoint.py")
    proc = subprocess.run([sys.executable, script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "0.weight: (8, 4) torch.float32" in lines and "2.bias: (3,) torch.float32" in lines
    diff = next(line for line in lines if line.startswith("max |tapegrad - PyTorch|"))
    assert float(diff.split(": ")[1]) < 1e-6
    assert "<All keys matched successfully>" in lines
    # PyTorch 2.13 prints the same three losses for the same fine-tuning of the same checkpoint
    losses = [line for line in lines if line.startswith("step ")]
    assert losses == ["step 0: loss 0.0478", "step 1: loss 0.0417", "step 2: loss 0.0326"]
    assert lines[-1] == "saved and reloaded 4 tensors unchanged: True"

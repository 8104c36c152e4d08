"""examples/tiny_transformer.py (a decoder-only character Transformer under a causal mask) runs
as a user runs it, its loss falls, and it samples text."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tiny_transformer_quick():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "tiny_transformer.py"),
                           "--quick"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "30/30" in proc.stderr               # the progress bar reached the end
    lines = proc.stdout.splitlines()
    first, last = next(line for line in lines if line.startswith("loss: first")).split(",")[:2]
    assert float(last.split()[1]) < float(first.split()[2]) - 0.5
    sample = lines[lines.index("sample:") + 1:]
    assert sample and sample[0].startswith("Beautiful is")

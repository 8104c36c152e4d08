"""The examples run as a user runs them (a fresh interpreter) and print what the tutorial prints."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name):
    env = dict(os.environ)
    # import the tapegrad of this checkout, installed or not
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout.splitlines()


def test_autograd_tutorial():
    lines = run_example("autograd_tutorial.py")
    # 9*a**2 == a.grad and -2*b == b.grad, after Q.backward(gradient=...) and after Q.sum()
    assert [line for line in lines if line.startswith("tensor([")][:4] == \
        ["tensor([True, True])"] * 4
    assert any(line.startswith("resnet18 training step done; loss was") for line in lines)
    assert "Parameters that got gradients: ['fc.weight', 'fc.bias']" in lines
    assert "Frozen conv1 unchanged: True" in lines
    assert "Does `a` require gradients?: False" in lines
    assert "Does `b` require gradients?: True" in lines
    assert "Inside no_grad, does `x + z` require gradients?: False" in lines
    frozen = next(line for line in lines if line.startswith("Recorded with the backbone frozen"))
    assert "Tanh" not in frozen and frozen.count("Backward0") == 2   # the matmul and the sum
    assert "backbone.grad: None, classifier.grad.shape: torch.Size([5, 2])" in lines
    tape = [line for line in lines if line.startswith("t") and " = " in line and "  # " in line]
    assert [t.split(" = ")[1].split("(")[0] for t in tape] == ["pow", "mul", "pow", "sub"]

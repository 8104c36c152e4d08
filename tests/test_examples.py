"""The examples run as a user runs them (a fresh interpreter) and print what the tutorial prints."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, **extra_env):
    env = dict(os.environ, **extra_env)
    # import the tapegrad of this checkout, installed or not
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout.splitlines()


def test_autograd_tutorial():
    lines = run_example("autograd_tutorial.py")
    # 9*a**2 == a.grad and -2*b == b.grad, after Q.backward(gradient=...) and after Q.sum(),
    # each labelled with what it compares
    checks = [line for line in lines if line.endswith(": tensor([True, True])")]
    assert checks == [f"after {how}, {what}: tensor([True, True])"
                      for how in ("Q.backward(gradient=external_grad)", "Q.sum().backward()")
                      for what in ("9*a**2 == a.grad", "-2*b == b.grad")]
    assert not any(line.startswith("tensor([") for line in lines)      # nothing unlabelled
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


def test_autograd_tutorial_says_once_that_the_weights_are_missing(tmp_path):
    lines = run_example("autograd_tutorial.py", TORCH_HOME=str(tmp_path / "torch"),
                        TAPEGRAD_HOME=str(tmp_path / "tg"))
    missing = [line for line in lines if "resnet18-f37072fd.pth is not in the cache" in line]
    assert len(missing) == 1 and missing[0].startswith("ResNet18_Weights.IMAGENET1K_V1: ")
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in missing[0]   # where to put it
    assert lines.count("-> using freshly initialised weights") == 1

"""Peak memory of one training step (LeNet, ResNet-18), per library, each in its own process.

    python bench/peak_memory.py LIBRARY WORKLOAD     # prints one JSON line

bench.py runs this once per library and workload and tabulates the results. With the model
built, the kernel's peak-RSS mark is reset (/proc/self/clear_refs, Linux) and three steps run:
the figure is the RSS high-water mark above the RSS before them, the memory that training needs
on top of the model (activations saved for backward, gradients, optimizer state, scratch). For
tapegrad and the NumPy floor, whose arrays tracemalloc sees, the tracemalloc peak of a fourth
step above the memory held before it is given too; PyTorch's buffers are invisible to
tracemalloc, so it has RSS only.
"""
import json
import os
import subprocess
import sys
import tracemalloc

import cnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = {"f": ("LeNet step, batch 64", lambda mods: cnn.lenet_cases(mods)),
             "g": ("ResNet-18 step, batch 1", lambda mods: cnn.resnet_cases(mods, 1)),
             "h": ("ResNet-18 step, batch 8", lambda mods: cnn.resnet_cases(mods, 8))}
LIBRARIES = {"numpy": "NumPy floor", "tapegrad": "tapegrad", "torch": "PyTorch"}


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"peak_memory: no {field} in /proc/self/status")


def measure(library, workload):
    """{"rss": bytes, "traced": bytes or None} for one step of `workload` in `library`."""
    import importlib
    mods = {"tapegrad": importlib.import_module("tapegrad")}   # its weights start every model
    if library == "torch":
        mods["torch"] = importlib.import_module("torch")
    step = WORKLOADS[workload][1](mods)[library]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")      # reset the peak-RSS mark (VmHWM) to the current RSS
    before = _status("VmRSS")
    for _ in range(3):
        step()
    rss = _status("VmHWM") - before
    traced = None
    if library != "torch":
        tracemalloc.start()
        held = tracemalloc.get_traced_memory()[0]
        step()
        traced = tracemalloc.get_traced_memory()[1] - held
        tracemalloc.stop()
    return {"rss": rss, "traced": traced}


def table(mods, only, errors):
    """Markdown rows: per workload in `only`, each installed library's step peak."""
    header = "| step | " + " | ".join(LIBRARIES.values()) + " |"
    rows = [header, "|" + "---|" * (len(LIBRARIES) + 1)]
    for letter, (label, _) in WORKLOADS.items():
        if letter not in only:
            continue
        cells = [f"{letter}) {label}: RSS peak above the built model (tracemalloc peak of a step)"]
        for library in LIBRARIES:
            if library != "numpy" and not mods.get(library):
                cells.append("n/a")
                continue
            try:
                got = json.loads(subprocess.run(
                    [sys.executable, os.path.abspath(__file__), library, letter],
                    capture_output=True, text=True, check=True, cwd=ROOT).stdout)
            except (subprocess.CalledProcessError, ValueError) as exc:
                errors.append(f"peak memory {letter}) / {library}: {exc}")
                cells.append("failed")
                continue
            cell = f"{got['rss'] / 2**20:.1f} MB"
            if got["traced"] is not None:
                cell += f" ({got['traced'] / 2**20:.1f} MB)"
            cells.append(cell)
        rows.append("| " + " | ".join(cells) + " |")
        print(f"peak memory {letter}): done", file=sys.stderr, flush=True)
    return rows


if __name__ == "__main__":
    sys.path.insert(0, ROOT)      # the working tree's tapegrad, installed or not
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))

"""tapegrad against hand-written NumPy (the floor), PyTorch CPU, HIPS autograd and MyGrad.

    python bench/bench.py [--quick] [--cpu-time] [--only LETTERS]

This file times and tabulates; workloads a) to e) are in workloads.py, the LeNet and ResNet-18
training steps f) to h) in cnn.py, their hand-written NumPy floor in numpy_cnn.py, the LSTM and
Transformer-encoder training steps i) and j) in seq.py, the LSTM's floor in numpy_seq.py. Every library
runs the same workloads in this one process; repeats are interleaved across libraries and the
median is reported. Libraries that are not installed are skipped. The Markdown table is printed
and written to bench/results/latest.md.

BLAS and PyTorch use every core by default. On a machine busy with other work, two-thread BLAS
calls slow down erratically: there, `OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python
bench/bench.py --cpu-time` times every library on one thread by the CPU time it used.
"""
import argparse
import gc
import importlib
import importlib.metadata
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np

import cnn
import peak_memory
import seq
from workloads import chain_cases, chain_forward_bytes, forwards_memory, hessian_cases, mlp_cases

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)   # benchmark the working tree, installed or not

LIBS = ("numpy", "tapegrad", "torch", "autograd", "mygrad")
TITLES = {"numpy": "NumPy floor", "tapegrad": "tapegrad", "torch": "PyTorch",
          "autograd": "HIPS autograd", "mygrad": "MyGrad"}


def load(name):
    """The library's module, or None when it is not installed."""
    try:
        mod = importlib.import_module(name)
        if name == "autograd":   # HIPS autograd, not some other package of that name
            importlib.import_module("autograd.numpy")
        return mod
    except ImportError:
        return None


# ---- timing and the table ----------------------------------------------------------------------
def measure(cases, number, repeat, warmup, errors, label, clock, collect):
    """Median seconds per call of each case; repeats interleaved across libraries.

    The cyclic GC stays on, as users run (a long graph's collections are part of its cost);
    a full collection before each library's turn keeps one library's garbage from being
    collected on another's clock. `collect=False` (--no-gc) turns it off while timing.
    """
    times = {}
    for name, fn in list(cases.items()):
        try:
            for _ in range(warmup):
                fn()
        except Exception as exc:   # an op a library lacks: report it, keep benchmarking
            errors.append(f"{label} / {TITLES[name]}: {type(exc).__name__}: {exc}")
            del cases[name]
            continue
        times[name] = []
    for _ in range(repeat):
        for name, fn in cases.items():
            gc.collect()
            if not collect:
                gc.disable()
            try:
                t0 = clock()
                for _ in range(number):
                    fn()
                times[name].append((clock() - t0) / number)
            finally:
                gc.enable()
    return {name: statistics.median(ts) for name, ts in times.items()}


def row(label, medians, scale, unit, fmt="{:.2f}"):
    cells = [label]
    for name in LIBS:
        cells.append(fmt.format(medians[name] * scale) + f" {unit}" if name in medians else "n/a")
    tg = medians.get("tapegrad")
    for ref in ("numpy", "torch"):
        ok = tg is not None and medians.get(ref)
        cells.append(f"{tg / medians[ref]:.2f}x" if ok else "—")
    return cells


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:   # tapegrad run from a plain checkout
        return getattr(sys.modules.get(dist), "__version__", "?")


# The two ways each workload is timed, in this order, in one run: as users run (BLAS and
# PyTorch with their default thread counts, wall clock), and one thread by CPU time (a fair
# per-core comparison on a machine other jobs are using).
SETTINGS = {"default": ("default threads, wall clock", None, time.perf_counter),
            "1thread": ("1 thread, CPU time", 1, time.process_time)}


def set_threads(mods, n, defaults):
    """Every BLAS in the process (through tapegrad) and PyTorch's pool to n threads (None:
    back to what they had)."""
    tg, torch = mods["tapegrad"], mods.get("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # no OpenBLAS loaded: nothing to set
        tg.set_num_threads(n or defaults["blas"])
    if torch:
        torch.set_num_threads(n or defaults["torch"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats: a few minutes")
    ap.add_argument("--settings", default="default,1thread", metavar="LIST",
                    help="timings to take, in order: default (threads, wall clock) and/or "
                         "1thread (CPU time)")
    ap.add_argument("--no-gc", action="store_true",
                    help="disable the cyclic GC while timing (as timeit does)")
    ap.add_argument("--no-memory", action="store_true",
                    help="skip the peak-memory table (one subprocess per library and step)")
    ap.add_argument("--only", default="abcdefghij", metavar="LETTERS",
                    help="run only these workloads, e.g. --only fgh")
    args = ap.parse_args()
    q = args.quick
    settings = args.settings.split(",")
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        sys.exit(f"bench: unknown --settings {sorted(unknown)}; choose from {list(SETTINGS)}")
    mods = {name: load(name) for name in LIBS[1:]}
    tg = mods["tapegrad"]
    if tg is None:
        sys.exit("bench: tapegrad cannot be imported")
    defaults = {"blas": tg.get_num_threads(),
                "torch": mods["torch"].get_num_threads() if mods.get("torch") else None}
    errors, notes = [], []
    tables = {name: [] for name in settings}

    def bench(label, cases, number, repeat, warmup, scale, unit):
        if label[0] not in args.only:
            return
        for name in settings:
            title, threads, clock = SETTINGS[name]
            set_threads(mods, threads, defaults)
            t0 = time.perf_counter()
            med = measure(cases, number, repeat, warmup, errors, label, clock, not args.no_gc)
            print(f"{label} [{title}]: {time.perf_counter() - t0:.1f} s", file=sys.stderr,
                  flush=True)
            tables[name].append(row(label, med, scale, unit))
        set_threads(mods, None, defaults)

    def add_row(cells):
        for name in settings:
            tables[name].append(cells)

    bench("a) 200 small elementwise ops (16 float64), fwd+bwd", chain_cases(mods, 200, 16),
          number=10 if q else 40, repeat=3 if q else 9, warmup=3, scale=1e6 / 200, unit="µs/op")
    bench("b) MLP step 784-512-256-10, batch 128, float32, SGD", mlp_cases(mods, train=True),
          number=2 if q else 5, repeat=3 if q else 9, warmup=2, scale=1e3, unit="ms")
    n = 20_000 if q else 100_000
    bench(f"c) {n:,}-op chain on a 1-element array, fwd+bwd", chain_cases(mods, n, 1),
          number=1, repeat=1 if q else 3, warmup=0, scale=1e6 / n, unit="µs/op")
    if "c" in args.only:
        per_op = chain_forward_bytes(tg, n)
        add_row(["c) memory per op of that chain (tracemalloc peak of the forward)", "—",
                 f"{per_op:.0f} B/op"] + ["—"] * (len(LIBS) - 2) + ["—", "—"])
    bench("d) Hessian of sum(tanh(W@x)**2), x in R^50", hessian_cases(mods),
          number=2 if q else 5, repeat=3 if q else 9, warmup=2, scale=1e3, unit="ms")

    if "e" in args.only:
        t0 = time.perf_counter()
        add_row(forwards_row(mods, 300 if q else 1000, errors, notes))
        print(f"e) forwards: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

    def cnn_bench(label, build, number, repeat):
        if label[0] not in args.only:
            return
        cases = build()
        cnn.first_losses(cases, label, notes, errors)
        bench(label, cases, number, repeat, warmup=1, scale=1e3, unit="ms")

    cnn_bench(f"f) LeNet step, batch {cnn.LENET_BATCH}, 1x28x28, float32, SGD",
              lambda: cnn.lenet_cases(mods), number=3 if q else 10, repeat=3 if q else 9)
    for batch in (1, 8):
        cnn_bench(f"{'g' if batch == 1 else 'h'}) ResNet-18 step (autograd tutorial), "
                  f"batch {batch}, 3x64x64, SGD momentum", lambda: cnn.resnet_cases(mods, batch),
                  number=1 if q else 2, repeat=3 if q else 9)
    cnn_bench(f"i) LSTM step, {seq.LSTM_LAYERS} layers, input {seq.LSTM_IN}, hidden "
              f"{seq.LSTM_HIDDEN}, batch {seq.LSTM_BATCH}, seq {seq.LSTM_SEQ}, MSE, SGD",
              lambda: seq.lstm_cases(mods), number=1 if q else 2, repeat=3 if q else 9)
    cnn_bench(f"j) Transformer encoder step, {seq.TF_LAYERS} layers, d_model {seq.TF_DMODEL}, "
              f"{seq.TF_HEADS} heads, ff {seq.TF_FF}, batch {seq.TF_BATCH}, seq {seq.TF_SEQ}, "
              "cross-entropy, SGD", lambda: seq.transformer_cases(mods),
              number=1 if q else 2, repeat=3 if q else 9)
    for rows in tables.values():
        if rows and rows[-1][0].startswith("j)"):
            rows[-1][1] = "—"   # no hand-written NumPy floor for the Transformer

    memory = [] if args.no_memory else peak_memory.table(mods, args.only, errors)
    text = render(tables, memory, mods, q, not args.no_gc, notes, errors)
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "latest.md"), "w") as f:
        f.write(text)


def forwards_row(mods, n, errors, notes):
    """e): memory growth over `n` forwards kept by nobody, per library."""
    cells = [f"e) {n:,} MLP forwards without backward/no_grad: memory growth"]
    fwd_cases = mlp_cases(mods, train=False)
    for name in LIBS:
        if name not in fwd_cases:
            cells.append("n/a")
            continue
        try:
            marks, tape_len = forwards_memory(name, fwd_cases[name], n, mods["tapegrad"])
        except Exception as exc:   # an op a library lacks: report it, keep benchmarking
            errors.append(f"e) / {TITLES[name]}: {type(exc).__name__}: {exc}")
            cells.append("failed")
            continue
        growth = marks[-1] - marks[0]
        cells.append("flat" if growth < 1 << 20 else f"+{growth / 2**20:.1f} MB")
        how = "RSS" if name == "torch" else "tracemalloc"
        notes.append(f"e) {TITLES[name]}: {how} after forwards 10/{n // 2}/{n}: "
                     + " / ".join(f"{m / 2**20:.2f} MB" for m in marks)
                     + (f"; tape length {' / '.join(map(str, tape_len))}" if tape_len else ""))
    return cells + ["—", "—"]


def render(tables, memory, mods, quick, collect, notes, errors):
    header = ["workload"] + [TITLES[n] for n in LIBS] + ["tapegrad/floor", "tapegrad/PyTorch"]
    lines = []
    for name, rows in tables.items():
        lines += [f"### {SETTINGS[name][0]}", "",
                  "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows] + [""]
    if memory:
        lines += ["### peak memory of one training step", ""] + memory + [""]
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"] + [
        f"{TITLES[n]} {_version(n)}" for n, m in mods.items() if m]
    threads = ", ".join(f"{v}={os.environ[v]}" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                        if v in os.environ) or "default thread counts"
    lines += [f"Machine: {platform.machine()}, {os.cpu_count()} cores, {threads} at start; "
              + ", ".join(versions) + (" (--quick)" if quick else "") + "."]
    lines += [f"Medians of {3 if quick else 9} interleaved repeats (c: "
              + ("1, 20,000 ops instead of 100,000" if quick else "3") + "); the cyclic GC "
              + ("on, as users run." if collect else "off while timing (--no-gc).")]
    missing = [TITLES[n] for n, m in mods.items() if m is None]
    if missing:
        lines.append("Not installed, skipped: " + ", ".join(missing) + ".")
    lines += [""] + [f"- {n}" for n in notes] + [f"- failed: {e}" for e in errors]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

"""tapegrad against hand-written NumPy (the floor), PyTorch CPU, HIPS autograd and MyGrad.

    python bench/bench.py [--quick] [--cpu-time] [--only LETTERS]

Workloads a) to e) are here; the LeNet and ResNet-18 training steps f) to h) are in cnn.py,
their hand-written NumPy floor in numpy_cnn.py. Every library runs the same workloads in this
one process; repeats are interleaved across libraries and the median is reported. Libraries that are not installed are skipped. The
Markdown table is printed and written to bench/results/latest.md.

BLAS and PyTorch use every core by default. On a machine busy with other work, two-thread BLAS
calls slow down erratically: there, `OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python
bench/bench.py --cpu-time` times every library on one thread by the CPU time it used.
"""
import argparse
import gc
import importlib
import importlib.metadata
import itertools
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

import cnn

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


# ---- a) and c): a chain of small elementwise ops -----------------------------------------------
def chain_cases(mods, n, size):
    """One fwd+bwd through `n` ops cycling mul-by-const, add, sin, tanh, sub, per library.

    `n` is a multiple of 5; the floor differentiates the five-op block by hand.
    """
    rng = np.random.default_rng(0)
    x0, c = rng.uniform(-1, 1, size), rng.uniform(-0.5, 0.5, size)
    cases = {}

    def numpy_run():
        # The same chain written out by hand in blocks of five ops, saving what backward reads.
        v, saved = x0, []
        for _ in range(n // 5):
            b = v * 1.1 + c
            t = np.tanh(np.sin(b))
            saved.append((b, t))
            v = t - 0.3
        g = np.ones(size)
        for b, t in reversed(saved):
            g = g * (1 - t * t) * np.cos(b) * 1.1
        return g
    cases["numpy"] = numpy_run

    for name in ("tapegrad", "torch"):
        if mods.get(name):
            cases[name] = _torchlike_chain(mods[name], x0, c, n)
    if mods.get("autograd"):
        import autograd.numpy as anp
        from autograd import make_vjp
        seq, ones = _chain(anp, c, n), np.ones(size)
        cases["autograd"] = lambda: make_vjp(lambda v: _run_chain(seq, v))(x0)[0](ones)
    if mods.get("mygrad"):
        cases["mygrad"] = _mygrad_chain(mods["mygrad"], x0, c, n)
    return cases


def _chain(M, c, n):
    """The n ops, for a library `M` with NumPy-like `sin` and `tanh` and constant `c`."""
    ops = [lambda v: v * 1.1, lambda v: v + c, M.sin, M.tanh, lambda v: v - 0.3]
    return [ops[i % 5] for i in range(n)]


def _run_chain(seq, v):
    for op in seq:
        v = op(v)
    return v


def _torchlike_chain(T, x0, c, n):
    """The chain written once for tapegrad and PyTorch (same API)."""
    x = T.tensor(x0, requires_grad=True)
    seq, ones = _chain(T, T.tensor(c), n), T.tensor(np.ones_like(x0))

    def run():
        _run_chain(seq, x).backward(gradient=ones)
        x.grad = None
    return run


def _mygrad_chain(mg, x0, c, n):
    x, seq, ones = mg.tensor(x0), _chain(mg, c, n), np.ones_like(x0)

    def run():
        _run_chain(seq, x).backward(ones)
        return x.grad
    return run


def chain_forward_bytes(tg, n):
    """tracemalloc peak while tapegrad records an n-op chain on one element, per op."""
    x = tg.tensor(np.array([0.5]), requires_grad=True)
    seq = _chain(tg, tg.tensor(np.array([0.1])), n)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    v = _run_chain(seq, x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del v
    return (peak - base) / n


# ---- b) and e): an MLP 784-512-256-10 ----------------------------------------------------------
BATCH, SIZES, LR = 128, (784, 512, 256, 10), 0.01


def mlp_data():
    rng = np.random.default_rng(1)
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        bound = 1 / np.sqrt(fan_in)   # PyTorch's nn.Linear default range
        params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                   rng.uniform(-bound, bound, fan_out).astype(np.float32)]
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    return params, x, y


def _torchlike_loss(T, params, x, y, rows):
    W1, b1, W2, b2, W3, b3 = params
    h = T.relu(x @ W1 + b1)
    h = T.relu(h @ W2 + b2)
    logp = T.log_softmax(h @ W3 + b3, dim=1)
    return -logp[rows, y].mean()


def mlp_cases(mods, train):
    """One SGD step (train) or one forward to the loss (not train), per library."""
    params0, x0, y0 = mlp_data()
    rows0 = np.arange(BATCH)
    cases = {}

    P = [p.copy() for p in params0]

    def numpy_run():
        W1, b1, W2, b2, W3, b3 = P
        h1 = x0 @ W1 + b1
        r1 = np.maximum(h1, 0)
        h2 = r1 @ W2 + b2
        r2 = np.maximum(h2, 0)
        z = r2 @ W3 + b3
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = -(z[rows0, y0] - np.log(s[:, 0])).mean()
        if not train:
            return loss
        dz = e / s                       # d(loss)/dz = (softmax - onehot) / batch
        dz[rows0, y0] -= 1
        dz /= BATCH
        dr2 = dz @ W3.T
        dh2 = dr2 * (h2 > 0)
        dr1 = dh2 @ W2.T
        dh1 = dr1 * (h1 > 0)
        grads = (x0.T @ dh1, dh1.sum(0), r1.T @ dh2, dh2.sum(0), r2.T @ dz, dz.sum(0))
        for p, g in zip(P, grads):
            p -= LR * g
        return loss
    cases["numpy"] = numpy_run

    for name in ("tapegrad", "torch"):
        T = mods.get(name)
        if T is None:
            continue
        params = [T.tensor(p.copy(), requires_grad=True) for p in params0]
        x, y, rows = T.tensor(x0), T.tensor(y0), T.tensor(rows0)

        def run(T=T, params=params, x=x, y=y, rows=rows):
            loss = _torchlike_loss(T, params, x, y, rows)
            if train:
                loss.backward()
                with T.no_grad():
                    for p in params:
                        p -= LR * p.grad
                        p.grad = None
            return loss
        cases[name] = run

    if mods.get("autograd"):
        import autograd
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp
        AP = [p.copy() for p in params0]

        def loss_fn(params):
            W1, b1, W2, b2, W3, b3 = params
            h = anp.maximum(x0 @ W1 + b1, 0)
            h = anp.maximum(h @ W2 + b2, 0)
            z = h @ W3 + b3
            logp = z - logsumexp(z, axis=1, keepdims=True)
            return -anp.mean(logp[rows0, y0])
        grad_fn = autograd.grad(loss_fn)

        def autograd_run():
            if not train:
                return loss_fn(AP)
            for p, g in zip(AP, grad_fn(AP)):
                p -= LR * g
        cases["autograd"] = autograd_run

    if mods.get("mygrad"):
        mg = mods["mygrad"]
        from mygrad.nnet import logsoftmax, relu
        MP = [mg.tensor(p.copy()) for p in params0]

        def mygrad_run():
            W1, b1, W2, b2, W3, b3 = MP
            h = relu(x0 @ W1 + b1)
            h = relu(h @ W2 + b2)
            logp = logsoftmax(h @ W3 + b3, axis=1)
            loss = -logp[rows0, y0].mean()
            if train:
                loss.backward()
                for p in MP:
                    p.data -= LR * p.grad
            return loss
        cases["mygrad"] = mygrad_run
    return cases


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def forwards_memory(name, run, n, tg):
    """Run `n` forwards keeping none; memory (and tapegrad's tape length) at start/middle/end.

    tracemalloc sees NumPy's buffers but not PyTorch's, so PyTorch is measured by RSS.
    """
    use_rss = name == "torch"
    marks, tape_len = [], []
    gc.collect()
    if not use_rss:
        tracemalloc.start()
    for i in range(n):
        run()
        if i in (9, n // 2 - 1, n - 1):   # start after 10 forwards: caches and arenas settle
            marks.append(_rss_bytes() if use_rss else tracemalloc.get_traced_memory()[0])
            if name == "tapegrad":
                tape_len.append(len(tg.tape.global_tape()))
    if not use_rss:
        tracemalloc.stop()
    return marks, tape_len


# ---- d) Hessian of sum(tanh(W @ x) ** 2), x in R^50 ---------------------------------------------
def hessian_cases(mods, n=50):
    rng = np.random.default_rng(2)
    W0, x0 = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)

    def numpy_run():
        t = np.tanh(W0 @ x0)
        d = 2 * (1 - t * t) * (1 - 3 * t * t)   # second derivative of tanh(u)**2
        return (W0.T * d) @ W0
    cases = {"numpy": numpy_run}
    for name in ("tapegrad", "torch"):
        T = mods.get(name)
        if T is None:
            continue
        W, x = T.tensor(W0), T.tensor(x0)

        def run(T=T, W=W, x=x):
            hessian = importlib.import_module(T.__name__ + ".autograd.functional").hessian
            return hessian(lambda v: (T.tanh(W @ v) ** 2).sum(), x)
        cases[name] = run
    if mods.get("autograd"):
        import autograd
        import autograd.numpy as anp
        H = autograd.hessian(lambda v: anp.sum(anp.tanh(W0 @ v) ** 2))
        cases["autograd"] = lambda: H(x0)
    return cases


# ---- timing and the table ----------------------------------------------------------------------
def measure(cases, number, repeat, warmup, errors, label, clock):
    """Median seconds per call of each case; repeats interleaved across libraries."""
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
        gc.collect()
        gc.disable()     # as timeit does: a collection triggered by one library's garbage
        try:             # would otherwise be charged to whichever library runs next
            for name, fn in cases.items():
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats: under a minute")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time by this process's CPU time, not wall-clock time")
    ap.add_argument("--only", default="abcdefgh", metavar="LETTERS",
                    help="run only these workloads, e.g. --only fgh")
    args = ap.parse_args()
    q = args.quick
    clock = time.process_time if args.cpu_time else time.perf_counter
    mods = {name: load(name) for name in LIBS[1:]}
    tg = mods["tapegrad"]
    if tg is None:
        sys.exit("bench: tapegrad cannot be imported")
    errors, rows, notes = [], [], []

    def bench(label, cases, number, repeat, warmup, scale, unit):
        if label[0] not in args.only:
            return
        t0 = time.perf_counter()
        med = measure(cases, number, repeat, warmup, errors, label, clock)
        print(f"{label}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        rows.append(row(label, med, scale, unit))

    bench("a) 200 small elementwise ops (16 float64), fwd+bwd", chain_cases(mods, 200, 16),
          number=10 if q else 40, repeat=3 if q else 9, warmup=3, scale=1e6 / 200, unit="µs/op")
    bench("b) MLP step 784-512-256-10, batch 128, float32, SGD", mlp_cases(mods, train=True),
          number=2 if q else 5, repeat=3 if q else 9, warmup=2, scale=1e3, unit="ms")
    n = 20_000 if q else 100_000
    bench(f"c) {n:,}-op chain on a 1-element array, fwd+bwd", chain_cases(mods, n, 1),
          number=1, repeat=1 if q else 3, warmup=0, scale=1e6 / n, unit="µs/op")
    if "c" in args.only:
        per_op = chain_forward_bytes(tg, n)
        rows.append(["c) memory per op of that chain (tracemalloc peak of the forward)", "—",
                     f"{per_op:.0f} B/op"] + ["—"] * (len(LIBS) - 2) + ["—", "—"])
    bench("d) Hessian of sum(tanh(W@x)**2), x in R^50", hessian_cases(mods),
          number=2 if q else 5, repeat=3 if q else 9, warmup=2, scale=1e3, unit="ms")

    if "e" in args.only:
        t0 = time.perf_counter()
        rows.append(forwards_row(mods, 300 if q else 1000, errors, notes))
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

    text = render(rows, mods, q, "CPU" if args.cpu_time else "wall-clock", notes, errors)
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


def render(rows, mods, quick, clock, notes, errors):
    header = ["workload"] + [TITLES[n] for n in LIBS] + ["tapegrad/floor", "tapegrad/PyTorch"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"] + [
        f"{TITLES[n]} {_version(n)}" for n, m in mods.items() if m]
    threads = ", ".join(f"{v}={os.environ[v]}" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                        if v in os.environ) or "default thread counts"
    lines += ["", f"Machine: {platform.machine()}, {os.cpu_count()} cores, {threads}; "
              + ", ".join(versions) + (" (--quick)" if quick else "") + "."]
    lines += [f"Medians of {3 if quick else 9} interleaved repeats of {clock} time (c: "
              + ("1, 20,000 ops instead of 100,000" if quick else "3") + ")."]
    missing = [TITLES[n] for n, m in mods.items() if m is None]
    if missing:
        lines.append("Not installed, skipped: " + ", ".join(missing) + ".")
    lines += [""] + [f"- {n}" for n in notes] + [f"- failed: {e}" for e in errors]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

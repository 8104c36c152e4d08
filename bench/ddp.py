"""DistributedDataParallel on 1 and 2 ranks: the MLP (784-512-256-10, batch 128 per rank) and
LeNet (batch 64 per rank) training steps of bench.py, weak scaling (the batch per rank stays).

    python bench/ddp.py [--ranks 1 2] [--steps 20]

Launches itself under mpiexec once per rank count and prints a Markdown table:
- step: wall time of one SGD step (forward, backward with DDP, optimizer), slowest rank;
- comm: time in DDP's communication calls (packing + starting buckets during backward, and
  the end-of-backward wait + unpacking);
- exposed: the part of it after the replay (the end-of-backward wait), which is what
  communication adds to the step when it is not hidden;
- alone: one blocking all-reduce of all gradients (the cost with no overlap at all);
- overlap: 1 - exposed / alone, the share of that cost the replay hid;
- efficiency: step on 1 rank without DDP / step on n ranks (weak scaling: 1.0 is perfect).
Oversubscribed machines (more ranks than cores) measure contention, not communication.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import tapegrad as tg  # noqa: E402
import tapegrad.distributed as dist  # noqa: E402
from tapegrad import nn  # noqa: E402
from tapegrad.distributed.run import find_mpiexec  # noqa: E402
from tapegrad.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

import cnn  # noqa: E402


def workloads():
    """{name: (model factory, input shape, per-rank batch)}."""
    def mlp():
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    return {"MLP 784-512-256-10": (mlp, (784,), 128),
            "LeNet 1x28x28": (lambda: cnn.lenet(tg), (1, 28, 28), cnn.LENET_BATCH)}


def timed(fn, totals, key):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start
    return wrapper


def measure(make, shape, batch, steps, use_ddp):
    """Mean seconds per step and of its communication parts, on this rank."""
    rng = np.random.default_rng(dist.get_rank())
    x = tg.from_numpy(rng.standard_normal((batch,) + shape).astype(np.float32))
    y = tg.from_numpy(rng.integers(0, 10, batch))
    tg.manual_seed(0)
    model = make()
    totals = {"launch": 0.0, "wait": 0.0}
    if use_ddp:
        model = DDP(model)
        model._start_ready_buckets = timed(model._start_ready_buckets, totals, "launch")
        model._finish_backward = timed(model._finish_backward, totals, "wait")
    opt = tg.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    totals.update(launch=0.0, wait=0.0)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = time.perf_counter() - start
    flat = tg.zeros(sum(p.numel() for p in model.parameters()))
    dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        dist.all_reduce(flat)
    alone = (time.perf_counter() - start) / steps
    return {"step": elapsed / steps, "launch": totals["launch"] / steps,
            "wait": totals["wait"] / steps, "alone": alone, "bytes": flat.numel() * 4}


def worker(steps, out):
    """Run under mpiexec: measure every workload, rank 0 writes the slowest rank's numbers."""
    dist.init_process_group("mpi")
    results = {}
    for name, (make, shape, batch) in workloads().items():
        for use_ddp in ((False, True) if dist.get_world_size() == 1 else (True,)):
            mine = measure(make, shape, batch, steps, use_ddp)
            every = [None] * dist.get_world_size()
            dist.all_gather_object(every, mine)
            slowest = max(every, key=lambda r: r["step"])
            results[f"{name}|{use_ddp}"] = dict(slowest, batch=batch)
    if dist.get_rank() == 0:
        with open(out, "w") as f:
            json.dump(results, f)
    dist.destroy_process_group()


def table(by_ranks):
    rows = ["| workload | ranks | batch/rank | step ms | comm ms | exposed ms | alone ms | "
            "overlap | efficiency | grad MB |", "|" + "---|" * 10]
    for name in workloads():
        base = by_ranks[1][f"{name}|False"]["step"]
        rows.append(f"| {name} | 1 (no DDP) | {by_ranks[1][f'{name}|False']['batch']} | "
                    f"{base * 1e3:.2f} | - | - | - | - | 1.00 | - |")
        for n, results in sorted(by_ranks.items()):
            r = results[f"{name}|True"]
            overlap = 1 - r["wait"] / r["alone"] if r["alone"] > 0 else float("nan")
            rows.append(f"| {name} | {n} | {r['batch']} | {r['step'] * 1e3:.2f} | "
                        f"{(r['launch'] + r['wait']) * 1e3:.2f} | {r['wait'] * 1e3:.2f} | "
                        f"{r['alone'] * 1e3:.2f} | {max(overlap, 0):.0%} | "
                        f"{base / r['step']:.2f} | {r['bytes'] / 1e6:.2f} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.steps, args.worker)
    mpiexec = find_mpiexec()
    if mpiexec is None:
        sys.exit("bench/ddp.py needs mpiexec: pip install 'tapegrad[distributed]'")
    by_ranks, ranks = {}, sorted(set(args.ranks) | {1})
    # the same BLAS threads per rank in every run (cores / most ranks): weak scaling compares
    # a rank's work with one rank's, not with a process that had every core to itself
    threads = str(max(1, (os.cpu_count() or 1) // ranks[-1]))
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads)
    for n in ranks:
        out = os.path.join(HERE, "results", f".ddp_{n}.json")
        subprocess.run([mpiexec, "-n", str(n), sys.executable, __file__, "--steps",
                        str(args.steps), "--worker", out], check=True, env=env)
        with open(out) as f:
            by_ranks[n] = json.load(f)
        os.remove(out)
    print(f"{os.cpu_count()} CPU cores, {threads} BLAS thread(s) per rank; {args.steps} steps "
          "per measurement\n")
    print(table(by_ranks))


if __name__ == "__main__":
    main()

"""tapegrad.distributed, DistributedDataParallel and DistributedSampler.

The MPI checks launch real jobs (`mpiexec -n 2` and `-n 3`, scripts in tests/distributed_jobs,
each batching many checks); they skip, saying why, without mpi4py or mpiexec. The rest runs
in-process without MPI: the post-accumulate-grad hook DDP is built on, the end-of-backward
callbacks, errors before init, the sampler, the launcher's command line.
"""
import importlib.util
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.distributed as dist
from tapegrad._state import state
from tapegrad.distributed import run as launcher
from tapegrad.nn.parallel.distributed import assign_buckets
from tapegrad.utils.data import DistributedSampler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOBS = os.path.join(ROOT, "tests", "distributed_jobs")
MPIEXEC = launcher.find_mpiexec()
needs_mpi = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
    reason="needs mpi4py and an mpiexec: pip install 'tapegrad[distributed]'")


def launch(args, n=2, env=None, timeout=120):
    """Run `args` (a script and its arguments) on n ranks; the CompletedProcess."""
    full = dict(os.environ, **(env or {}))
    full["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, full.get("PYTHONPATH")]))
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *args], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=timeout)


def passed(proc, marker, n):
    assert proc.returncode == 0, f"job failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.count(marker) == n, proc.stdout


# ---- the jobs ------------------------------------------------------------------------------
@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_every_collective_matches_numpy_and_debug_mode_reports_mismatches(n):
    proc = launch([os.path.join(JOBS, "collectives_job.py")], n=n)
    passed(proc, "collectives ok", n)
    assert proc.stdout.count("debug ok") == n     # mismatched shapes: a clear error everywhere


@needs_mpi
def test_ddp_equals_one_process_overlaps_and_accumulates():
    # N steps on 2 ranks == one process on the concatenated batch; buckets start during the
    # replay; no_sync; find_unused_parameters; buffers; state_dict keys (see the job)
    passed(launch([os.path.join(JOBS, "ddp_job.py")]), "ddp ok", 2)


@needs_mpi
def test_a_raising_rank_ends_the_job_through_the_launcher():
    full = dict(os.environ, PYTHONPATH=ROOT)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "tapegrad.distributed.run", "-n", "2",
                           "--mpiexec", MPIEXEC, os.path.join(JOBS, "fault_job.py")], cwd=ROOT,
                          env=full, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert time.monotonic() - start < 60
    assert "passed the barrier" not in proc.stdout
    assert proc.stderr.count("ValueError: rank one fails on purpose") == 1, proc.stderr
    assert "rank 1 raised; aborting the job" in proc.stderr


@needs_mpi
@pytest.mark.parametrize("form", ["mpiexec", "launcher"])
def test_example_train_ddp_runs_with_both_launch_forms(form, tmp_path):
    pytest.importorskip("sklearn", reason="the example trains on sklearn's digits (the test "
                        "extra installs it)")
    env = {"PYTHONPATH": ROOT}
    script = [os.path.join(ROOT, "examples", "train_ddp.py"), "--epochs", "1",
              "--save", str(tmp_path / "ddp.pt")]
    if form == "mpiexec":
        proc = launch(script, env=env, timeout=300)
    else:
        proc = subprocess.run([sys.executable, "-m", "tapegrad.distributed.run", "-n", "2",
                               *script], cwd=ROOT, env=dict(os.environ, **env),
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert "parameters identical on all ranks: True" in proc.stdout
    assert proc.stdout.count("epoch  1:") == 1, "only rank 0 prints"
    saved = tg.load(str(tmp_path / "ddp.pt"))
    assert list(saved)[0] == "module.0.weight"


# ---- without MPI ---------------------------------------------------------------------------
def test_import_tapegrad_does_not_start_mpi():
    code = ("import sys, tapegrad; print('mpi4py.MPI' in sys.modules, "
            "tapegrad.distributed.is_initialized(), "
            "tapegrad.nn.parallel.DistributedDataParallel.__name__, "
            "tapegrad.utils.data.distributed.DistributedSampler.__name__)")
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=ROOT),
                         capture_output=True, text=True, timeout=60).stdout.split()
    assert out == ["False", "False", "DistributedDataParallel", "DistributedSampler"]


def test_collectives_before_init_raise_pytorchs_message():
    message = "Default process group has not been initialized"
    for call in (lambda: dist.all_reduce(tg.ones(2)), lambda: dist.broadcast(tg.ones(2), 0),
                 lambda: dist.get_rank(), lambda: dist.get_world_size(), dist.barrier,
                 dist.destroy_process_group, lambda: dist.all_gather_object([None], 1),
                 lambda: tg.nn.parallel.DistributedDataParallel(tg.nn.Linear(2, 2)),
                 lambda: DistributedSampler(range(4))):
        with pytest.raises(RuntimeError, match=message):
            call()
    assert not dist.is_initialized()


def test_init_without_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setattr(dist.process_group, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"pip install 'tapegrad\[distributed\]'"):
        dist.init_process_group()
    with pytest.raises(ValueError, match="backend 'nccl' is not available"):
        dist.init_process_group(backend="nccl")
    assert dist.is_available() == (importlib.util.find_spec("mpi4py") is not None)


def test_launcher_command_line(monkeypatch, capsys):
    options = launcher.parse(["-n", "4", "train.py", "--lr", "0.1", "-n", "9"])
    assert launcher.command(options, "mpiexec") == \
        ["mpiexec", "-n", "4", sys.executable, "train.py", "--lr", "0.1", "-n", "9"]
    options = launcher.parse(["--nproc_per_node", "2", "-m", "pkg.train"])
    assert launcher.command(options, "/x/mpiexec")[3:] == [sys.executable, "-m", "pkg.train"]
    monkeypatch.setattr(launcher, "find_mpiexec", lambda: None)
    assert launcher.main(["-n", "2", "train.py"]) == 127
    assert "tapegrad[distributed]" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        launcher.parse(["-n", "0", "train.py"])


def test_buckets_in_reverse_order_by_size_and_dtype():
    ps = [tg.zeros(n, dtype=d) for n, d in [(100, tg.float32), (50, tg.float64),
                                            (300, tg.float32), (10, tg.float32)]]
    buckets = assign_buckets(ps, cap_bytes=2000, first_cap_bytes=40)
    ids = [[next(i for i, p in enumerate(ps) if p is q) for q in b] for b in buckets]
    # reversed: 3 (40 bytes close the first float32 bucket), 2 and 0 (1600 bytes, left open),
    # 1 (float64: a bucket of its own), ordered by their first parameter
    assert ids == [[3], [2, 0], [1]]


# ---- the sampler ---------------------------------------------------------------------------
@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                                    (3, 4, False), (7, 2, True)])
def test_distributed_sampler_partitions_exactly(n, replicas, drop_last):
    for shuffle in (False, True):
        shares = [list(DistributedSampler(range(n), replicas, r, shuffle=shuffle, seed=3,
                                          drop_last=drop_last)) for r in range(replicas)]
        sizes = {len(s) for s in shares}
        assert sizes == {len(DistributedSampler(range(n), replicas, 0, drop_last=drop_last))}
        together = sorted(i for s in shares for i in s)
        if drop_last:       # disjoint, each index at most once, the remainder dropped
            assert len(together) == len(set(together)) == (n // replicas) * replicas
        else:               # every index, padded by repeating the start of the order
            assert set(together) == set(range(n))
            assert len(together) == -(-n // replicas) * replicas


def test_distributed_sampler_shuffles_per_epoch_alike_on_every_rank():
    a, b = (DistributedSampler(range(20), 2, r, seed=1) for r in (0, 1))
    first = list(a) + list(b)
    assert sorted(first) == list(range(20)) and first != list(range(20))      # shuffled
    assert list(a) == list(DistributedSampler(range(20), 2, 0, seed=1))     # repeatable
    a.set_epoch(1)
    b.set_epoch(1)
    second = list(a) + list(b)
    assert sorted(second) == list(range(20)) and second != first
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(range(4), 2, 2)


def test_distributed_sampler_matches_torch_without_shuffle():
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for n, replicas, drop in [(10, 3, False), (10, 3, True), (2, 3, False), (9, 4, True)]:
        for r in range(replicas):
            assert list(DistributedSampler(range(n), replicas, r, shuffle=False,
                                           drop_last=drop)) == \
                list(TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop))
    assert torch is not None


# ---- the hooks DDP is built on -------------------------------------------------------------
def _post_hook_log(lib):
    w = lib.ones(3, requires_grad=True)
    b = lib.ones(3, requires_grad=True)
    log = []
    handle = w.register_post_accumulate_grad_hook(lambda p: log.append(("w", p.grad.tolist())))
    b.register_post_accumulate_grad_hook(lambda p: log.append(("b", p.grad.tolist())))
    ((w * 2).sum() + (b * w).sum()).backward()
    (w * 3).sum().backward()
    w.grad.zero_()
    (w * 3).sum().backward()
    handle.remove()
    (w * 3 + b).sum().backward()
    return log


def test_post_accumulate_grad_hook_order_remove_and_accumulation():
    log = _post_hook_log(tg)
    # once per backward, after accumulation, in replay order (b's last use is newest)
    assert log == [("b", [1.0] * 3), ("w", [3.0] * 3), ("w", [6.0] * 3), ("w", [3.0] * 3),
                   ("b", [2.0] * 3)]


def test_post_accumulate_grad_hook_matches_torch():
    torch = pytest.importorskip("torch")
    assert _post_hook_log(tg) == _post_hook_log(torch)


def test_post_accumulate_grad_hook_refuses_non_leaves_and_constants():
    x = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on "
                                           "non-leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.ones(2).register_post_accumulate_grad_hook(print)


def test_post_accumulate_grad_hook_runs_during_the_replay():
    # w1 is used first, so its gradient is final only at the end; w2's is final as soon as the
    # replay has passed its use, before the rule of the first layer runs
    w1 = tg.ones(3, requires_grad=True)
    w2 = tg.ones(3, requires_grad=True)
    events = []
    w2.register_post_accumulate_grad_hook(lambda p: events.append("w2 final"))
    w1.register_post_accumulate_grad_hook(lambda p: events.append("w1 final"))
    h = (w1 * 2).exp()
    h.register_hook(lambda g: events.append("replay reached h"))
    (h * w2).sum().backward()
    assert events == ["w2 final", "replay reached h", "w1 final"]


def test_end_of_backward_callbacks_run_once_after_a_successful_replay():
    x = tg.ones(2, requires_grad=True)
    seen = []

    def hook(p):
        state.end_of_backward.append(lambda: seen.append(p.grad.tolist()))
    x.register_post_accumulate_grad_hook(hook)
    (x * 2).sum().backward()
    assert seen == [[2.0, 2.0]] and state.end_of_backward == []
    y = (x * 3).sum()
    y.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        state.end_of_backward.append(lambda: seen.append("stale"))
        y.backward()
    assert state.end_of_backward == [] and "stale" not in seen
    x.grad.add_(np.float32(0))      # .grad is still a plain tensor

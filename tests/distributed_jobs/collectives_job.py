"""Every collective against NumPy, run under `mpiexec -n N` by tests/test_distributed.py.

Each rank can rebuild every rank's input (seeded by rank), so each checks its own result with
NumPy alone. A failed check raises: the excepthook of init_process_group aborts the job.
Then the group is made again in debug mode (TAPEGRAD_DISTRIBUTED_DEBUG) for the shape checks.
"""
import os

import numpy as np

import tapegrad as tg
import tapegrad.distributed as dist

dist.init_process_group(backend="mpi")
rank, n = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"


def data(r, shape=(3, 4), dtype=np.float64):
    """Rank r's input: small integers, so sums and products are exact in every dtype."""
    return np.random.default_rng(100 + r).integers(1, 4, size=shape).astype(dtype)


def check(got, want, what):
    got = got.numpy() if isinstance(got, tg.Tensor) else np.asarray(got)
    assert got.shape == np.shape(want) and np.allclose(got, want), (what, got, want)


everyone = [data(r) for r in range(n)]
reductions = {dist.ReduceOp.SUM: np.sum, dist.ReduceOp.PRODUCT: np.prod,
              dist.ReduceOp.MAX: np.max, dist.ReduceOp.MIN: np.min,
              dist.ReduceOp.AVG: np.mean}

# all_reduce: every op, several dtypes, in place on the tensor's own buffer
for op, fn in reductions.items():
    for dtype in (np.float32, np.float64, np.int64, np.int32, np.float16):
        if op is dist.ReduceOp.AVG and dtype in (np.int64, np.int32):
            continue
        t = tg.from_numpy(data(rank, dtype=dtype))
        buffer, version = t._data, t._version
        assert dist.all_reduce(t, op=op) is None
        check(t, fn(np.stack([data(r, dtype=dtype) for r in range(n)]), axis=0), (op, dtype))
        assert t._data is buffer and t._version > version, "all_reduce is in place"
t = tg.from_numpy(data(rank).astype(np.float32))
arr = t._data
dist.all_reduce(t)
assert np.shares_memory(arr, t._data)

# a non-contiguous view: reduced on a copy, written back through the view
base = tg.from_numpy(data(rank, (4, 3)))
view = base.t()
dist.all_reduce(view)
check(base, np.sum([data(r, (4, 3)) for r in range(n)], axis=0), "strided")
# bool: SUM is a logical or, MIN a logical and
flags = tg.tensor([rank == 0, True, False])
dist.all_reduce(flags)
check(flags, [True, True, False], "bool or")
flags = tg.tensor([rank == 0, True, False])
dist.all_reduce(flags, op=dist.ReduceOp.MIN)
check(flags, [n == 1, True, False], "bool and")
# AVG on integers is refused before any communication
try:
    dist.all_reduce(tg.tensor([1, 2]), op=dist.ReduceOp.AVG)
    raise AssertionError("AVG on int64 was accepted")
except TypeError as e:
    assert "AVG" in str(e)

# async: a Work whose wait() lands the result
t = tg.from_numpy(data(rank))
work = dist.all_reduce(t, async_op=True)
work.wait()
assert work.is_completed()
check(t, np.sum(everyone, axis=0), "async all_reduce")

# broadcast from the last rank, reduce to rank 1 % n
t = tg.from_numpy(data(rank))
dist.broadcast(t, src=n - 1)
check(t, everyone[n - 1], "broadcast")
t = tg.from_numpy(data(rank))
dist.broadcast(t, src=0, async_op=True).wait()
check(t, everyone[0], "async broadcast")
t = tg.from_numpy(data(rank))
dist.broadcast(t, group_src=n - 1)
check(t, everyone[n - 1], "broadcast with group_src")
try:
    dist.broadcast(t, src=0, group_src=0)
    raise AssertionError("src and group_src together were accepted")
except ValueError as e:
    assert "exactly one of src and group_src" in str(e)
t = tg.from_numpy(data(rank))
dist.reduce(t, dst=1 % n, op=dist.ReduceOp.MAX)
if rank == 1 % n:
    check(t, np.max(everyone, axis=0), "reduce")

# all_gather, all_gather_into_tensor (concatenated and stacked), reduce_scatter_tensor
out = [tg.zeros(3, 4, dtype=tg.float64) for _ in range(n)]
dist.all_gather(out, tg.from_numpy(data(rank)))
for r in range(n):
    check(out[r], everyone[r], "all_gather")
cat = tg.zeros(3 * n, 4, dtype=tg.float64)
dist.all_gather_into_tensor(cat, tg.from_numpy(data(rank)))
check(cat, np.concatenate(everyone), "all_gather_into_tensor")
stacked = tg.zeros(n, 3, 4, dtype=tg.float64)
dist.all_gather_into_tensor(stacked, tg.from_numpy(data(rank)), async_op=True).wait()
check(stacked, np.stack(everyone), "all_gather_into_tensor stacked")
try:
    dist.all_gather_into_tensor(tg.zeros(5), tg.zeros(3))
    raise AssertionError("a too small output was accepted")
except ValueError as e:
    assert "world_size" in str(e)
big = [data(r, (2 * n, 3)) for r in range(n)]
for op, fn in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.AVG, np.mean)):
    part = tg.zeros(2, 3, dtype=tg.float64)
    dist.reduce_scatter_tensor(part, tg.from_numpy(big[rank]), op=op)
    check(part, fn(big, axis=0)[2 * rank:2 * rank + 2], ("reduce_scatter_tensor", op))

# gather and scatter through rank n - 1
root = n - 1
bucket = [tg.zeros(3, 4, dtype=tg.float64) for _ in range(n)] if rank == root else None
dist.gather(tg.from_numpy(data(rank)), bucket, dst=root)
if rank == root:
    for r in range(n):
        check(bucket[r], everyone[r], "gather")
mine = tg.zeros(3, 4, dtype=tg.float64)
pieces = [tg.from_numpy(data(r) * 10) for r in range(n)] if rank == root else None
dist.scatter(mine, pieces, src=root)
check(mine, everyone[rank] * 10, "scatter")

# point to point: a ring, blocking and non-blocking
right, left = (rank + 1) % n, (rank - 1) % n
got = tg.zeros(3, 4, dtype=tg.float64)
if rank % 2 == 0:
    dist.send(tg.from_numpy(data(rank)), dst=right)
    sender = dist.recv(got, src=left)
else:
    sender = dist.recv(got, src=left)
    dist.send(tg.from_numpy(data(rank)), dst=right)
assert sender == left
check(got, everyone[left], "send/recv")
got = tg.zeros(3, 4, dtype=tg.float64)
outgoing = tg.from_numpy(data(rank))
works = [dist.isend(outgoing, dst=right), dist.irecv(got, src=left)]
for w in works:
    w.wait()
check(got, everyone[left], "isend/irecv")
dist.barrier()

# objects
objs = [None] * n
dist.all_gather_object(objs, {"rank": rank, "name": f"r{rank}"})
assert objs == [{"rank": r, "name": f"r{r}"} for r in range(n)], objs
lst = [rank, "x"] if rank == 1 % n else [None, None]
dist.broadcast_object_list(lst, src=1 % n)
assert lst == [1 % n, "x"], lst
gathered = [None] * n if rank == 0 else None
dist.gather_object(rank * 2, gathered, dst=0)
if rank == 0:
    assert gathered == [2 * r for r in range(n)]
one = [None]
dist.scatter_object_list(one, [f"to {r}" for r in range(n)] if rank == 0 else None, src=0)
assert one == [f"to {rank}"], one

# a subgroup of ranks 0 and 1: members reduce among themselves, the others skip
pair = dist.new_group([0, 1])
t = tg.from_numpy(data(rank))
dist.all_reduce(t, group=pair)
if rank < 2:
    check(t, everyone[0] + everyone[1] if n > 1 else everyone[0], "subgroup all_reduce")
    assert dist.get_rank(pair) == rank and dist.get_world_size(pair) == min(n, 2)
else:
    check(t, everyone[rank], "non-member unchanged")
    assert dist.get_rank(pair) == -1 and dist.get_world_size(pair) == -1

dist.destroy_process_group()
assert not dist.is_initialized()
print(f"collectives ok on rank {rank} of {n}", flush=True)

# again in debug mode (read at init): shapes that differ across ranks raise a clear error on
# every rank, instead of a hang or mixed data; matching ones still run
os.environ["TAPEGRAD_DISTRIBUTED_DEBUG"] = "1"
dist.init_process_group()
for call in (lambda t: dist.all_reduce(t), lambda t: dist.broadcast(t, src=0),
             lambda t: dist.all_reduce(t, async_op=True).wait()):
    try:
        call(tg.ones(rank + 2))
        raise AssertionError("a shape mismatch across ranks was not reported")
    except RuntimeError as e:
        message = str(e)
        assert "differ across ranks" in message, message
        assert "rank 0: [2] torch.float32" in message and "rank 1: [3]" in message, message
t = tg.ones(3)
dist.all_reduce(t)
check(t, [n] * 3, "all_reduce in debug mode")
dist.destroy_process_group()
print(f"debug ok on rank {rank}: {message}", flush=True)

"""Collectives on tensors over MPI (torch.distributed's c10d ops): in place, on the tensor's own
NumPy buffer.

Every collective works on `t._data` itself when it is C-contiguous and of a type MPI reduces
natively (zero copy); otherwise on a contiguous copy (float16 and bfloat16 widened to float32)
whose result is copied back. Like PyTorch's c10d ops they are not recorded on the tape: they
change data, as an in-place write under `no_grad` would (the tensor's version is bumped, so a
backward that saved it fails loudly). With `async_op=True` a collective starts a non-blocking
MPI request and returns a `Work`; the tensors hold the result only after `wait()`.
"""
import enum

import numpy as np

from .._tensor import Tensor
from ..tape import bump_version
from .process_group import resolve, world

NATIVE = set("bBhHiIlLqQfdFD")      # NumPy type chars MPI reduces (bool travels as uint8)


class ReduceOp(enum.Enum):
    """torch.distributed.ReduceOp: how all_reduce, reduce and reduce_scatter combine ranks."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


# bool tensors travel as uint8: a logical or is a max, a logical and a min (PyTorch's results)
_BOOL_OPS = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.MAX: ReduceOp.MAX, ReduceOp.BOR: ReduceOp.MAX,
             ReduceOp.PRODUCT: ReduceOp.MIN, ReduceOp.MIN: ReduceOp.MIN,
             ReduceOp.BAND: ReduceOp.MIN}


class Work:
    """A handle on a collective started with `async_op=True` (or by `isend`/`irecv`).

    `wait()` blocks until its result is in the tensors, `is_completed()` asks without blocking.
    The collectives make it, not users: `request` is the MPI request in flight, `finish` (or
    None) is called once when it completes (it copies the result into the tensors), and
    `result` are the output tensors that `result()` returns.
    """

    def __init__(self, request, finish=None, result=()):
        self._request, self._finish, self._result, self._done = request, finish, result, False

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()

    def wait(self, timeout=None):
        """Block until the collective has finished; its output tensors then hold the result.

        `timeout` is accepted and ignored (MPI has no timed wait): this always waits to the end
        and returns True.
        """
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def is_completed(self):
        """Whether the collective has finished (never blocks; drives MPI's progress)."""
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self):
        """Whether the collective finished (a failed MPI call aborts the job instead)."""
        return self.is_completed()

    def result(self):
        """The collective's output tensors (after `wait()`)."""
        return list(self._result)


def wire_dtype(dtype, where):
    """The dtype a tensor of `dtype` travels as: itself, uint8 for bool, float32 for float16
    and bfloat16 (MPI has no reductions for them)."""
    if dtype == np.bool_:
        return np.dtype(np.uint8)
    if dtype.char in NATIVE:
        return dtype
    if dtype.char == "e" or dtype.name == "bfloat16":
        return np.dtype(np.float32)
    raise TypeError(f"{where}: tensors of dtype {dtype} cannot be communicated")


class _Wire:
    """The contiguous, MPI-typed array a collective runs on for tensor t, and the way back."""

    def __init__(self, t, where):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: expected a Tensor, got {type(t).__name__}")
        a = t._data
        self.tensor, self.bool = t, a.dtype == np.bool_
        wire = wire_dtype(a.dtype, where)
        if a.dtype != wire:
            a = a.view(wire) if self.bool and a.flags.c_contiguous else a.astype(wire)
        self.array = np.ascontiguousarray(a)
        self.copied = not np.shares_memory(self.array, t._data)

    def op(self, op, where):
        """The MPI reduction for `op` on this wire."""
        if not isinstance(op, ReduceOp):
            raise TypeError(f"{where}: op must be a ReduceOp, got {op!r}")
        if self.bool:
            if op not in _BOOL_OPS:
                raise TypeError(f"{where}: ReduceOp.{op.name} is not supported for bool tensors")
            op = _BOOL_OPS[op]
        elif op is ReduceOp.AVG and self.array.dtype.kind not in "fc":
            raise TypeError(f"{where}: ReduceOp.AVG needs a floating point tensor, got "
                            f"{self.tensor._data.dtype}")
        M = world.MPI
        return {ReduceOp.SUM: M.SUM, ReduceOp.AVG: M.SUM, ReduceOp.PRODUCT: M.PROD,
                ReduceOp.MIN: M.MIN, ReduceOp.MAX: M.MAX, ReduceOp.BAND: M.BAND,
                ReduceOp.BOR: M.BOR, ReduceOp.BXOR: M.BXOR}[op]

    def land(self, divide=1):
        """Write the received result into the tensor (dividing for AVG) and bump its version."""
        if divide != 1:
            self.array /= divide
        if self.copied:
            a = self.array.view(np.bool_) if self.bool else self.array
            np.copyto(self.tensor._data, a.reshape(self.tensor._data.shape), casting="unsafe")
        bump_version(self.tensor)


def _run(request, async_op, finish=None, result=()):
    work = Work(request, finish, result)
    if async_op:
        return work
    work.wait()
    return None


def _header(g, where, *tensors):
    """In debug mode, check that every rank passes the same shapes and dtypes (one small
    allgather first), so a mismatch is an error here instead of a hang or garbage in MPI."""
    if not world.debug:
        return
    mine = (where,) + tuple((list(t.shape), str(t.dtype)) for t in tensors)
    every = g.comm.allgather(mine)
    if any(h != every[0] for h in every):
        shown = "; ".join(f"rank {g.ranks[r]}: " + ", ".join(f"{s} {d}" for s, d in h[1:])
                          + (f" (in {h[0]})" if h[0] != where else "")
                          for r, h in enumerate(every))
        raise RuntimeError(f"{where}: the tensors differ across ranks "
                           f"(TAPEGRAD_DISTRIBUTED_DEBUG): {shown}")


def peer_rank(g, rank, name, where, group_rank=None):
    """The group rank of the peer given by its global `rank` or by `group_rank` (PyTorch's
    `group_src`/`group_dst`): exactly one of them."""
    if (rank is None) == (group_rank is None):
        raise ValueError(f"{where}: give exactly one of {name} and group_{name}, got {name}="
                         f"{rank}, group_{name}={group_rank}")
    if group_rank is not None:
        if not 0 <= group_rank < g.size():
            raise ValueError(f"{where}: group_{name}={group_rank} is not a rank of {g}")
        return group_rank
    if rank not in g.ranks:
        raise ValueError(f"{where}: {name}={rank} is not a rank of {g}")
    return g.ranks.index(rank)


def default_root(rank, group_rank):
    """gather's and scatter's root: global rank 0 unless a rank or group rank is given."""
    return 0 if rank is None and group_rank is None else rank


def _member(group):
    """The group to run on, or None on a rank outside it (the collective is then skipped)."""
    g = resolve(group)
    return g if g.comm is not None else None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine `tensor` across all ranks with `op`, in place on every rank.

    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the tensors hold the
    result only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    wire = _Wire(tensor, "all_reduce")
    mpi_op = wire.op(op, "all_reduce")
    _header(g, "all_reduce", tensor)
    divide = g.size() if op is ReduceOp.AVG else 1
    request = g.comm.Iallreduce(world.MPI.IN_PLACE, wire.array, mpi_op)
    return _run(request, async_op, lambda: wire.land(divide), [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy `tensor` of global rank `src` into `tensor` on every rank of the group.

    Give exactly one of `src` (a global rank) and `group_src` (the same rank counted within
    `group`).
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the tensors hold the
    result only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    root = peer_rank(g, src, "src", "broadcast", group_src)
    wire = _Wire(tensor, "broadcast")
    _header(g, "broadcast", tensor)
    request = g.comm.Ibcast(wire.array, root=root)
    return _run(request, async_op, wire.land, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Combine `tensor` across ranks with `op` into `tensor` on global rank `dst` only.

    Give exactly one of `dst` (a global rank) and `group_dst` (the same rank counted within
    `group`); the other ranks' `tensor` is left as it was.
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the tensors hold the
    result only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    root = peer_rank(g, dst, "dst", "reduce", group_dst)
    wire = _Wire(tensor, "reduce")
    mpi_op = wire.op(op, "reduce")
    _header(g, "reduce", tensor)
    mine = g.rank() == root
    send = world.MPI.IN_PLACE if mine else wire.array
    request = g.comm.Ireduce(send, wire.array if mine else None, mpi_op, root=root)
    finish = (lambda: wire.land(g.size() if op is ReduceOp.AVG else 1)) if mine else None
    return _run(request, async_op, finish, [tensor])


def _parts(tensors, like, count, where, name):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != count:
        got = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{where}: {name} must be a list of {count} tensors (one per rank), "
                         f"got {got}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t.shape != like.shape:
            shape = list(t.shape) if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"{where}: {name}[{i}] has shape {shape}, expected "
                             f"{list(like.shape)} like the input tensor")


def _stacked(like, count):
    """A contiguous receive buffer for `count` tensors shaped like `like` (MPI's wire type)."""
    return np.empty((count,) + like._data.shape, dtype=wire_dtype(like._data.dtype, ""))


def _spread(buffer, tensors):
    """Copy row i of `buffer` into tensors[i] (and bump their versions)."""
    for row, t in zip(buffer, tensors):
        np.copyto(t._data, row.view(np.bool_) if t._data.dtype == np.bool_ else row,
                  casting="unsafe")
        bump_version(t)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill tensor_list[i] with rank i's `tensor` on every rank.

    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the tensors hold the
    result only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    _parts(tensor_list, tensor, g.size(), "all_gather", "tensor_list")
    wire = _Wire(tensor, "all_gather")
    _header(g, "all_gather", tensor)
    out = _stacked(tensor, g.size())
    request = g.comm.Iallgather(wire.array, out)
    return _run(request, async_op, lambda: _spread(out, tensor_list), tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Gather every rank's `input_tensor` into `output_tensor`, in rank order.

    `output_tensor` holds world_size times `input_tensor`'s elements, concatenated along dim 0
    (shape [world * n, ...]) or stacked (shape [world, n, ...]), with the same dtype.
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the tensors hold the
    result only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    n = g.size()
    if output_tensor.numel() != n * input_tensor.numel():
        raise ValueError(f"all_gather_into_tensor: output tensor of shape "
                         f"{list(output_tensor.shape)} must hold world_size ({n}) times the input "
                         f"of shape {list(input_tensor.shape)}")
    if output_tensor.dtype != input_tensor.dtype:
        raise TypeError(f"all_gather_into_tensor: output dtype {output_tensor.dtype} differs from "
                        f"input dtype {input_tensor.dtype}")
    send, recv = _Wire(input_tensor, "all_gather_into_tensor"), \
        _Wire(output_tensor, "all_gather_into_tensor")
    _header(g, "all_gather_into_tensor", input_tensor, output_tensor)
    request = g.comm.Iallgather(send.array, recv.array)
    return _run(request, async_op, recv.land, [output_tensor])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine every rank's `input` with `op` and give rank i the i-th slice in `output`.

    `input` holds world_size times `output`'s elements (world_size equal slices along dim 0),
    with the same dtype.
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the tensors hold the
    result only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    n = g.size()
    if input.numel() != n * output.numel():
        raise ValueError(f"reduce_scatter_tensor: input of shape {list(input.shape)} must hold "
                         f"world_size ({n}) times the output of shape {list(output.shape)}")
    if output.dtype != input.dtype:
        raise TypeError(f"reduce_scatter_tensor: output dtype {output.dtype} differs from input "
                        f"dtype {input.dtype}")
    send, recv = _Wire(input, "reduce_scatter_tensor"), _Wire(output, "reduce_scatter_tensor")
    mpi_op = send.op(op, "reduce_scatter_tensor")
    _header(g, "reduce_scatter_tensor", input, output)
    request = g.comm.Ireduce_scatter_block(send.array, recv.array, mpi_op)
    divide = n if op is ReduceOp.AVG else 1
    return _run(request, async_op, lambda: recv.land(divide), [output])


def _root_with_list(g, rank, group_rank, role, where, tensors, like):
    """gather's and scatter's root rank, and whether it is this one: only the root passes the
    list of one tensor per rank (shaped like `like`), as in PyTorch."""
    root = peer_rank(g, default_root(rank, group_rank), role, where, group_rank)
    mine = g.rank() == root
    if mine:
        _parts(tensors, like, g.size(), where, f"{where}_list")
    elif tensors:
        which = "destination" if role == "dst" else "source"
        raise ValueError(f"{where}: Argument ``{where}_list`` must NOT be specified on "
                         f"non-{which} ranks.")
    return root, mine


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Collect every rank's `tensor` into `gather_list` on global rank `dst`.

    `gather_list` (one tensor per rank, shaped like `tensor`) is given on the destination only.
    The destination is `dst` (a global rank) or `group_dst` (a rank within `group`), at most
    one of them; with neither it is global rank 0.
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the tensors hold the
    result only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    root, mine = _root_with_list(g, dst, group_dst, "dst", "gather", gather_list, tensor)
    wire = _Wire(tensor, "gather")
    _header(g, "gather", tensor)
    out = _stacked(tensor, g.size()) if mine else None
    request = g.comm.Igather(wire.array, out, root=root)
    finish = (lambda: _spread(out, gather_list)) if mine else None
    return _run(request, async_op, finish, gather_list or [])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Give rank i the tensor scatter_list[i] of global rank `src`, into `tensor`.

    `scatter_list` (one tensor per rank, shaped like `tensor`) is given on the source only.
    The source is `src` (a global rank) or `group_src` (a rank within `group`), at most one of
    them; with neither it is global rank 0.
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the tensors hold the
    result only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    root, mine = _root_with_list(g, src, group_src, "src", "scatter", scatter_list, tensor)
    wire = _Wire(tensor, "scatter")
    _header(g, "scatter", tensor)
    send = np.stack([_Wire(t, "scatter").array for t in scatter_list]) if mine else None
    request = g.comm.Iscatter(send, wire.array, root=root)
    return _run(request, async_op, wire.land, [tensor])


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group has reached this call.

    `device_ids` and `timeout` are accepted and ignored (there are no GPUs, and MPI's barrier
    has no timeout).
    `group` is the process group to run on (None: the default group); on a rank outside it
    the call does nothing and returns None.
    `async_op=True` returns a `Work` to wait on instead of blocking (the barrier is
    passed only after its `wait()`); otherwise the call returns None once it is done.
    """
    g = _member(group)
    if g is None:
        return None
    return _run(g.comm.Ibarrier(), async_op)

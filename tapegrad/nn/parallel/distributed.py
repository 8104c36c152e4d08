"""DistributedDataParallel: data parallelism over MPI, gradients averaged in buckets during
backward so that communication overlaps the rest of the replay.

How the overlap works: every parameter gets a post-accumulate-grad hook. The replay finishes a
leaf as soon as it has passed the leaf's oldest use (engine._replay), so the hook fires while
the replay is still running; when every gradient of a bucket is final, the bucket's gradients
are copied into one flat buffer and a non-blocking MPI all-reduce starts on it. Buckets start in
a fixed order (bucket 0, 1, ...), the same on every rank, since MPI requires collectives to be
issued in the same order everywhere. Once the replay is done, a callback that the first hook
queued on `_state.state.end_of_backward` (engine.backward runs them after a successful replay,
PyTorch's queue_callback) waits for the buckets, divides by the world size and writes the
averages back into `.grad`. MPICH progresses non-blocking collectives only inside MPI calls, so
each hook also tests the buckets already started (that is what moves them along).
"""
import contextlib

import numpy as np

from ..._state import state
from ..._tensor import _leaf
from ...grad_mode import no_grad, is_grad_enabled
from ...tape import bump_version
from ... import distributed as dist
from ...distributed.process_group import resolve
from ..module import Module

FIRST_BUCKET_BYTES = 1024 * 1024     # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
NOT_FINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This "
    "error indicates that your module has parameters that were not used in producing loss. You "
    "can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by making "
    "sure all `forward` function outputs participate in calculating loss.")


class _Bucket:
    """Parameters whose gradients travel together in one flat buffer."""

    def __init__(self, params):
        self.params = params
        sizes = [p._data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.flat = _leaf(np.zeros(int(self.offsets[-1]), dtype=params[0]._data.dtype))
        self.ready = 0          # how many of its gradients are final in this backward
        self.work = None        # the all-reduce in flight

    def pack(self):
        """Copy the parameters' gradients into the flat buffer (zeros where there is none)."""
        flat = self.flat._data
        for p, start, stop in zip(self.params, self.offsets, self.offsets[1:]):
            if p._grad is None:
                flat[start:stop] = 0
            else:
                flat[start:stop] = p._grad._data.ravel()

    def unpack(self, world_size, globally_used):
        """Write the averaged gradients back into `.grad` (never for a parameter that no rank
        used: its gradient stays as it was, as in PyTorch)."""
        flat = self.flat._data
        flat /= world_size
        for p, start, stop in zip(self.params, self.offsets, self.offsets[1:]):
            if globally_used is not None and not globally_used[id(p)]:
                continue
            average = flat[start:stop].reshape(p._data.shape)
            if p._grad is None:
                p._grad = _leaf(average.copy())
            else:
                np.copyto(p._grad._data, average, casting="unsafe")
                bump_version(p._grad)


def assign_buckets(params, cap_bytes, first_cap_bytes=FIRST_BUCKET_BYTES):
    """Group parameters into buckets of one dtype each, in reverse registration order (roughly
    the order backward finishes them); the first bucket of each dtype is capped at
    `first_cap_bytes` so communication starts early, the others at `cap_bytes` (PyTorch's
    rule)."""
    closed, open_ = [], {}
    for p in reversed(params):
        dtype = p._data.dtype
        members, size, cap = open_.get(dtype, ([], 0, first_cap_bytes))
        members.append(p)
        size += p._data.nbytes
        if size >= cap:
            closed.append(members)
            open_[dtype] = ([], 0, cap_bytes)
        else:
            open_[dtype] = (members, size, cap)
    closed += [members for members, _, _ in open_.values() if members]
    order = {id(p): i for i, p in enumerate(reversed(params))}
    return sorted(closed, key=lambda members: order[id(members[0])])


class DistributedDataParallel(Module):
    """torch.nn.parallel.DistributedDataParallel on MPI: wrap `module` on every rank; each
    backward averages the gradients across ranks (SUM, then divide by the world size).

    At construction (unless `init_sync=False`) the parameters and buffers of rank 0 are
    broadcast to every rank. With
    `broadcast_buffers=True` (PyTorch's default; there is no SyncBatchNorm), rank 0's buffers
    (BatchNorm's running statistics) are broadcast again before every forward run with grad
    enabled. `no_sync()` skips the averaging for gradient accumulation;
    `find_unused_parameters=True` lets some parameters get no gradient in a backward (they
    count as zero; a parameter no rank used keeps its `.grad` untouched). `state_dict()` keys
    carry the `module.` prefix, as PyTorch's. `gradient_as_bucket_view` and `static_graph` are
    accepted for compatibility: gradients are copied to and from the buckets either way.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters "
                "{device(type='cpu')}.")
        cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        if cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{cap_mb}")
        self.module = module
        self.process_group = resolve(process_group)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.dim = dim
        self.bucket_bytes_cap = int(cap_mb * 1024 * 1024)
        self.require_backward_grad_sync = True
        self._params = [p for p in module.parameters() if p.requires_grad]
        if init_sync:
            self._sync_states(list(module.parameters()) + list(module.buffers()))
        first = min(FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        self._buckets = [_Bucket(ps) for ps in assign_buckets(self._params,
                                                              self.bucket_bytes_cap, first)]
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._armed = False      # the last forward asked for a synchronised backward
        self._queued = False     # the end-of-backward callback is queued
        self._used = set()       # ids of the parameters whose gradient is final this backward
        self._next_bucket = 0    # buckets start in order: the next one to start
        self._unfinished = False
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready)
                         for p in self._params]

    def forward(self, *inputs, **kwargs):
        """Run the wrapped module (after broadcasting rank 0's buffers when enabled)."""
        if self._unfinished:
            raise RuntimeError(NOT_FINISHED)
        if self._queued:        # the last backward raised before its callback ran
            self._finish_backward()
        grad = is_grad_enabled()
        self._armed = grad and self.require_backward_grad_sync
        if grad and self.broadcast_buffers:
            self._sync_states(list(self.module.buffers()))
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Within this context, backward passes accumulate gradients locally without
        averaging them; the first backward after it averages the accumulated sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _sync_states(self, tensors):
        """Broadcast `tensors` from rank 0, one flat buffer per dtype."""
        group = self.process_group
        if group.size() == 1 or not tensors:
            return
        src = group.ranks[0]
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for same in by_dtype.values():
            flat = _leaf(np.concatenate([t._data.ravel() for t in same]))
            dist.broadcast(flat, src, group=group)
            start = 0
            with no_grad():
                for t in same:
                    n = t._data.size
                    np.copyto(t._data, flat._data[start:start + n].reshape(t._data.shape))
                    bump_version(t)
                    start += n

    # ---- the reducer: hooks during backward, the callback after it ----------------------------
    def _grad_ready(self, p):
        """A parameter's gradient is final: start its bucket (and those after it, in order)
        once all of the bucket's gradients are."""
        if not self._armed or id(p) in self._used:
            return
        if not self._queued:
            self._queued = True
            state.end_of_backward.append(self._finish_backward)
        self._used.add(id(p))
        self._bucket_of[id(p)].ready += 1
        self._start_ready_buckets()
        for b in self._buckets[:self._next_bucket]:
            b.work.is_completed()        # MPI progresses requests only inside MPI calls

    def _start_ready_buckets(self, everything=False):
        buckets = self._buckets
        while self._next_bucket < len(buckets):
            b = buckets[self._next_bucket]
            if not everything and b.ready < len(b.params):
                break
            b.pack()
            b.work = dist.all_reduce(b.flat, group=self.process_group, async_op=True)
            self._next_bucket += 1

    def _finish_backward(self):
        """After the replay: start what is left (unused parameters count as zero), wait for
        every bucket and write the averages into `.grad`."""
        if self.find_unused_parameters:
            self._start_ready_buckets(everything=True)
        started = self._buckets[:self._next_bucket]
        for b in started:
            b.work.wait()
        used = self._globally_used() if self.find_unused_parameters else None
        size = self.process_group.size()
        for b in started:
            b.unpack(size, used)
            b.work = None
        self._unfinished = len(started) < len(self._buckets)
        for b in self._buckets:
            b.ready = 0
        self._queued = self._armed = False
        self._used = set()
        self._next_bucket = 0

    def _globally_used(self):
        """{id(param): whether any rank used it in this backward} (one small all-reduce)."""
        used = _leaf(np.array([id(p) in self._used for p in self._params], dtype=np.int32))
        dist.all_reduce(used, group=self.process_group)
        return {id(p): bool(u) for p, u in zip(self._params, used._data)}

"""Autograd's state: the per-thread grad mode and tape stack, the global clock, and the
version counters that tensors sharing memory share.

It sits below the Tensor class because a tensor reads it too: a view's history is regenerated
only while grad mode is on, and `requires_grad_()` stamps the clock.
"""
import itertools
import threading
import weakref


class _ThreadState(threading.local):
    """Per-thread grad mode, and the stack of tapes that record (its first tape is the thread's
    own, created by tape.py when the thread first records or replays)."""

    def __init__(self):
        self.grad_enabled = True
        self.inference = False
        self.tapes = ()
        # run by engine.backward once its replay succeeded, then cleared (PyTorch's
        # queue_callback): DDP waits for its last buckets there
        self.end_of_backward = []


class VersionCounter:
    """Shared by a tensor and every tensor over the same memory (views, detached aliases):
    `version` counts in-place writes, `written` is the clock tick of the latest one, and
    `generation` changes when the family's history changes (its views are then stale)."""

    version = written = generation = 0
    views = False       # whether a view of this memory was ever made (see inplace_shape)


class _Fresh(VersionCounter):
    """The counter of every tensor that was never written in place nor shared its memory:
    one shared object, so that making a tensor allocates no counter. It must never change:
    writers and sharers first give the tensor a counter of its own (`own_counter`)."""

    def __setattr__(self, name, value):
        raise RuntimeError("tapegrad: a tensor's shared FRESH version counter was written; "
                           "call own_counter(t) first (this is a bug in tapegrad)")


FRESH = _Fresh()
_owning = threading.Lock()


def own_counter(t):
    """t's version counter, made t's own first if it still has FRESH (before t is written in
    place or shares its memory with a view or alias); two threads never make two."""
    counter = t._counter
    if counter is FRESH:
        with _owning:
            counter = t._counter
            if counter is FRESH:
                counter = t._counter = VersionCounter()
    return counter


class _Writes:
    """When the latest in-place write happened: entries recorded after it need no version check."""

    __slots__ = ("last",)

    def __init__(self):
        self.last = 0


state = _ThreadState()
writes = _Writes()
# The global clock orders entries and writes across tapes and threads. `next` on
# itertools.count is atomic under the GIL: two threads never get the same or a smaller tick.
tick = itertools.count(1).__next__
# leaves with gradient hooks: while there are any, a backward finishes each leaf as soon as its
# gradient is final (so hooks see it early, as in PyTorch); otherwise all at the end
hooked_leaves = weakref.WeakSet()
# weights an Embedding looked up with sparse=True: their gradient reaches .grad through a hook,
# out of the graph's sight, so grad() and backward(inputs=) must refuse them, not answer None
# (keyed by id, so that a lookup never compares two tensors with their elementwise ==)
sparse_lookup_weights = weakref.WeakValueDictionary()


class _Profiling:
    """The profiler's hook into the replay: while a profiler runs, `vjp` is its timed stand-in
    for `Primitive.vjp` (read once per replay, so backward pays nothing otherwise)."""

    __slots__ = ("vjp",)

    def __init__(self):
        self.vjp = None


profiling = _Profiling()


class _Debug:
    """The debugging aids' hooks into recording and replay (tapegrad.autograd.anomaly,
    `Tape(record_source=True)`, `explain`): each is None unless an aid is on, so the hot path
    pays one attribute test per recorded op. `on_record(entry, result)` sees each new entry;
    `on_unrecorded(prim, args, params, out)` wraps an op's result made under no_grad from
    inputs that require grad; `on_cut(t, kind, op)` marks a tensor cut from its history
    (detach, .data, a non-float result); `vjp` is the checked stand-in for `Primitive.vjp`
    (read once per replay); `check` is anomaly mode's forward check; `sources` counts the
    active requests for source lines."""

    __slots__ = ("on_record", "on_unrecorded", "on_cut", "vjp", "check", "sources", "marks")

    def __init__(self):
        self.on_record = self.on_unrecorded = self.on_cut = self.vjp = self.check = None
        self.sources = 0
        self.marks = None   # (note_source, mark_cut, unrecorded), installed by _sources.py

    def request_sources(self, delta):
        """Count a request for source lines on (+1) or off (-1), and set the hooks to match."""
        self.sources = max(0, self.sources + delta)
        self.refresh()

    def refresh(self):
        """Point the hooks at what the active aids need: anomaly mode's check (which notes the
        source itself), else the source notes; all None when nothing is on."""
        note, cut, unrecorded = self.marks if self.sources > 0 else (None, None, None)
        self.on_record = self.check or note
        self.on_cut, self.on_unrecorded = cut, unrecorded


debug = _Debug()

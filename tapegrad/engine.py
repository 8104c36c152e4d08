"""Reverse replay of the tape: `backward`, `grad` and `Tape.gradient` all run `_replay`.

Entries are visited newest first, which is a topological order by construction: no graph
search, no sort, no recursion. Each visited entry with a pending cotangent runs its VJP rules;
their results are summed back to each input's shape and cast to its dtype here, once, so rules
never have to. Leaf gradients are collected and written only after the whole replay succeeded.
"""
import threading
from heapq import heappush, heappop

import numpy as np

ndarray = np.ndarray

from .tape import _state, global_tape, _leaf, bump_version, _last_write, hooked_leaves, fresh
from .tensor import Tensor

# Backward calls in several threads may accumulate into one leaf: each `.grad` update is a
# read-modify-write, so they take turns (PyTorch serialises accumulation per leaf too).
_accumulating = threading.Lock()

_RELEASED = ("Trying to backward through the graph a second time (or directly access saved "
             "tensors after they have already been freed): {op} was already replayed and its saved "
             "values freed. Specify retain_graph=True if you need to backward through the graph a "
             "second time or if you need to access saved tensors after calling backward.")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaves) into the leaves' `.grad` (torch.autograd.backward)."""
    roots, seeds = _roots_and_seeds(tensors, grad_tensors, "backward")
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty")
    retain = create_graph if retain_graph is None else retain_graph
    got = _replay(global_tape(), roots, seeds, retain, create_graph, capture=inputs,
                  accumulate=inputs is None)
    if inputs is not None:
        for t, g in zip(inputs, got):
            if g is not None:
                _accumulate(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any `.grad` (torch.autograd.grad)."""
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is {type(t).__name__}, expected a Tensor")
        if not fresh(t)._rg:
            raise RuntimeError(f"grad: One of the differentiated Tensors (inputs[{i}], shape "
                               f"{list(t.shape)}) does not require grad")
    roots, seeds = _roots_and_seeds(outputs, grad_outputs, "grad")
    retain = create_graph if retain_graph is None else retain_graph
    got = _replay(global_tape(), roots, seeds, retain, create_graph, capture=inputs,
                  accumulate=False)
    return tuple(_finish_grads(got, inputs, allow_unused, materialize_grads, "grad"))


def grad_through(tape, outputs, inputs, grad_outputs, retain, create_graph):
    """`Tape.gradient`: like `grad`, but only through `tape`'s entries; unused sources give None."""
    roots, seeds = _roots_and_seeds(outputs, grad_outputs, "Tape.gradient")
    got = _replay(tape, roots, seeds, retain, create_graph, capture=inputs, accumulate=False,
                  follow=False)
    return _finish_grads(got, inputs, True, False, "Tape.gradient")


def _finish_grads(got, inputs, allow_unused, materialize, where):
    out = []
    for i, (t, g) in enumerate(zip(inputs, got)):
        if g is not None and not g._data.flags.writeable:
            # a broadcast cotangent (sum's, expand's): hand out memory the caller may write
            g = g.clone() if g._rg else _leaf(np.array(g._data))
        if g is None:
            if materialize:
                g = _leaf(np.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(f"{where}: One of the differentiated Tensors (inputs[{i}], "
                                   f"shape {list(t.shape)}) appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return out


def _roots_and_seeds(tensors, grads, where):
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grads is None:
        grads = [None] * len(roots)
    elif isinstance(grads, Tensor) or not isinstance(grads, (list, tuple)):
        grads = [grads]
    if len(grads) != len(roots):
        raise RuntimeError(f"{where}: got {len(grads)} gradients for {len(roots)} tensors")
    seeds = []
    for i, (r, g) in enumerate(zip(roots, grads)):
        if not isinstance(r, Tensor) or not fresh(r)._rg:
            raise RuntimeError(f"{where}: element {i} of tensors does not require grad and does "
                               "not have a grad_fn")
        if g is None:
            if r._data.size != 1:
                raise RuntimeError(f"{where}: grad can be implicitly created only for scalar "
                                   f"outputs, but output {i} has shape {list(r.shape)}; pass a "
                                   "gradient of that shape")
            g = _leaf(np.ones_like(r._data))
        else:
            if not isinstance(g, Tensor):
                g = _leaf(np.asarray(g, dtype=r._data.dtype))
            if g._data.shape != r._data.shape:
                raise RuntimeError(f"{where}: Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{list(g.shape)} and output[{i}] has a shape of "
                                   f"{list(r.shape)}.")
            if g._data.dtype != r._data.dtype:
                g = g.to(r._data.dtype)
        seeds.append(g)
    return roots, seeds


def _replay(tape, roots, seeds, retain, create_graph, capture, accumulate, follow=True):
    """Walk `tape` newest first from the roots; return the cotangents of `capture` tensors.

    Without create_graph nothing is recorded, so cotangents travel as bare ndarrays and rules of
    primitives marked `raw` run directly on arrays (their tapegrad ops then return arrays): the
    replay costs little more than the NumPy it runs. With create_graph they travel as tensors.
    A graph may span threads: with `follow`, entries that another thread recorded (so they are
    on its tape, not this one) join the walk in clock order through a small heap.
    """
    raw = not create_graph
    pending = {}      # entry -> cotangents of its outputs
    leaves = {}       # id(leaf) -> [leaf, summed cotangent]
    wanted = {}       # (entry, index) of non-leaf tensors in `capture` -> their position
    got = [None] * len(capture) if capture is not None else []
    for pos, t in enumerate(capture or ()):
        if t._entry is not None:
            wanted[(t._entry, t._index)] = pos
    shared = {id(s._data) for s in seeds}    # arrays that must not become a .grad buffer
    route = _Route(pending, leaves, [] if follow else None, tape)
    foreign = route.foreign
    done = []
    st = _state
    mode = st.grad_enabled
    st.grad_enabled = create_graph
    try:
        last = 0
        for r, g in zip(roots, seeds):
            if r._entry is not None and (foreign is None or r._entry.owner is tape):
                last = max(last, r._entry.seq)
            route.send(r, g._data if raw else g, float("inf"))
        hooks_early = accumulate and hooked_leaves
        recorded = tape.entries(last) if capture is not None or hooks_early else ()
        useful = None if capture is None else _leading_to(recorded, capture)
        final = _oldest_uses(recorded) if hooks_early else None
        refs, seqs = tape._refs, tape._seqs      # after entries(): it may compact them
        pop, get = pending.pop, pending.get
        k = tape._stop(last) - 1
        while pending:
            if foreign and (k < 0 or -foreign[0][0] > seqs[k]):
                e = heappop(foreign)[2]
            elif k >= 0:
                e = refs[k]()
                k -= 1
                if e is None:
                    continue
            else:
                break
            while final and final[-1][0] > e.seq:
                # every recorded use of this hooked leaf is behind us: its gradient is final
                t = final.pop()[1]
                acc = leaves.pop(id(t), None)
                if acc is not None:
                    _finish_leaves({id(t): acc}, None, got, True, create_graph, shared, raw)
            gs = pop(e, None)
            if gs is None:
                continue
            if useful is not None and e not in useful and (foreign is None or e.owner is tape):
                # no path from here to a requested tensor: run no rule, only its hooks
                if e.hooks is not None or wanted:
                    _visit_outputs(e, gs, wanted, got, create_graph, raw, shared)
                continue
            prim = e.prim
            inputs = e.inputs
            if inputs is None:
                raise RuntimeError(_RELEASED.format(op=prim.grad_fn_name))
            seq = e.seq
            if _last_write[0] > seq:
                _check_versions(e)
            if e.hooks is not None or wanted:
                _visit_outputs(e, gs, wanted, got, create_graph, raw, shared)
            if e.n_out > 1:
                gs = [(np.zeros_like(o) if raw else _leaf(np.zeros_like(o))) if g is None else g
                      for g, o in zip(gs, e.out)]
            if not raw:
                grads = prim.vjp(e, gs)
            elif prim.raw:
                grads = _raw_vjp(prim, e, gs)
            else:
                grads = [None if r is None else _array(r)
                         for r in prim.vjp(e, [_leaf(g) for g in gs])]
            for x, gx in zip(inputs, grads):
                if gx is None:
                    continue
                xa = x._data
                if raw:
                    if type(gx) is not ndarray:
                        gx = _array(gx)
                    if gx.shape != xa.shape:
                        gx = sum_to.prim.forward(_reducible(gx, xa.shape, e), xa.shape)
                    if gx.dtype is not xa.dtype and gx.dtype != xa.dtype:
                        gx = gx.astype(xa.dtype)
                else:
                    gx = _conform(gx, xa, e)
                # to the pending slot of the entry that produced x, or (rarer) let route decide
                xe = x._entry
                if xe is not None and xe.seq < seq:
                    slot = get(xe)
                    if slot is None:
                        slot = pending[xe] = [None] * xe.n_out
                        if foreign is not None and xe.owner is not tape:
                            heappush(foreign, (-xe.seq, id(xe), xe))
                    i = x._index
                    slot[i] = gx if slot[i] is None else slot[i] + gx
                else:
                    route.send(x, gx, seq)
            done.append(e)
        for (e, i), pos in wanted.items():
            if got[pos] is None and e in pending:    # its entry is not on this tape
                got[pos] = pending[e][i]
        _finish_leaves(leaves, capture, got, accumulate, create_graph, shared, raw)
    finally:
        st.grad_enabled = mode
    if not retain:
        for e in done:
            prim = e.prim
            if prim.saves:
                e.inputs = e.out = None     # release()'s common case, without the call
            else:
                prim.release(e)
    if len(tape._refs) > 4096:
        tape._sweep()     # a large graph may have just died: do not wait for more appends
    if raw:
        got = [g if g is None or isinstance(g, Tensor) else _leaf(g) for g in got]
    return got


def _leading_to(entries, capture):
    """The entries (oldest first in `entries`) with a path to a tensor in `capture`: the only
    ones whose rules `grad` and `backward(inputs=...)` need to run."""
    leaves = {id(t) for t in capture if t._entry is None}
    targets = {(t._entry, t._index) for t in capture if t._entry is not None}
    useful = set()
    for e in entries:
        seq = e.seq
        for x in e.inputs or ():
            if not isinstance(x, Tensor):
                continue
            xe = x._entry
            while xe is not None and xe.seq >= seq:     # its state when e recorded it
                x = xe.prev[x._index]
                xe = x._entry
            if xe is None and id(x) in leaves or xe in useful or (xe, x._index) in targets:
                useful.add(e)
                break
    return useful


class _Route:
    """Where cotangents go during one replay: pending entry slots, leaf sums, foreign entries."""

    __slots__ = ("pending", "leaves", "foreign", "tape")

    def __init__(self, pending, leaves, foreign, tape):
        self.pending, self.leaves, self.foreign, self.tape = pending, leaves, foreign, tape

    def slot(self, e):
        """A fresh slot for entry e's output cotangents; e joins the heap if another thread
        recorded it."""
        slot = self.pending[e] = [None] * e.n_out
        if self.foreign is not None and e.owner is not self.tape:
            heappush(self.foreign, (-e.seq, id(e), e))
        return slot

    def send(self, x, g, seq):
        """Add cotangent g to tensor x as it was when the consumer recorded at `seq` ran."""
        e = x._entry
        while e is not None and e.seq >= seq:
            # x got a new history (in-place write, regenerated view) after that consumer:
            # its gradient belongs to the earlier state
            x = e.prev[x._index]
            e = x._entry
        if e is not None:
            slot = self.pending.get(e)
            if slot is None:
                slot = self.slot(e)
            i = x._index
            slot[i] = g if slot[i] is None else slot[i] + g
        elif x._rg and x._rg_since < seq and not x._nograd_view:
            acc = self.leaves.get(id(x))
            if acc is None:
                self.leaves[id(x)] = [x, g]
            else:
                acc[1] = acc[1] + g


def _raw_vjp(prim, e, gs):
    """Run a primitive's rules on bare arrays (only for the inputs that require grad)."""
    if e.n_out == 1:
        g, out = gs[0], e.out[0]
    else:
        g, out = tuple(gs), e.out
    params = e.params
    inputs = e.inputs
    if len(inputs) == 2:        # the common case, without a loop
        x, y = inputs
        arrays = (x._data if isinstance(x, Tensor) else x, y._data if isinstance(y, Tensor) else y)
    else:
        arrays = [a._data if isinstance(a, Tensor) else a for a in inputs]
    grads = []
    for x, rule in zip(inputs, prim.rules):
        if rule is not None and isinstance(x, Tensor) and x._rg:
            grads.append(rule(g, out, *arrays, **params) if params else rule(g, out, *arrays))
        else:
            grads.append(None)
    return grads


def _array(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def _conform(g, xa, entry):
    """Sum a rule's cotangent back to x's broadcast shape and cast it to x's dtype."""
    if not isinstance(g, Tensor):
        g = _leaf(np.asarray(g))
    a = g._data
    if a.shape != xa.shape:
        _reducible(a, xa.shape, entry)
        g = sum_to(g, xa.shape)
    if a.dtype != xa.dtype:
        g = g.to(xa.dtype)
    return g


def _reducible(a, shape, entry):
    try:
        ok = np.broadcast_shapes(shape, a.shape) == a.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"Function {entry.prim.grad_fn_name} returned an invalid gradient "
                           f"for input of shape {list(shape)}: got shape {list(a.shape)}, which "
                           "does not reduce to it")
    return a


def _check_versions(e):
    """Fail if a value that the entry's rules will read was modified in place after it was
    recorded (only the inputs and outputs those rules read are checked)."""
    modified = None
    read = e.prim.read_by(e)
    for i in read:
        a = e.inputs[i] if i >= 0 else None
        if isinstance(a, Tensor) and a._vc[1] > e.seq:
            modified = a._vc
    if -1 in read and e.out_vc is not None:
        for vc in [e.out_vc] if e.n_out == 1 else e.out_vc:
            if vc[1] > e.seq:
                modified = vc
    if modified is not None:
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: an input or output of {e.prim.grad_fn_name} (op "
            f"'{e.prim.name}') is at version {modified[0]}, modified after the op was recorded. "
            "Hint: replace the in-place operation by an out-of-place one, or clone() the "
            "tensor before modifying it.")


def _hooked(hook, g):
    """Run a gradient hook; what it returns replaces g only if it has g's shape and dtype."""
    new = hook(g)
    if new is None:
        return g
    name = getattr(hook, "__name__", repr(hook))
    if not isinstance(new, Tensor):
        raise TypeError(f"hook '{name}' returned {type(new).__name__}; a hook must return a "
                        "Tensor or None")
    if new._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: it returned shape "
                           f"{list(new.shape)} for a gradient of shape {list(g.shape)}")
    if new._data.dtype != g._data.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value: it returned "
                           f"{new._data.dtype} for a gradient of dtype {g._data.dtype}")
    return new


def _visit_outputs(e, gs, wanted, got, create_graph, raw, shared):
    """Run hooks on, retain, and capture the cotangents of entry e's outputs."""
    for i, g in enumerate(gs):
        if g is None:
            continue
        hooks = (e.hooks or {}).get(i, ())
        ref = (e.retained or {}).get(i)
        t = _leaf(g) if raw and (hooks or ref) else g
        for hook in hooks:
            new = _hooked(hook, t)
            if new is not t:
                t = new
                gs[i] = _array(new) if raw else new
                shared.add(id(new._data))    # the hook's tensor is not ours to write into
        if ref is not None and ref() is not None:
            _accumulate(ref(), t, create_graph)
        pos = wanted.get((e, i))
        if pos is not None:
            got[pos] = gs[i]


def _oldest_uses(entries):
    """(clock of its oldest use, leaf) for each leaf with hooks used by `entries` (oldest
    first), sorted by clock: the replay finishes each leaf as soon as it passes that use."""
    first = {}
    for e in entries:
        for x in e.inputs or ():
            if isinstance(x, Tensor) and x._entry is None and x._hooks and id(x) not in first:
                first[id(x)] = (e.seq, x)
    return sorted(first.values(), key=lambda use: use[0])


def _finish_leaves(leaves, capture, got, accumulate, create_graph, shared, raw):
    """Run leaf hooks and accumulate (backward) or capture (grad) the leaves' gradients.

    With `capture`, only the requested leaves count: other leaves' hooks do not run.
    """
    for t, g in leaves.values():
        if capture is not None and not any(c is t for c in capture):
            continue
        if raw:
            g = _leaf(g)
        for hook in t._hooks or ():
            new = _hooked(hook, g)
            if new is not g:
                g = new
                shared.add(id(g._data))
        if accumulate:
            _accumulate(t, g, create_graph, shared)
        else:
            for pos, c in enumerate(capture):
                if c is t:
                    got[pos] = g


def _accumulate(t, g, create_graph, shared=None):
    """t.grad += g, as PyTorch's AccumulateGrad: in place when possible, a fresh buffer first.

    `.grad` is always a buffer of tapegrad's own: never a cotangent that another leaf, the
    caller's `gradient=` or a hook's tensor also holds.
    """
    if not create_graph:
        g = g.detach()
    with _accumulating:
        old = t._grad
        if old is None:
            a = g._data
            if create_graph:
                t._grad = g.clone()     # recorded: the gradient stays differentiable
            elif a.base is not None or not a.flags.writeable or shared is None or id(a) in shared:
                # cotangents may be views, read-only broadcasts, or shared with other tensors
                t._grad = _leaf(np.array(a, copy=True))
            else:
                shared.add(id(a))
                t._grad = _leaf(a)
        elif create_graph or old._rg:
            t._grad = old + g
        else:
            np.add(old._data, g._data, out=old._data, casting="unsafe")
            bump_version(old)


from .ops.shape import sum_to  # noqa: E402

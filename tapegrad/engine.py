"""Reverse replay of the tape: `backward`, `grad` and `Tape.gradient` all run `_replay`.

Entries are visited newest first, which is a topological order by construction: no graph
search, no sort, no recursion. Each visited entry with a pending cotangent runs its VJP rules;
their results are summed back to each input's shape and cast to its dtype here, once, so rules
never have to. Leaf gradients are collected and written only after the whole replay succeeded.
"""
import warnings
from heapq import heappush, heappop

import numpy as np

from ._state import state, writes, hooked_leaves, sparse_lookup_weights, profiling, debug
from ._tensor import Tensor, _leaf, fresh
from .tape import global_tape
from .ops.conversion import cast
from .ops.join import stack
from .ops.shape import sum_to
from .gradients import (roots_and_seeds, finish_grads, visit_outputs, oldest_uses,
                        finish_leaves, accumulate_grad)

ndarray = np.ndarray

RELEASED = ("Trying to backward through the graph a second time (or directly access saved "
            "tensors after they have already been freed): {op} was already replayed and its saved "
            "values freed. Specify retain_graph=True if you need to backward through the graph a "
            "second time or if you need to access saved tensors after calling backward.")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate d(tensors)/d(leaves) into the leaves' `.grad`, as torch.autograd.backward.

    `tensors` is a tensor or a sequence; `grad_tensors` gives their cotangents (needed for outputs
    with more than one element; `grad_variables` is its deprecated name). `retain_graph` keeps
    saved values for another backward (default: `create_graph`); `create_graph` records the
    backward for higher derivatives; `inputs` limits accumulation to those tensors.
    """
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.",
                      FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("`grad_tensors` and `grad_variables` (deprecated) arguments both "
                               "passed to `backward()`. Please only use `grad_tensors`.")
        grad_tensors = grad_variables
    roots, seeds = roots_and_seeds(tensors, grad_tensors, "backward")
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty")
        _refuse_sparse_lookups(inputs, "backward(inputs=...)")
    retain = create_graph if retain_graph is None else retain_graph
    callbacks = state.end_of_backward
    try:
        got = _replay(global_tape(), roots, seeds, retain, create_graph, capture=inputs,
                      accumulate=inputs is None)
        if inputs is not None:
            for t, g in zip(inputs, got):
                if g is not None:
                    accumulate_grad(t, g, create_graph)
        while callbacks:      # e.g. DDP's: wait for the buckets still on the wire
            callbacks.pop(0)()
    except BaseException:
        callbacks.clear()     # queued by this backward's hooks: they must not outlive it
        raise


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any `.grad`, as torch.autograd.grad.

    `grad_outputs` are the cotangents of `outputs` (needed for non-scalars). `retain_graph` and
    `create_graph` are as in `backward`; `only_inputs` is accepted (PyTorch ignores it too). An
    input that does not affect the outputs raises unless `allow_unused`, then gives None (or zeros
    with `materialize_grads`). With `is_grads_batched`, one vector-Jacobian product per row of the
    grad_outputs, stacked.
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to "
                      "True). To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if not inputs:
        raise RuntimeError("grad: `inputs` argument to `grad()` cannot be empty.")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is {type(t).__name__}, expected a Tensor")
        if not fresh(t)._requires_grad:
            raise RuntimeError(f"grad: One of the differentiated Tensors (inputs[{i}], shape "
                               f"{list(t.shape)}) does not require grad")
    _refuse_sparse_lookups(inputs, "grad")
    retain = create_graph if retain_graph is None else retain_graph
    unused = materialize_grads if allow_unused is None else allow_unused
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain, create_graph, unused,
                             materialize_grads)
    roots, seeds = roots_and_seeds(outputs, grad_outputs, "grad")
    got = _replay(global_tape(), roots, seeds, retain, create_graph, capture=inputs,
                  accumulate=False)
    return tuple(finish_grads(got, inputs, unused, materialize_grads, "grad"))


def _batched_grad(outputs, inputs, grad_outputs, retain, create_graph, unused, materialize):
    """grad with is_grads_batched: a replay per row of the grad_outputs (the graph is kept for
    all but the last), the results stacked along a new first dimension."""
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    gos = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or ())
    if len(gos) != len(outs) or not all(isinstance(g, Tensor) and g.ndim == o.ndim + 1
                                        for g, o in zip(gos, outs)):
        raise RuntimeError("grad: is_grads_batched=True expects one grad_output per output, "
                           "each a Tensor with a leading batch dimension")
    rows = {g.shape[0] for g in gos}
    if len(rows) != 1:
        raise RuntimeError(f"grad: is_grads_batched=True expects grad_outputs with one batch "
                           f"size, got {sorted(rows)}")
    n = rows.pop()
    per_row = []
    for k in range(n):
        got = _replay(global_tape(), *roots_and_seeds(outs, [g[k] for g in gos], "grad"),
                      retain or k < n - 1, create_graph, capture=inputs, accumulate=False)
        per_row.append(finish_grads(got, inputs, unused, materialize, "grad"))
    return tuple(None if all(r[i] is None for r in per_row) else stack([r[i] for r in per_row])
                 for i in range(len(inputs)))


def _refuse_sparse_lookups(inputs, where):
    for i, t in enumerate(inputs):
        if sparse_lookup_weights.get(id(t)) is t:
            raise RuntimeError(
                f"{where}: inputs[{i}] (shape {list(t.shape)}) is an Embedding weight looked up "
                "with sparse=True, whose gradient reaches .grad through a hook that this call "
                "cannot follow; call .backward() and read .grad, or use sparse=False")


def tape_gradient(tape, target, sources, output_gradients=None):
    """d(target)/d(sources) through the entries on `tape` only, like TF's GradientTape.gradient.

    `Tape.gradient`: `target` is a tensor recorded on the tape, `sources` a tensor or sequence;
    unused sources give None. `output_gradients` is the cotangent of `target` (needed unless
    `target` has one element).

    Called while an enclosing tape records, the computation is itself recorded, so the enclosing
    tape can differentiate the result again (higher-order derivatives).
    """
    if tape._used and not tape.persistent:
        raise RuntimeError("Tape.gradient: a non-persistent tape can only be used once; "
                           "create it with Tape(persistent=True) to call gradient() again")
    tape._used = True
    single = not isinstance(sources, (list, tuple))
    inputs = [sources] if single else list(sources)
    recording = any(t is not tape for t in state.tapes[1:])
    roots, seeds = roots_and_seeds([target], output_gradients, "Tape.gradient")
    got = _replay(tape, roots, seeds, tape.persistent or recording, recording, capture=inputs,
                  accumulate=False, follow=False)
    grads = finish_grads(got, inputs, True, False, "Tape.gradient")
    return grads[0] if single else grads


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
    st = state
    # the profiler's timed stand-in for prim.vjp while one runs; anomaly mode's checked one
    timed = debug.vjp or profiling.vjp
    fast = raw and timed is None
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
        final = oldest_uses(recorded) if hooks_early else None
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
                    finish_leaves({id(t): acc}, None, got, True, create_graph, shared, raw)
            gs = pop(e, None)
            if gs is None:
                continue
            if useful is not None and e not in useful and (foreign is None or e.owner is tape):
                # no path from here to a requested tensor: run no rule, and no hook but a
                # requested output's (torch computes nothing here)
                if wanted:
                    visit_outputs(e, gs, wanted, got, create_graph, raw, shared, True)
                continue
            prim = e.prim
            inputs = e.inputs
            if inputs is None:
                raise RuntimeError(RELEASED.format(op=prim.grad_fn_name))
            seq = e.seq
            if writes.last > seq:
                _check_versions(e)
            if e.hooks is not None or wanted:
                visit_outputs(e, gs, wanted, got, create_graph, raw, shared)
            if e.n_out > 1:
                gs = [(np.zeros_like(o) if raw else _leaf(np.zeros_like(o))) if g is None else g
                      for g, o in zip(gs, e.out)]
            if fast and prim.raw and e.n_out == 1:
                # Primitive.vjp's common case, inlined: raw rules on the saved arrays
                g, out, params = gs[0], e.out[0], e.params
                rules = prim.rules
                if len(inputs) == 1 and type(rules) is tuple and rules:     # (not cat's)
                    x = inputs[0]
                    rule = rules[0]
                    grads = (None if rule is None or not x._requires_grad else
                             rule(g, out, x._data, **params) if params else
                             rule(g, out, x._data),)
                else:
                    args = [a._data if isinstance(a, Tensor) else a for a in inputs]
                    grads = []
                    for x, rule in zip(inputs, rules):
                        grads.append(None if rule is None or not isinstance(x, Tensor)
                                     or not x._requires_grad else
                                     rule(g, out, *args, **params) if params else
                                     rule(g, out, *args))
            else:
                grads = prim.vjp(e, gs, raw) if timed is None else timed(prim, e, gs, raw)
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
        finish_leaves(leaves, capture, got, accumulate, create_graph, shared, raw)
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
    # (a view made under no_grad gets no gradient, as in torch: it leads nowhere)
    leaves = {id(t) for t in capture if t._entry is None and not t._nograd_view}
    targets = {(t._entry, t._index) for t in capture if t._entry is not None}
    useful = set()
    for e in entries:
        if e.inputs is None:
            # released: where its inputs came from is gone, so it may lead to what is asked;
            # the replay then says the graph was freed (never "no gradient"). Keeping the
            # routes would cost every backward ~100 ns per entry for this rare case.
            useful.add(e)
            continue
        seq = e.seq
        for x in e.inputs:
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
        elif x._requires_grad and x._requires_grad_since < seq and not x._nograd_view:
            acc = self.leaves.get(id(x))
            if acc is None:
                self.leaves[id(x)] = [x, g]
            else:
                acc[1] = acc[1] + g


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
        g = cast(g, dtype=xa.dtype)
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
        if isinstance(a, Tensor) and a._counter.written > e.seq:
            modified = a._counter
    if -1 in read and e.out_counters is not None:
        counters = e.out_counters
        for counter in (counters,) if e.n_out == 1 else counters:
            if counter.written > e.seq:
                modified = counter
    if modified is not None:
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: an input or output of {e.prim.grad_fn_name} (op "
            f"'{e.prim.name}') is at version {modified.version}, modified after the op was recorded. "
            "Hint: replace the in-place operation by an out-of-place one, or clone() the "
            "tensor before modifying it.")



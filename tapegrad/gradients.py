"""The ends of a replay: seeds for its roots, hooks and captures on the way, and the
accumulation of leaf gradients into `.grad` (PyTorch's AccumulateGrad)."""
import threading

import numpy as np

from ._tensor import Tensor, _leaf, fresh
from .tape import bump_version
from .ops.elementwise import add
from .ops.conversion import cast, clone

# Backward calls in several threads may accumulate into one leaf: each `.grad` update is a
# read-modify-write, so they take turns (PyTorch serialises accumulation per leaf too).
_accumulating = threading.Lock()


def finish_grads(got, inputs, allow_unused, materialize, where):
    out = []
    for i, (t, g) in enumerate(zip(inputs, got)):
        if g is not None and not g._data.flags.writeable:
            # a broadcast cotangent (sum's, expand's): hand out memory the caller may write
            g = clone(g) if g._requires_grad else _leaf(np.array(g._data))
        if g is None:
            if materialize:
                g = _leaf(np.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(f"{where}: One of the differentiated Tensors (inputs[{i}], "
                                   f"shape {list(t.shape)}) appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return out


def roots_and_seeds(tensors, grads, where):
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grads is None:
        grads = [None] * len(roots)
    elif isinstance(grads, Tensor) or not isinstance(grads, (list, tuple)):
        grads = [grads]
    if len(grads) != len(roots):
        raise RuntimeError(f"{where}: got {len(grads)} gradients for {len(roots)} tensors")
    seeds = []
    for i, (r, g) in enumerate(zip(roots, grads)):
        if not isinstance(r, Tensor) or not fresh(r)._requires_grad:
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
                g = cast(g, dtype=r._data.dtype)
        seeds.append(g)
    return roots, seeds


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


def visit_outputs(e, gs, wanted, got, create_graph, raw, shared, wanted_only=False):
    """Run hooks on, retain, and capture the cotangents of entry e's outputs; with
    `wanted_only`, of the requested ones only (an entry with no path to what `grad` asks for
    computes no other gradient, so, as in PyTorch, no other hook fires)."""
    for i, g in enumerate(gs):
        if g is None or wanted_only and (e, i) not in wanted:
            continue
        hooks = (e.hooks or {}).get(i, ())
        ref = (e.retained or {}).get(i)
        t = _leaf(g) if raw and (hooks or ref) else g
        for hook in hooks:
            new = _hooked(hook, t)
            if new is not t:
                t = new
                gs[i] = new._data if raw else new
                shared.add(id(new._data))    # the hook's tensor is not ours to write into
        if ref is not None and ref() is not None:
            accumulate_grad(ref(), t, create_graph)
        pos = wanted.get((e, i))
        if pos is not None:
            got[pos] = gs[i]


def oldest_uses(entries):
    """(clock of its oldest use, leaf) for each leaf with hooks used by `entries` (oldest
    first), sorted by clock: the replay finishes each leaf as soon as it passes that use."""
    first = {}
    for e in entries:
        for x in e.inputs or ():
            if (isinstance(x, Tensor) and x._entry is None and id(x) not in first
                    and (x._hooks or x._post_accumulate_hooks)):
                first[id(x)] = (e.seq, x)
    return sorted(first.values(), key=lambda use: use[0])


def finish_leaves(leaves, capture, got, accumulate, create_graph, shared, raw):
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
            accumulate_grad(t, g, create_graph, shared)
        else:
            for pos, c in enumerate(capture):
                if c is t:
                    got[pos] = g


def accumulate_grad(t, g, create_graph, shared=None):
    """t.grad += g, as PyTorch's AccumulateGrad: in place when possible, a fresh buffer first.

    `.grad` is always a buffer of tapegrad's own: never a cotangent that another leaf, the
    caller's `gradient=` or a hook's tensor also holds.
    """
    if not create_graph:
        g = g.detach()
    with _accumulating:
        old = t._grad
        if old is not None and not isinstance(old, Tensor):    # a SparseGrad, then a dense one
            old = t._grad = old.to_dense()
        if old is None:
            a = g._data
            if create_graph:
                t._grad = clone(g)     # recorded: the gradient stays differentiable
            elif (a.base is not None or not a.flags.writeable or shared is None
                  or id(a) in shared or a.strides != t._data.strides):
                # cotangents may be views, read-only broadcasts, shared with other tensors, or
                # laid out otherwise (a transposed matmul's): .grad takes the leaf's layout,
                # as PyTorch's, so that optimizers stay on their contiguous fast paths
                buffer = np.empty_like(t._data)
                np.copyto(buffer, a, casting="unsafe")
                t._grad = _leaf(buffer)
            else:
                shared.add(id(a))
                t._grad = _leaf(a)
        elif create_graph or old._requires_grad:
            t._grad = add(old, g)
        else:
            np.add(old._data, g._data, out=old._data, casting="unsafe")
            bump_version(old)
    for hook in t._post_accumulate_hooks or ():     # outside the lock: hooks may communicate
        hook(t)


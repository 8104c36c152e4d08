"""Forward hooks of a Module: registering them (`RemovableHandle`) and running them around
`forward` (torch.utils.hooks and the hooked path of torch.nn.Module.__call__)."""
import itertools


class RemovableHandle:
    """Returned by the hook registrations: `remove()` (or leaving a `with` block) unregisters."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks, with_kwargs_set, hook, prepend, with_kwargs):
    """Register `hook` in the ordered dict `hooks` (first with prepend); its handle removes it."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        items = list(hooks.items())
        hooks.clear()
        hooks.update([items[-1]] + items[:-1])
    if with_kwargs:
        with_kwargs_set.add(handle.id)
    return handle


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` when it has hooks: pre-hooks may replace the arguments, forward
    runs, then forward hooks may replace the output."""
    for hid, hook in list(module._forward_pre_hooks.items()):
        if hid in module._forward_pre_hooks_with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    out = module.forward(*args, **kwargs)
    for hid, hook in list(module._forward_hooks.items()):
        result = hook(module, args, kwargs, out) if hid in module._forward_hooks_with_kwargs \
            else hook(module, args, out)
        if result is not None:
            out = result
    return out

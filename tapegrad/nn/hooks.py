"""`RemovableHandle`: what registering a hook returns (torch.utils.hooks.RemovableHandle)."""
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

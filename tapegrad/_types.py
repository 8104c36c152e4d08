"""The small value types of the tensor API: `Size` (torch.Size), `Device` (torch.device: the
CPU only) and the handle `Tensor.register_hook` returns."""
import numpy as np


class Size(tuple):
    """torch.Size: a tuple that prints as `torch.Size([2, 3])`."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        return int(np.prod(self))


class Device:
    """Only the CPU exists; asking for anything else is a clear error."""

    def __init__(self, spec="cpu", index=None):
        spec = spec.type if isinstance(spec, Device) else str(spec)
        if spec.split(":")[0] != "cpu":
            raise RuntimeError(f"device '{spec}' is not available: tapegrad runs on the CPU only "
                               "(tapegrad.cuda.is_available() is False)")
        self.type = "cpu"
        self.index = None

    def __repr__(self):
        return "device(type='cpu')"

    def __eq__(self, other):
        return isinstance(other, (Device, str)) and str(other).split(":")[0] == "cpu"

    def __hash__(self):
        return hash("cpu")

    def __str__(self):
        return "cpu"


CPU = Device()


class HookHandle:
    """What `register_hook` returns: `remove()` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

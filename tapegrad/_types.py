"""The small value types of the tensor API: `Size` (torch.Size), `Device` (torch.device: the
CPU only) and the handle `Tensor.register_hook` returns."""
import numpy as np


class Size(tuple):
    """torch.Size: a tuple that prints as `torch.Size([2, 3])`."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        """The number of elements a tensor of this shape holds, as torch.Size.numel."""
        return int(np.prod(self))


class Device:
    """A device, as torch.device: only the CPU exists.

    `device("cpu")`, `device("cpu", 0)` and `device("cpu:0")` work; `type` is the device type (or a
    "type:index" string, or another device) and `index` its ordinal. Any other type (a bare int
    names a CUDA device, as in PyTorch) is a clear RuntimeError here rather than later.
    """

    def __init__(self, type="cpu", index=None):      # noqa: A002 (PyTorch's names)
        if isinstance(type, Device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type     # as torch: a bare ordinal names a CUDA device
        spec = str(type)
        name, colon, rest = spec.partition(":")
        if colon:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {spec}")
            if not rest.isdigit():
                raise RuntimeError(f"Invalid device string: '{spec}'")
            index = int(rest)
        if name != "cpu":
            shown = spec if index is None or colon else f"{spec}:{index}"
            raise RuntimeError(f"device '{shown}' is not available: tapegrad runs on the CPU "
                               "only (tapegrad.cuda.is_available() is False)")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index!r}")
        self.type, self.index = "cpu", index

    def __repr__(self):
        return "device(type='cpu')" if self.index is None else \
            f"device(type='cpu', index={self.index})"

    def __str__(self):
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other):
        # as torch: a device equals a device of the same type and index, never a string
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return Device, (self.type, self.index)

    def __enter__(self):
        """`with torch.device("cpu"):` makes it the default device: the CPU always is."""
        return self

    def __exit__(self, *exc):
        return False


CPU = Device()


class _Default:
    """The device `set_default_device` chose: always a CPU device."""

    device = CPU


def set_default_device(device):
    """torch.set_default_device: the CPU (`None` resets it); any other device is an error."""
    _Default.device = CPU if device is None else Device(device)


def get_default_device():
    """torch.get_default_device."""
    return _Default.device


class HookHandle:
    """What `register_hook` returns: `remove()` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

"""Padding modules (torch.nn.ZeroPad2d, ConstantPad1d, ReflectionPad2d, ...) over `F.pad`."""
from .module import Module
from .padding import pad


def _ntuple(padding, n, name):
    if isinstance(padding, int):
        return (padding,) * n
    padding = tuple(int(p) for p in padding)
    if len(padding) != n:
        raise ValueError(f"{name}: padding must be an int or a tuple of {n} ints, got "
                         f"{padding}")
    return padding


class _Pad(Module):
    """A padding module: `padding` as (left, right[, top, bottom[, front, back]])."""
    mode, dims = "constant", 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self.dims, type(self).__name__)

    def forward(self, input):
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self.dims + 1}D or "
                             f"{self.dims + 2}D input, got shape {list(input.shape)}")
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPad):
    """torch.nn.ConstantPad1d."""
    dims = 1


class ConstantPad2d(_ConstantPad):
    """torch.nn.ConstantPad2d."""
    dims = 2


class ConstantPad3d(_ConstantPad):
    """torch.nn.ConstantPad3d."""
    dims = 3


class ZeroPad1d(ConstantPad1d):
    """torch.nn.ZeroPad1d."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """torch.nn.ZeroPad2d."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """torch.nn.ZeroPad3d."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_Pad):
    """torch.nn.ReflectionPad1d."""
    mode, dims = "reflect", 1


class ReflectionPad2d(_Pad):
    """torch.nn.ReflectionPad2d."""
    mode, dims = "reflect", 2


class ReflectionPad3d(_Pad):
    """torch.nn.ReflectionPad3d."""
    mode, dims = "reflect", 3


class ReplicationPad1d(_Pad):
    """torch.nn.ReplicationPad1d."""
    mode, dims = "replicate", 1


class ReplicationPad2d(_Pad):
    """torch.nn.ReplicationPad2d."""
    mode, dims = "replicate", 2


class ReplicationPad3d(_Pad):
    """torch.nn.ReplicationPad3d."""
    mode, dims = "replicate", 3


class CircularPad1d(_Pad):
    """torch.nn.CircularPad1d."""
    mode, dims = "circular", 1


class CircularPad2d(_Pad):
    """torch.nn.CircularPad2d."""
    mode, dims = "circular", 2


class CircularPad3d(_Pad):
    """torch.nn.CircularPad3d."""
    mode, dims = "circular", 3

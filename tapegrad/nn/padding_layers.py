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
    """Pad the last dim of a 2-d or 3-d input with the constant ``value`` (nn.ConstantPad1d).

    ``padding`` is an int (the same on every side) or a 2-tuple (left, right).
    """
    dims = 1


class ConstantPad2d(_ConstantPad):
    """Pad the last 2 dims of a 3-d or 4-d input with the constant ``value`` (nn.ConstantPad2d).

    ``padding`` is an int (the same on every side) or a 4-tuple (left, right, top, bottom).
    """
    dims = 2


class ConstantPad3d(_ConstantPad):
    """Pad the last 3 dims of a 4-d or 5-d input with the constant ``value`` (nn.ConstantPad3d).

    ``padding`` is an int (every side) or a 6-tuple (left, right, top, bottom, front, back).
    """
    dims = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim of a 2-d or 3-d input with zeros (nn.ZeroPad1d).

    ``padding`` is an int (the same on every side) or a 2-tuple (left, right).
    """

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims of a 3-d or 4-d input with zeros (nn.ZeroPad2d).

    ``padding`` is an int (the same on every side) or a 4-tuple (left, right, top, bottom).
    """

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims of a 4-d or 5-d input with zeros (nn.ZeroPad3d).

    ``padding`` is an int (every side) or a 6-tuple (left, right, top, bottom, front, back).
    """

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_Pad):
    """Pad the last dim of a 2-d or 3-d input by reflection at its edges (nn.ReflectionPad1d).

    ``padding`` is an int (the same on every side) or a 2-tuple (left, right).
    """
    mode, dims = "reflect", 1


class ReflectionPad2d(_Pad):
    """Pad the last 2 dims of a 3-d or 4-d input by reflection at its edges (nn.ReflectionPad2d).

    ``padding`` is an int (the same on every side) or a 4-tuple (left, right, top, bottom).
    """
    mode, dims = "reflect", 2


class ReflectionPad3d(_Pad):
    """Pad the last 3 dims of a 4-d or 5-d input by reflection at its edges (nn.ReflectionPad3d).

    ``padding`` is an int (every side) or a 6-tuple (left, right, top, bottom, front, back).
    """
    mode, dims = "reflect", 3


class ReplicationPad1d(_Pad):
    """Pad the last dim of a 2-d or 3-d input by repeating the edge values (nn.ReplicationPad1d).

    ``padding`` is an int (the same on every side) or a 2-tuple (left, right).
    """
    mode, dims = "replicate", 1


class ReplicationPad2d(_Pad):
    """Pad the last 2 dims of a 3-d or 4-d input by repeating the edge values (nn.ReplicationPad2d).

    ``padding`` is an int (the same on every side) or a 4-tuple (left, right, top, bottom).
    """
    mode, dims = "replicate", 2


class ReplicationPad3d(_Pad):
    """Pad the last 3 dims of a 4-d or 5-d input by repeating the edge values (nn.ReplicationPad3d).

    ``padding`` is an int (every side) or a 6-tuple (left, right, top, bottom, front, back).
    """
    mode, dims = "replicate", 3


class CircularPad1d(_Pad):
    """Pad the last dim of a 2-d or 3-d input by wrapping around (periodic) (nn.CircularPad1d).

    ``padding`` is an int (the same on every side) or a 2-tuple (left, right).
    """
    mode, dims = "circular", 1


class CircularPad2d(_Pad):
    """Pad the last 2 dims of a 3-d or 4-d input by wrapping around (periodic) (nn.CircularPad2d).

    ``padding`` is an int (the same on every side) or a 4-tuple (left, right, top, bottom).
    """
    mode, dims = "circular", 2


class CircularPad3d(_Pad):
    """Pad the last 3 dims of a 4-d or 5-d input by wrapping around (periodic) (nn.CircularPad3d).

    ``padding`` is an int (every side) or a 6-tuple (left, right, top, bottom, front, back).
    """
    mode, dims = "circular", 3

"""`conv2d` and `Conv2d` (torch.nn.functional.conv2d / torch.nn.Conv2d).

The arithmetic is the fused `convolution` primitive of ops/conv.py; here, PyTorch's argument
forms ('same'/'valid' padding, ints or pairs, unbatched (C, H, W) input) and its checks.
"""
from .. import creation
from ..ops import conv as _ops
from ..ops.shape import reshape_prim
from .linear import reset_weight_and_bias
from .module import Module
from .padding import pad
from .parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def pair(v, name, op):
    """(v, v) for an int, else the 1 or 2 values of a sequence as a pair (2-D layers' args)."""
    if isinstance(v, int):
        return (v, v)
    v = tuple(v)
    if len(v) == 1:
        return v * 2
    if len(v) != 2:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of 2 "
                           f"values to match the 2-D dimensions, but got {name}={list(v)}")
    return v


def _same_padding(kernel, dilation):
    """((top, bottom), (left, right)) keeping the size at stride 1: any odd unit goes last."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in total)


def _conv2d(input, weight, bias, stride, padding, dilation, groups, who):
    """conv2d naming `who` (the function's name, or the layer) in its error messages."""
    if weight.ndim != 4:
        raise RuntimeError(f"{who}: expected a 4-D weight (out_channels, in_channels/groups, kH, "
                           f"kW), got shape {list(weight.shape)}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{who}: Expected 3D (unbatched) or 4D (batched) input to conv2d, but "
                           f"got input of size: {list(input.shape)}")
    O, Cg, kh, kw = weight.shape
    C = input.shape[-3]
    if groups < 1 or O % groups:
        raise RuntimeError(f"{who}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {list(weight.shape)}")
    if C != Cg * groups:
        raise RuntimeError(f"{who}: Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have {Cg * groups} channels, "
                           f"but got {C} channels instead")
    if bias is not None and tuple(bias.shape) != (O,):
        raise RuntimeError(f"{who}: Given weight of size {list(weight.shape)}, expected bias to "
                           f"be 1-dimensional with {O} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    for t in (weight, bias):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"{who}: Input type ({input.dtype}) and weight/bias type "
                               f"({t.dtype}) should be the same")
    stride, dilation = pair(stride, "stride", who), pair(dilation, "dilation", who)
    if min(stride) < 1:
        raise RuntimeError(f"{who}: non-positive stride is not supported, got {list(stride)}")
    if min(dilation) < 1:
        raise RuntimeError(f"{who}: dilation should be greater than zero, got {list(dilation)}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError(f"{who}: padding='same' is not supported for strided "
                                   "convolutions")
            pads = _same_padding((kh, kw), dilation)
        else:
            raise RuntimeError(f"{who}: Invalid padding string '{padding}', should be one of "
                               "'valid', 'same'")
    else:
        p = pair(padding, "padding", who)
        if min(p) < 0:
            raise RuntimeError(f"{who}: negative padding is not supported, got {list(p)}")
        pads = ((p[0], p[0]), (p[1], p[1]))
    padded = [n + lo + hi for n, (lo, hi) in zip(input.shape[-2:], pads)]
    span = [d * (k - 1) + 1 for k, d in zip((kh, kw), dilation)]
    if padded[0] < span[0] or padded[1] < span[1]:
        raise RuntimeError(f"{who}: Calculated padded input size per channel: ({padded[0]} x "
                           f"{padded[1]}). Kernel size: ({span[0]} x {span[1]}). Kernel size "
                           "can't be greater than actual input size")
    x = input if input.ndim == 4 else reshape_prim(input, (1,) + tuple(input.shape))
    out = _ops.conv2d(x, weight, bias, stride=stride, padding=pads, dilation=dilation,
                      groups=groups)
    return out if input.ndim == 4 else reshape_prim(out, tuple(out.shape[1:]))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C, H, W) or (C, H, W) ``input`` (torch.nn.functional.conv2d).

    ``weight`` is (O, C/groups, kH, kW) and the optional ``bias`` (O,). ``stride`` and
    ``dilation`` are ints or (h, w) pairs; ``padding`` (zeros) is an int, a pair, 'valid' or
    'same'; ``groups`` splits the channels into independent groups. The output is
    (N, O, H_out, W_out) with H_out = (H + 2 pad - dilation (kH - 1) - 1) // stride + 1.
    """
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, "conv2d")


def check_arguments(in_channels, out_channels, groups, padding_mode):
    """PyTorch's checks of a convolution module's constructor arguments (ValueError)."""
    if groups <= 0:
        raise ValueError("groups must be a positive integer")
    if in_channels % groups:
        raise ValueError("in_channels must be divisible by groups")
    if out_channels % groups:
        raise ValueError("out_channels must be divisible by groups")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got "
                         f"padding_mode='{padding_mode}'")


class Conv2d(Module):
    """2-D convolution layer over (N, C, H, W) or (C, H, W) input (torch.nn.Conv2d).

    The weight (out_channels, in_channels / groups, kH, kW) and bias (out_channels,) are
    drawn as in PyTorch (``kaiming_uniform_`` with a = sqrt(5), bias U(-1/sqrt(fan_in), ...)).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output.
    kernel_size : int or tuple
        (kH, kW), or one int for both.
    stride, dilation : int or tuple
        Step between windows and spacing between kernel taps, per spatial dim.
    padding : int, tuple or str
        Implicit padding on both sides of each spatial dim, or 'valid' (none) or 'same'
        (output size = input size; stride 1 only).
    groups : int
        Split the channels into this many independent groups (both counts divisible by it).
    bias : bool
        Whether to learn a bias.
    padding_mode : str
        'zeros', 'reflect', 'replicate' or 'circular'.
    device, dtype
        Where and in which dtype the parameters are created.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        check_arguments(in_channels, out_channels, groups, padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.dilation = pair(dilation, "dilation", "Conv2d")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            pads = _same_padding(self.kernel_size, self.dilation) if padding == "same" else \
                ((0, 0), (0, 0))
            self.padding = padding
        else:
            self.padding = pair(padding, "padding", "Conv2d")
            pads = tuple((p, p) for p in self.padding)
        # F.pad's order (left, right, top, bottom), for the non-zero padding modes
        self._reversed_padding_repeated_twice = pads[1] + pads[0]
        self.groups, self.padding_mode = groups, padding_mode
        self.output_padding, self.transposed = (0, 0), False
        self.weight = Parameter(creation.empty(
            (out_channels, in_channels // groups) + self.kernel_size, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw weight and bias with PyTorch's default initialisation."""
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        if self.padding_mode != "zeros":
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return _conv2d(input, self.weight, self.bias, self.stride, 0, self.dilation,
                           self.groups, self)
        return _conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                       self.groups, self)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

"""`conv1d`, `conv3d`, `conv_transpose1d/2d` and their modules (torch.nn's).

No new arithmetic: conv1d is conv2d over a unit height; conv3d sums, over the kernel's depth,
conv2d's of depth slices folded into the batch; a transposed convolution is the VJP of the
convolution for its input, the `conv2d_input_grad` primitive of ops/conv.py.
"""
from .. import creation
from ..ops import conv as _ops
from ..ops.indexing import getitem
from ..ops.shape import permute, reshape_prim, unsqueeze, squeeze
from .conv import _conv2d, _same_padding, check_arguments, pair
from .linear import reset_weight_and_bias
from .module import Module
from .padding import pad
from .parameter import Parameter


def _single(v, name, op):
    """An int from an int or a 1-sequence (1-D layers' args)."""
    if isinstance(v, int):
        return v
    v = tuple(v)
    if len(v) != 1:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of 1 "
                           f"value to match the 1-D dimension, but got {name}={list(v)}")
    return v[0]


def _triple(v, name, op):
    """(v, v, v) for an int, else the 1 or 3 values of a sequence as a triple."""
    if isinstance(v, int):
        return (v,) * 3
    v = tuple(v)
    if len(v) == 1:
        return v * 3
    if len(v) != 3:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of 3 "
                           f"values to match the 3-D dimensions, but got {name}={list(v)}")
    return v


def _check_ndim(input, weight, dims, op):
    if weight.ndim != dims + 2:
        raise RuntimeError(f"{op}: expected a {dims + 2}-D weight, got shape "
                           f"{list(weight.shape)}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) "
                           f"input to {op}, but got input of size: {list(input.shape)}")


# ---- conv1d ----------------------------------------------------------------------------------
def _conv1d(input, weight, bias, stride, padding, dilation, groups, who):
    _check_ndim(input, weight, 1, who)
    if not isinstance(padding, str):
        padding = (0, _single(padding, "padding", who))
    out = _conv2d(unsqueeze(input, -2), unsqueeze(weight, -2), bias,
                  (1, _single(stride, "stride", who)), padding,
                  (1, _single(dilation, "dilation", who)), groups, who)
    return squeeze(out, -2)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of (N, C, L) or (C, L) ``input`` (torch.nn.functional.conv1d).

    ``weight`` is (O, C/groups, k) and the optional ``bias`` (O,); ``stride``, ``padding``
    (an int, 'valid' or 'same'), ``dilation`` and ``groups`` as in :func:`conv2d`, each one
    int.
    """
    return _conv1d(input, weight, bias, stride, padding, dilation, groups, "conv1d")


# ---- conv3d ----------------------------------------------------------------------------------
def _conv3d(input, weight, bias, stride, padding, dilation, groups, who):
    _check_ndim(input, weight, 3, who)
    x = input if input.ndim == 5 else unsqueeze(input, 0)
    kd = weight.shape[2]
    (sd, *s2), (dd, *d2) = _triple(stride, "stride", who), _triple(dilation, "dilation", who)
    if min(sd, dd) < 1:
        raise RuntimeError(f"{who}: stride and dilation must be positive, got stride={stride}, "
                           f"dilation={dilation}")
    if isinstance(padding, str):
        if padding == "same" and (sd, *s2) != (1, 1, 1):
            raise RuntimeError(f"{who}: padding='same' is not supported for strided "
                               "convolutions")
        depth_pad = _same_padding((kd,), (dd,))[0] if padding == "same" else (0, 0)
        plane_pad = padding
    else:
        p = _triple(padding, "padding", who)
        depth_pad, plane_pad = (p[0], p[0]), p[1:]
    if depth_pad != (0, 0):
        x = pad(x, (0, 0, 0, 0) + depth_pad)
    N, C, D = x.shape[:3]
    Do = (D - dd * (kd - 1) - 1) // sd + 1
    if Do < 1:
        raise RuntimeError(f"{who}: Calculated padded input depth ({D}) is smaller than the "
                           f"kernel's depth span ({dd * (kd - 1) + 1})")
    out = None
    for a in range(kd):
        # the depth slices this kernel plane meets, folded into the batch
        part = getitem(x, (slice(None), slice(None), slice(a * dd, a * dd + sd * (Do - 1) + 1,
                                                           sd)))
        part = reshape_prim(permute(part, 0, 2, 1, 3, 4), (N * Do, C) + tuple(x.shape[3:]))
        y = _conv2d(part, getitem(weight, (slice(None), slice(None), a)),
                    bias if a == 0 else None, tuple(s2), plane_pad, tuple(d2), groups, who)
        out = y if out is None else out + y
    out = permute(reshape_prim(out, (N, Do) + tuple(out.shape[1:])), 0, 2, 1, 3, 4)
    return out if input.ndim == 5 else squeeze(out, 0)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of (N, C, D, H, W) or (C, D, H, W) ``input`` (functional.conv3d).

    ``weight`` is (O, C/groups, kD, kH, kW) and the optional ``bias`` (O,); ``stride``,
    ``padding``, ``dilation`` (ints or triples) and ``groups`` as in :func:`conv2d`.
    """
    return _conv3d(input, weight, bias, stride, padding, dilation, groups, "conv3d")


# ---- transposed convolutions ------------------------------------------------------------------
def _conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation,
                      who):
    """The input VJP of conv2d: weight (C_in, C_out/groups, kH, kW) maps C_in to C_out."""
    _check_ndim(input, weight, 2, who)
    x = input if input.ndim == 4 else unsqueeze(input, 0)
    Cin = weight.shape[0]
    if groups < 1 or Cin % groups or x.shape[1] != Cin:
        raise RuntimeError(f"{who}: Given transposed=1, weight of size {list(weight.shape)}, "
                           f"groups={groups}, expected input{list(input.shape)} to have {Cin} "
                           f"channels (divisible by groups), but got {x.shape[1]} channels "
                           "instead")
    Cout = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (Cout,):
        raise RuntimeError(f"{who}: expected bias of shape [{Cout}], got {list(bias.shape)}")
    for t in (weight, bias):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"{who}: Input type ({input.dtype}) and weight/bias type "
                               f"({t.dtype}) should be the same")
    stride, dilation = pair(stride, "stride", who), pair(dilation, "dilation", who)
    padding, output_padding = pair(padding, "padding", who), \
        pair(output_padding, "output_padding", who)
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(output_padding) < 0:
        raise RuntimeError(f"{who}: stride and dilation must be positive, padding and "
                           f"output_padding non-negative, got stride={list(stride)}, dilation="
                           f"{list(dilation)}, padding={list(padding)}, output_padding="
                           f"{list(output_padding)}")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(f"{who}: output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={list(output_padding)}, "
                               f"stride={list(stride)}, dilation={list(dilation)}")
    size, pads, extra = [], [], []
    for n, k, s, p, d, op in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation,
                                 output_padding):
        m = (n - 1) * s - 2 * p + d * (k - 1) + 1
        if m + op < 1:
            raise RuntimeError(f"{who}: Given input size per channel {list(x.shape[2:])}, the "
                               f"calculated output size is non-positive ({m + op})")
        # the output is the input VJP of a convolution over m + op entries that gives n
        # outputs: its far padding shrinks by op (not below 0). Entries past m + p receive
        # nothing; an output padding that reaches past them is zeros, added by pad
        used = min(op, p + s - 1)
        size.append(m + used)
        pads.append((p, max(p - used, 0)))
        extra.append(op - used)
    out = _ops.conv2d_input_grad(x, weight, size=tuple(size), stride=stride, padding=tuple(pads),
                                 dilation=dilation, groups=groups)
    if any(extra):
        out = pad(out, (0, extra[1], 0, extra[0]))
    if bias is not None:
        out = out + reshape_prim(bias, (1, Cout, 1, 1))
    return out if input.ndim == 4 else squeeze(out, 0)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution of (N, C_in, H, W) or (C_in, H, W) ``input``.

    Mirrors torch.nn.functional.conv_transpose2d (the gradient of conv2d with respect to its
    input): ``weight`` is (C_in, C_out/groups, kH, kW) and the optional ``bias`` (C_out,).
    ``stride``, ``padding``, ``output_padding`` and ``dilation`` are ints or pairs; the output
    height is (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1, and
    ``groups`` splits the channels as in conv2d.
    """
    return _conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, "conv_transpose2d")


def _conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation,
                      who):
    _check_ndim(input, weight, 1, who)
    out = _conv_transpose2d(unsqueeze(input, -2), unsqueeze(weight, -2), bias,
                            (1, _single(stride, "stride", who)),
                            (0, _single(padding, "padding", who)),
                            (0, _single(output_padding, "output_padding", who)), groups,
                            (1, _single(dilation, "dilation", who)), who)
    return squeeze(out, -2)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution of (N, C_in, L) or (C_in, L) ``input`` (F.conv_transpose1d).

    ``weight`` is (C_in, C_out/groups, k) and the optional ``bias`` (C_out,); ``stride``,
    ``padding``, ``output_padding``, ``groups`` and ``dilation`` as in
    :func:`conv_transpose2d`, each one int.
    """
    return _conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, "conv_transpose1d")


# ---- modules ---------------------------------------------------------------------------------
class _ConvNd(Module):
    """What Conv1d, Conv3d and ConvTranspose1d/2d share: arguments, parameters, repr."""

    dims = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        name = type(self).__name__
        check_arguments(in_channels, out_channels, groups, padding_mode)
        if transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        tup = {1: lambda v, n: (_single(v, n, name),), 2: lambda v, n: pair(v, n, name),
               3: lambda v, n: _triple(v, n, name)}[self.dims]
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = tup(kernel_size, "kernel_size"), tup(stride, "stride")
        self.dilation = tup(dilation, "dilation")
        self.output_padding = tup(output_padding, "output_padding")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            pads = _same_padding(self.kernel_size, self.dilation) if padding == "same" else \
                ((0, 0),) * self.dims
            self.padding = padding
        else:
            self.padding = tup(padding, "padding")
            pads = tuple((p, p) for p in self.padding)
        # F.pad's order (last dim first), for the non-zero padding modes
        self._reversed_padding_repeated_twice = tuple(v for lo_hi in reversed(pads)
                                                      for v in lo_hi)
        self.transposed, self.groups, self.padding_mode = transposed, groups, padding_mode
        shape = (in_channels, out_channels // groups) if transposed else \
            (out_channels, in_channels // groups)
        self.weight = Parameter(creation.empty(shape + self.kernel_size, dtype=dtype,
                                               device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        reset_weight_and_bias(self.weight, self.bias)

    def _conv(self, input, conv):
        if self.padding_mode != "zeros":
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(input, self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups, self)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups, self)

    def extra_repr(self):
        one = (0,) * self.dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != one:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != one:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution layer over (N, C, L) or (C, L) input (torch.nn.Conv1d).

    ``in_channels``, ``out_channels``, ``kernel_size``, ``stride``, ``padding``,
    ``dilation``, ``groups``, ``bias``, ``padding_mode``, ``device`` and ``dtype`` as in
    :class:`Conv2d`, each size one int.
    """

    dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        return self._conv(input, _conv1d)


class Conv3d(_ConvNd):
    """3-D convolution layer over (N, C, D, H, W) or (C, D, H, W) input (torch.nn.Conv3d).

    ``in_channels``, ``out_channels``, ``kernel_size``, ``stride``, ``padding``,
    ``dilation``, ``groups``, ``bias``, ``padding_mode``, ``device`` and ``dtype`` as in
    :class:`Conv2d`, each size an int or a triple.
    """

    dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        return self._conv(input, _conv3d)


class _ConvTransposeNd(_ConvNd):

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """output_padding, or what gives `output_size` (PyTorch's forward(input, output_size))."""
        if output_size is None:
            return self.output_padding
        k = self.dims
        output_size = tuple(output_size)[-k:]
        if len(output_size) != k:
            raise ValueError(f"ConvTranspose{k}D: for {input.ndim}D input, output_size must "
                             f"have {k} or {k + 2} elements (got {len(output_size)})")
        result = []
        for i, want in enumerate(output_size):
            n = input.shape[input.ndim - k + i]
            least = (n - 1) * self.stride[i] - 2 * self.padding[i] + \
                self.dilation[i] * (self.kernel_size[i] - 1) + 1
            if not least <= want < least + self.stride[i]:
                raise ValueError(f"requested an output size of {list(output_size)}, but valid "
                                 f"sizes range from {least} to {least + self.stride[i] - 1} "
                                 f"(for an input of {list(input.shape[-k:])})")
            result.append(want - least)
        return tuple(result)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution layer (torch.nn.ConvTranspose1d).

    The weight is (in_channels, out_channels / groups, k). ``in_channels``,
    ``out_channels``, ``kernel_size``, ``stride``, ``padding``, ``output_padding``,
    ``groups``, ``bias``, ``dilation``, ``device`` and ``dtype`` as in :class:`Conv2d` and
    :func:`conv_transpose1d`; ``padding_mode`` must be 'zeros', as in PyTorch.
    """

    dims = 1

    def forward(self, input, output_size=None):
        """The transposed convolution of ``input``, sized ``output_size`` if given (as in torch)."""
        return _conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                 self._output_padding(input, output_size), self.groups,
                                 self.dilation, self)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution layer (torch.nn.ConvTranspose2d).

    The weight is (in_channels, out_channels / groups, kH, kW). ``in_channels``,
    ``out_channels``, ``kernel_size``, ``stride``, ``padding``, ``output_padding``,
    ``groups``, ``bias``, ``dilation``, ``device`` and ``dtype`` as in :class:`Conv2d` and
    :func:`conv_transpose2d`; ``padding_mode`` must be 'zeros', as in PyTorch.
    """

    dims = 2

    def forward(self, input, output_size=None):
        """The transposed convolution of ``input``, sized ``output_size`` if given (as in torch)."""
        return _conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                 self._output_padding(input, output_size), self.groups,
                                 self.dilation, self)

"""torch.nn.RNN, LSTM, GRU and their cells. Each layer and direction is one fused primitive
(`ops.recurrent`): backward runs BPTT in one loop; double backward through them raises.

A PackedSequence input is padded (in its sorted order) and run as one batch, the fused layers
freezing each sequence's state after its last step (`lengths`); the output is packed again and
the states are permuted by `sorted_indices` / `unsorted_indices`, as PyTorch does."""
import math
import warnings

from .. import creation
from .._tensor import Tensor
from ..ops.indexing import index_select
from ..ops.join import cat, stack, unbind
from ..ops.recurrent import gru_layer, lstm_layer, rnn_layer
from ..ops.shape import squeeze, transpose, unsqueeze
from . import init
from .dropout import dropout as _dropout
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _run_layer(mode, x, h, c, weights, reverse, lengths=None):
    """One layer and direction over a time-major sequence: (output, h_n, c_n or None)."""
    if mode == "LSTM":
        y, hn, cn, _ = lstm_layer(x, h, c, *weights, reverse=reverse, lengths=lengths)
        return y, hn, cn
    if mode == "GRU":
        y, hn, _ = gru_layer(x, h, *weights, reverse=reverse, lengths=lengths)
        return y, hn, None
    y, hn = rnn_layer(x, h, *weights, nonlinearity="tanh" if mode == "RNN_TANH" else "relu",
                      reverse=reverse, lengths=lengths)
    return y, hn, None


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (torch.nn.RNNBase).

    Holds PyTorch's parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (suffix ``_reverse`` for the backward direction, ``weight_hr_l{k}`` with
    projections), all drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Parameters
    ----------
    mode : str
        'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'.
    input_size : int
        Features per time step of the input.
    hidden_size : int
        Features of the hidden state.
    num_layers : int
        Stacked recurrent layers, each reading the previous one's output.
    bias : bool
        Whether the layers have the biases ``b_ih`` and ``b_hh``.
    batch_first : bool
        Input and output are (N, L, H_in) instead of (L, N, H_in); states are unaffected.
    dropout : float
        Dropout probability on the outputs of every layer but the last (training only).
    bidirectional : bool
        Run a second direction over the reversed sequence; outputs are concatenated.
    proj_size : int
        LSTM only: project h to this size (0 disables projections).
    device, dtype
        Where and in which floating dtype the parameters are created.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", UserWarning)
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be an integer greater than zero")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be an integer greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size > 0:
            if mode != "LSTM":
                raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
            if proj_size >= hidden_size:
                raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = int(proj_size)
        gates = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real = self.proj_size or hidden_size      # the size of h (and of each output step)
        self._flat_weights_names = []
        for layer in range(num_layers):
            size_in = input_size if layer == 0 else real * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (gates, size_in)), ("weight_hh", (gates, real))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if self.proj_size:
                    shapes += [("weight_hr", (self.proj_size, hidden_size))]
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(creation.empty(shape, dtype=dtype,
                                                                       device=device)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def all_weights(self):
        """The parameters as a list per layer and direction: [w_ih, w_hh, b_ih, b_hh(, w_hr)]."""
        n = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        names = self._flat_weights_names
        return [[getattr(self, k) for k in names[i:i + n]] for i in range(0, len(names), n)]

    def _weights(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        if self.proj_size:
            bias = (getattr(self, "bias_ih" + sfx), getattr(self, "bias_hh" + sfx)) \
                if self.bias else (None, None)
            return (getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx),
                    *bias, getattr(self, "weight_hr" + sfx))
        if self.bias:
            return (getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx),
                    getattr(self, "bias_ih" + sfx), getattr(self, "bias_hh" + sfx))
        return getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx), None, None

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _state(self, hx, batched, batch, dtype, name="hx", size=None):
        dirs = 2 if self.bidirectional else 1
        shape = (self.num_layers * dirs, batch, size or self.hidden_size)
        if hx is None:
            return creation.zeros(shape, dtype=dtype)
        if not isinstance(hx, Tensor):
            raise TypeError(f"{type(self).__name__}: {name} must be a Tensor, not "
                            f"{type(hx).__name__}")
        want = 3 if batched else 2
        if hx.dim() != want:
            raise RuntimeError(f"For {'batched' if batched else 'unbatched'} {want - 1}-D "
                               f"input, {name} should also be {want}-D but got {hx.dim()}-D "
                               "tensor")
        if not batched:
            hx = unsqueeze(hx, 1)
        if tuple(hx.shape) != shape:
            raise RuntimeError(f"Expected hidden size {shape}, got {tuple(hx.shape)}")
        return hx

    def _check_input(self, input):
        if isinstance(input, PackedSequence):
            if input.data.dim() != 2 or input.data.shape[-1] != self.input_size:
                raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                                   f"{self.input_size}, got {input.data.shape[-1]}")
            return True
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor or a "
                            f"PackedSequence, not {type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        return input.dim() == 3

    def forward(self, input, hx=None):
        """Run the recurrence over ``input``, starting from the state ``hx`` (zeros if None).

        ``input`` is (L, N, input_size) ((N, L, input_size) with batch_first), unbatched
        (L, input_size), or a PackedSequence; ``hx`` is h_0 (D * num_layers, N, H), or (h_0, c_0)
        for an LSTM. Returns (output, h_n), or (output, (h_n, c_n)) for an LSTM.
        """
        batched = self._check_input(input)
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:      # padded in sorted order (longest first), time-major
            x, lens = pad_packed_sequence(PackedSequence(input.data, input.batch_sizes))
            lengths = tuple(int(n) for n in lens._data)
        else:
            x = input if batched else unsqueeze(input, 1)
            if batched and self.batch_first:
                x = transpose(x, 0, 1)
        batch = x.shape[1]
        if lstm:
            if hx is None:
                h0 = c0 = None
            elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
            else:
                h0, c0 = hx
            h0 = self._state(h0, batched, batch, x.dtype, "h_0", self.proj_size)
            c0 = self._state(c0, batched, batch, x.dtype, "c_0")
            if packed and input.sorted_indices is not None:
                c0 = index_select(c0, 1, input.sorted_indices)
            cs = unbind(c0, 0)
        else:
            if isinstance(hx, (tuple, list)):
                raise RuntimeError(f"{type(self).__name__}: hx must be a Tensor, not a tuple")
            h0 = self._state(hx, batched, batch, x.dtype)
            cs = None
        if packed and input.sorted_indices is not None:
            h0 = index_select(h0, 1, input.sorted_indices)
        hs = unbind(h0, 0)
        dirs = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                y, hn, cn = _run_layer(self.mode, x, hs[k], cs[k] if lstm else None,
                                       self._weights(layer, d), reverse=bool(d),
                                       lengths=lengths)
                outs.append(y)
                h_n.append(hn)
                c_n.append(cn)
            x = outs[0] if dirs == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        out, h_n = x, stack(h_n, 0)
        c_n = stack(c_n, 0) if lstm else None
        if packed:
            out = PackedSequence(pack_padded_sequence(out, lens).data, input.batch_sizes,
                                 input.sorted_indices, input.unsorted_indices)
            if input.unsorted_indices is not None:
                h_n = index_select(h_n, 1, input.unsorted_indices)
                c_n = index_select(c_n, 1, input.unsorted_indices) if lstm else None
            return out, ((h_n, c_n) if lstm else h_n)
        if batched and self.batch_first:
            out = transpose(out, 0, 1)
        if not batched:
            out, h_n = squeeze(out, 1), squeeze(h_n, 1)
            c_n = squeeze(c_n, 1) if lstm else None
        return out, ((h_n, c_n) if lstm else h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (torch.nn.RNN).

    ``nonlinearity`` is 'tanh' or 'relu'. Called with input (L, N, input_size) (or
    (N, L, input_size) with ``batch_first``, or unbatched (L, input_size)) and an optional
    h_0 (D * num_layers, N, hidden_size), D = 2 if bidirectional else 1; returns
    (output, h_n) with output (L, N, D * hidden_size). A PackedSequence input gives a
    PackedSequence output. ``input_size``, ``hidden_size``, ``num_layers``, ``bias``,
    ``batch_first``, ``dropout``, ``bidirectional``, ``device`` and ``dtype`` as in
    :class:`RNNBase`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory with gates i, f, g, o (torch.nn.LSTM).

    Called with input (L, N, input_size) (or (N, L, input_size) with ``batch_first``, or
    unbatched) and optional (h_0, c_0); returns (output, (h_n, c_n)), with h of size
    ``proj_size`` when that is non-zero. ``input_size``, ``hidden_size``, ``num_layers``,
    ``bias``, ``batch_first``, ``dropout``, ``bidirectional``, ``proj_size``, ``device`` and
    ``dtype`` as in :class:`RNNBase`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit with gates r, z, n (torch.nn.GRU).

    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h. Called and returning
    as :class:`RNN`. ``input_size``, ``hidden_size``, ``num_layers``, ``bias``,
    ``batch_first``, ``dropout``, ``bidirectional``, ``device`` and ``dtype`` as in
    :class:`RNNBase`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    """The shared machinery of the one-step cells (torch.nn.RNNCellBase).

    Holds ``weight_ih`` (gates * hidden_size, input_size), ``weight_hh`` (gates *
    hidden_size, hidden_size) and, if ``bias``, ``bias_ih`` and ``bias_hh``, drawn as
    RNNBase's; a step runs the fused layer on a one-step sequence. ``input_size`` and
    ``hidden_size`` are the feature sizes, ``gates`` the number of gate blocks (1, 3 or 4),
    ``device`` and ``dtype`` place the parameters.
    """

    def __init__(self, input_size, hidden_size, bias, gates, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(creation.empty((gates * hidden_size, input_size),
                                                  dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty((gates * hidden_size, hidden_size),
                                                  dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(creation.empty(gates * hidden_size, dtype=dtype,
                                                    device=device))
            self.bias_hh = Parameter(creation.empty(gates * hidden_size, dtype=dtype,
                                                    device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, mode, input, hx, cx=None):
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got "
                             f"{getattr(input, 'ndim', None)}D instead")
        batched = input.dim() == 2
        x = input if batched else unsqueeze(input, 0)
        states = []
        for s in (hx, cx) if mode == "LSTM" else (hx,):
            if s is None:
                s = creation.zeros((x.shape[0], self.hidden_size), dtype=x.dtype)
            elif s.dim() != input.dim():
                raise RuntimeError(f"{name}: Expected hidden to be {input.dim()}D for "
                                   f"{input.dim()}D input, got {s.dim()}D instead")
            elif not batched:
                s = unsqueeze(s, 0)
            states.append(s)
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, h, c = _run_layer(mode, unsqueeze(x, 0), states[0],
                             states[1] if mode == "LSTM" else None, weights, False)
        if not batched:
            h = squeeze(h, 0)
            c = squeeze(c, 0) if c is not None else None
        return (h, c) if mode == "LSTM" else h


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh) (torch.nn.RNNCell).

    ``nonlinearity`` is 'tanh' or 'relu'. Called with input (N, input_size) or
    (input_size,) and optional h (zeros by default). ``input_size``, ``hidden_size``,
    ``bias``, ``device`` and ``dtype`` as in :class:`RNNCellBase`.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """One step from ``input`` (N, input_size) or (input_size,) and state ``hx`` (default 0)."""
        return self._step("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", input, hx)


class LSTMCell(RNNCellBase):
    """One LSTM step (torch.nn.LSTMCell): called with input and optional (h, c), returns (h', c').

    ``input_size``, ``hidden_size``, ``bias``, ``device`` and ``dtype`` as in
    :class:`RNNCellBase`.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        """One step from ``input`` and the state ``hx`` = (h, c) (default 0); returns (h', c')."""
        h, c = (None, None) if hx is None else hx
        return self._step("LSTM", input, h, c)


class GRUCell(RNNCellBase):
    """One GRU step (torch.nn.GRUCell): called with input and optional h, returns h'.

    ``input_size``, ``hidden_size``, ``bias``, ``device`` and ``dtype`` as in
    :class:`RNNCellBase`.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        """One step from ``input`` (N, input_size) or (input_size,) and state ``hx`` (default 0)."""
        return self._step("GRU", input, hx)

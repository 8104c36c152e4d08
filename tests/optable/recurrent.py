"""Op-table rows for tapegrad/ops/recurrent.py: the fused RNN/LSTM/GRU layers on tiny sizes,
forward and reverse, against PyTorch's own recurrent kernels; first order only (the fused
rules refuse create_graph, tests/test_rnn.py checks that)."""
from tapegrad.ops import recurrent

from .case import OpCase

T, B, I, H = 3, 2, 2, 2


def _torch_layer(T_, mode, x, states, weights, reverse, nonlinearity="tanh"):
    """PyTorch's one-layer kernel (torch._VF), reversed in time by flipping."""
    xs = x.flip(0) if reverse else x
    hx = tuple(s[None] for s in states) if mode == "lstm" else states[0][None]
    fn = {"lstm": T_._VF.lstm, "gru": T_._VF.gru,
          "rnn": T_._VF.rnn_tanh if nonlinearity == "tanh" else T_._VF.rnn_relu}[mode]
    y, *finals = fn(xs, hx, list(weights), True, 1, 0.0, False, False, False)
    return (y.flip(0) if reverse else y,) + tuple(f[0] for f in finals)


def _layer(mode, reverse, nonlinearity="tanh"):
    n_states = 2 if mode == "lstm" else 1

    def fn(T_, x, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        if T_.__name__ == "torch":
            return _torch_layer(T_, mode, x, states, weights, reverse, nonlinearity)
        if mode == "lstm":
            return recurrent.lstm_layer(x, *states, *weights, reverse=reverse)[:3]
        if mode == "gru":
            return recurrent.gru_layer(x, *states, *weights, reverse=reverse)[:2]
        return recurrent.rnn_layer(x, *states, *weights, nonlinearity=nonlinearity,
                                   reverse=reverse)
    return fn


def _shapes(gates, n_states):
    return [((T, B, I),) + ((B, H),) * n_states
            + ((gates * H, I), (gates * H, H), (gates * H,), (gates * H,))]


ROWS = [
    OpCase(f"{name}{'_reverse' if reverse else ''}", _layer(mode, reverse, nl),
           shapes=_shapes(gates, 2 if mode == "lstm" else 1), second=False)
    for name, mode, gates, nl in [("rnn_tanh_layer", "rnn", 1, "tanh"),
                                  ("rnn_relu_layer", "rnn", 1, "relu"),
                                  ("lstm_layer", "lstm", 4, "tanh"),
                                  ("gru_layer", "gru", 3, "tanh")]
    for reverse in (False, True)
]

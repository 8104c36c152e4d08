"""Op-table rows for tapegrad/ops/recurrent.py: the fused RNN/LSTM/GRU layers on tiny sizes,
forward and reverse, against PyTorch's own recurrent kernels; first order only (the fused
rules refuse create_graph, tests/test_rnn.py checks that). The `_ragged` rows give the layers
`lengths` (packed sequences): PyTorch runs each sequence alone on its real steps, and both sides
return every real step's output and the final states."""
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


LENGTHS = (3, 1)     # one per batch column, T = 3


def _ragged(mode, reverse, nonlinearity="tanh"):
    n_states = 2 if mode == "lstm" else 1

    def fn(T_, x, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        if T_.__name__ == "torch":
            runs = [_torch_layer(T_, mode, x[:n, b:b + 1], [s[b:b + 1] for s in states],
                                 weights, reverse, nonlinearity) for b, n in enumerate(LENGTHS)]
            return (T_.cat([r[0][:, 0] for r in runs]),) + tuple(
                T_.cat([r[1 + j] for r in runs]) for j in range(n_states))
        if mode == "lstm":
            outs = recurrent.lstm_layer(x, *states, *weights, reverse=reverse,
                                        lengths=LENGTHS)[:3]
        elif mode == "gru":
            outs = recurrent.gru_layer(x, *states, *weights, reverse=reverse,
                                       lengths=LENGTHS)[:2]
        else:
            outs = recurrent.rnn_layer(x, *states, *weights, nonlinearity=nonlinearity,
                                       reverse=reverse, lengths=LENGTHS)
        y = outs[0]
        return (T_.cat([y[:n, b] for b, n in enumerate(LENGTHS)]),) + tuple(outs[1:])
    return fn


ROWS += [
    OpCase(f"{name}_ragged{'_reverse' if reverse else ''}", _ragged(mode, reverse, nl),
           shapes=_shapes(gates, 2 if mode == "lstm" else 1), second=False)
    for name, mode, gates, nl in [("rnn_tanh_layer", "rnn", 1, "tanh"),
                                  ("rnn_relu_layer", "rnn", 1, "relu"),
                                  ("lstm_layer", "lstm", 4, "tanh"),
                                  ("gru_layer", "gru", 3, "tanh")]
    for reverse in (False, True)
]


HP, P = 3, 2     # LSTM with a projection: hidden 3, projected to 2


def _lstm_proj(reverse, lengths=None):
    def fn(T_, x, h0, c0, *weights):
        if T_.__name__ == "torch":
            if lengths is None:
                return _torch_layer(T_, "lstm", x, (h0, c0), weights, reverse)
            runs = [_torch_layer(T_, "lstm", x[:n, b:b + 1], (h0[b:b + 1], c0[b:b + 1]),
                                 weights, reverse) for b, n in enumerate(lengths)]
            return (T_.cat([r[0][:, 0] for r in runs]),) + tuple(
                T_.cat([r[1 + j] for r in runs]) for j in range(2))
        y, hn, cn, _ = recurrent.lstm_layer(x, h0, c0, *weights, reverse=reverse,
                                            lengths=lengths)
        if lengths is not None:
            y = T_.cat([y[:n, b] for b, n in enumerate(lengths)])
        return y, hn, cn
    return fn


ROWS += [
    OpCase(f"lstm_proj_layer{'_ragged' if lengths else ''}{'_reverse' if reverse else ''}",
           _lstm_proj(reverse, lengths),
           shapes=[((T, B, I), (B, P), (B, HP), (4 * HP, I), (4 * HP, P), (4 * HP,), (4 * HP,),
                    (P, HP))], second=False)
    for lengths in (None, LENGTHS) for reverse in (False, True)
]

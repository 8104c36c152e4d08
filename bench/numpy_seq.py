"""The NumPy floor of the LSTM workload: a multi-layer LSTM written out by hand in NumPy.

The forward runs time-major: each layer projects its whole input sequence once
(`x @ W_ih.T + b_ih + b_hh`, one GEMM), then each step adds `h @ W_hh.T` (all four gates in one
GEMM per step) and applies the gate nonlinearities, keeping what backward reads. The backward is
backpropagation through time written out: per step the gate gradients and one GEMM for the
hidden state's gradient, then each weight gradient as one GEMM over the whole sequence. No
autodiff bookkeeping at all: an autodiff library running the same step in the same time adds
nothing to it.

Parameters are float32 arrays in PyTorch's layout (gates i, f, g, o), loaded from a state_dict,
so the floor computes the same step as the libraries (bench checks its first loss against
tapegrad's).
"""
import numpy as np


def _sigmoid(z):
    # 0.5 * (1 + tanh(z / 2)): one transcendental, no overflow warnings for large |z|
    return 0.5 + 0.5 * np.tanh(0.5 * z)


class LSTM:
    """nn.LSTM(input, hidden, num_layers, batch_first=True) with zero initial states."""

    def __init__(self, num_layers):
        self.num_layers = num_layers

    def load(self, state, prefix):
        self.layers = []
        for k in range(self.num_layers):
            p = {n: np.array(state[f"{prefix}{n}_l{k}"], np.float32)
                 for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            self.layers.append(p)
        self.grads = [{} for _ in self.layers]
        return self

    def forward(self, x):
        """x: (batch, seq, input) -> output (batch, seq, hidden)."""
        h_seq = np.ascontiguousarray(x.transpose(1, 0, 2))      # time-major (T, B, I)
        self.saved = []
        for p in self.layers:
            T, B, _ = h_seq.shape
            H = p["weight_hh"].shape[1]
            pre = (h_seq.reshape(T * B, -1) @ p["weight_ih"].T).reshape(T, B, 4 * H)
            pre += p["bias_ih"] + p["bias_hh"]
            w_hh_t = p["weight_hh"].T
            gates = np.empty_like(pre)                # activated i, f, g, o per step
            hs = np.empty((T + 1, B, H), np.float32)  # hs[0] = h_0 = 0
            cs = np.empty((T + 1, B, H), np.float32)
            tc = np.empty((T, B, H), np.float32)      # tanh(c_t)
            hs[0] = 0
            cs[0] = 0
            for t in range(T):
                z = pre[t]
                z += hs[t] @ w_hh_t
                a = gates[t]
                a[:, :2 * H] = _sigmoid(z[:, :2 * H])
                a[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
                a[:, 3 * H:] = _sigmoid(z[:, 3 * H:])
                i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                c = cs[t + 1]
                np.multiply(f, cs[t], out=c)
                c += i * g
                np.tanh(c, out=tc[t])
                np.multiply(o, tc[t], out=hs[t + 1])
            self.saved.append((h_seq, gates, hs, cs, tc))
            h_seq = hs[1:]
        return h_seq.transpose(1, 0, 2)

    def backward(self, g_out):
        """g_out: d(loss)/d(output), (batch, seq, hidden); fills self.grads, returns d/dx."""
        dh_seq = np.ascontiguousarray(g_out.transpose(1, 0, 2))
        for k in reversed(range(self.num_layers)):
            p, (x_seq, gates, hs, cs, tc) = self.layers[k], self.saved[k]
            T, B, H = dh_seq.shape
            w_hh = p["weight_hh"]
            dz = np.empty_like(gates)                 # pre-activation gate gradients
            dh_next = np.zeros((B, H), np.float32)
            dc = np.zeros((B, H), np.float32)
            for t in reversed(range(T)):
                a = gates[t]
                i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                dh = dh_seq[t] + dh_next
                dc += dh * o * (1 - tc[t] * tc[t])
                d = dz[t]
                d[:, :H] = dc * g * i * (1 - i)
                d[:, H:2 * H] = dc * cs[t] * f * (1 - f)
                d[:, 2 * H:3 * H] = dc * i * (1 - g * g)
                d[:, 3 * H:] = dh * tc[t] * o * (1 - o)
                dc *= f
                dh_next = d @ w_hh
            dz2 = dz.reshape(T * B, 4 * H)
            gr = self.grads[k]
            gr["weight_ih"] = dz2.T @ x_seq.reshape(T * B, -1)
            gr["weight_hh"] = dz2.T @ hs[:-1].reshape(T * B, H)
            gr["bias_ih"] = gr["bias_hh"] = dz2.sum(0)
            if k:   # the first layer's input is data: its gradient is not needed
                dh_seq = (dz2 @ p["weight_ih"]).reshape(T, B, -1)

    def sgd(self, lr):
        for p, gr in zip(self.layers, self.grads):
            for name, g in gr.items():
                p[name] -= lr * g


def lstm_mse_step(net, x, y, lr):
    """One training step of `net` on MSE(output, y): its loss (before the update)."""
    out = net.forward(x)
    diff = out - y
    loss = float(np.mean(diff * diff))
    net.backward(diff * np.float32(2 / diff.size))
    net.sgd(lr)
    return loss

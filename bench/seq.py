"""The sequence workloads of bench.py: an LSTM and a Transformer-encoder training step.

i) nn.LSTM(64, 256, num_layers=2, batch_first=True), batch 32, sequence 64, MSE on the output,
   SGD; its floor is numpy_seq.py (the same LSTM and BPTT written out by hand).
j) nn.TransformerEncoder of 2 nn.TransformerEncoderLayer(256, 4, 1024, dropout=0,
   batch_first=True), batch 16, sequence 128, mean over the sequence, nn.Linear(256, 10),
   cross-entropy, SGD; no floor.

As in cnn.py, every library starts from tapegrad's initial weights (loaded into PyTorch by
state_dict) and the same data, and each case's first call returns its loss, which bench
compares across libraries before timing. Dropout is 0 so that the step is deterministic.
"""
import numpy as np

import numpy_seq
from cnn import _models, _torchlike_step

LSTM_BATCH, LSTM_SEQ, LSTM_IN, LSTM_HIDDEN, LSTM_LAYERS, LSTM_LR = 32, 64, 64, 256, 2, 0.1
TF_BATCH, TF_SEQ, TF_DMODEL, TF_HEADS, TF_FF, TF_LAYERS, TF_CLASSES, TF_LR = (
    16, 128, 256, 4, 1024, 2, 10, 0.01)


def lstm_model(T):
    nn = T.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(LSTM_IN, LSTM_HIDDEN, num_layers=LSTM_LAYERS, batch_first=True)

        def forward(self, x):
            return self.lstm(x)[0]
    return Net()


def transformer_model(T):
    nn = T.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(TF_DMODEL, TF_HEADS, TF_FF, dropout=0.0,
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, TF_LAYERS, enable_nested_tensor=False)
            self.head = nn.Linear(TF_DMODEL, TF_CLASSES)

        def forward(self, x):
            return self.head(self.encoder(x).mean(dim=1))
    return Net()


def lstm_cases(mods):
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((LSTM_BATCH, LSTM_SEQ, LSTM_IN)).astype(np.float32)
    y0 = rng.uniform(-0.5, 0.5, (LSTM_BATCH, LSTM_SEQ, LSTM_HIDDEN)).astype(np.float32)
    models, state = _models(mods, lstm_model)
    net = numpy_seq.LSTM(LSTM_LAYERS).load(state, "lstm.")
    cases = {"numpy": lambda: numpy_seq.lstm_mse_step(net, x0, y0, LSTM_LR)}
    for name, model in models.items():
        T = mods[name]
        loss_of = (lambda z, T=T, y=T.tensor(y0): T.nn.functional.mse_loss(z, y))
        cases[name] = _torchlike_step(T, model, T.tensor(x0), loss_of, LSTM_LR, 0.0)
    return cases


def transformer_cases(mods):
    rng = np.random.default_rng(6)
    x0 = rng.standard_normal((TF_BATCH, TF_SEQ, TF_DMODEL)).astype(np.float32)
    y0 = rng.integers(0, TF_CLASSES, TF_BATCH)
    models, _ = _models(mods, transformer_model)
    cases = {}
    for name, model in models.items():
        T = mods[name]
        loss_of = (lambda z, T=T, y=T.tensor(y0): T.nn.functional.cross_entropy(z, y))
        cases[name] = _torchlike_step(T, model, T.tensor(x0), loss_of, TF_LR, 0.0)
    return cases

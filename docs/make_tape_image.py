"""Draw the tape of one training step of a small MLP into docs/tape.svg (shown by the README).

Run from the repository root: `python docs/make_tape_image.py` (needs Graphviz's `dot`).
"""
import pathlib

import tapegrad as torch
import tapegrad.nn as nn
import tapegrad.nn.functional as F


class MLP(nn.Module):
    """Two linear layers with a ReLU between them."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def main():
    torch.manual_seed(0)
    model = MLP()
    x, target = torch.randn(16, 4), torch.tensor([0, 1, 2, 1] * 4)
    with torch.Tape() as tape:
        loss = F.cross_entropy(model(x), target)
    path = pathlib.Path(__file__).resolve().parent / "tape.svg"
    tape.to_dot(params=dict(model.named_parameters())).render(path)
    print(tape.describe(params=dict(model.named_parameters())))
    print(f"wrote {path}")
    loss.backward()


if __name__ == "__main__":
    main()

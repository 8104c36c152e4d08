"""Load a checkpoint written by PyTorch's torch.save, run its model, fine-tune, save it back.

Run it with `python examples/load_torch_checkpoint.py [checkpoint.pt]`. The default checkpoint,
tests/fixtures/checkpoints/mlp.pt, was written by real PyTorch (tests/fixtures/make_checkpoints.py)
and holds the state_dict of the model below, an input batch and PyTorch's output for it. The
code is PyTorch's with `import tapegrad as torch`; torch itself is not needed.
"""
import os
import sys
import tempfile

import tapegrad as torch
from tapegrad import nn

HERE = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "tests", "fixtures", "checkpoints", "mlp.pt")

# weights_only=True is what tapegrad always does: only tensors and plain containers are rebuilt,
# and a checkpoint that tries to run code raises pickle.UnpicklingError instead.
checkpoint = torch.load(path, map_location="cpu", weights_only=True)
for name, tensor in checkpoint["state_dict"].items():
    print(f"{name}: {tuple(tensor.shape)} {tensor.dtype}")

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
print(model.load_state_dict(checkpoint["state_dict"]))

x, expected = checkpoint["input"], checkpoint["output"]
with torch.no_grad():
    y = model(x)
print(f"max |tapegrad - PyTorch| on the saved batch: {(y - expected).abs().max().item():.2e}")

# Fine-tune a few steps, then save model and optimizer the way training scripts do.
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(3):
    optimizer.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    optimizer.step()
    print(f"step {step}: loss {loss.item():.4f}")

with tempfile.TemporaryDirectory() as folder:
    out = os.path.join(folder, "finetuned.pt")     # torch.load(out, weights_only=True) reads it
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 3}, out)
    again = torch.load(out)
    same = all(torch.equal(again["model"][k], v) for k, v in model.state_dict().items())
    print(f"saved and reloaded {len(again['model'])} tensors unchanged: {same}")

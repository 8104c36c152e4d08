"""A character-level LSTM language model, as in PyTorch's char-RNN tutorials, on tapegrad.

The text is The Zen of Python, which ships with Python (the `this` module, ROT13-encoded in its
source). The model: nn.Embedding(sparse=True) -> nn.LSTM -> nn.Linear, trained on random
windows with optim.SparseAdam for the embedding's sparse gradient and optim.Adam for the rest;
then it samples text from a prompt. `--quick` runs a few steps (for tests).

    python examples/char_rnn.py [--quick] [--steps N]
"""
import argparse
import ast
import codecs
import importlib.util
import sys
import time

import numpy as np

import tapegrad as torch
import tapegrad.nn as nn
import tapegrad.nn.functional as F


def zen_of_python():
    """The text of `import this`, read from its source (importing it would print it)."""
    with open(importlib.util.find_spec("this").origin) as f:
        tree = ast.parse(f.read())
    text = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and node.targets[0].id == "s")
    return codecs.decode(text, "rot13")


class CharRNN(nn.Module):
    def __init__(self, vocab, embed=32, hidden=128, layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed, sparse=True)
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def progress(step, total, loss, start, width=30):
    done = int(width * step / total)
    rate = step / max(time.time() - start, 1e-9)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {step}/{total} "
                     f"loss {loss:.3f} ({rate:.1f} steps/s)")
    if step == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def sample(model, stoi, itos, prompt, length, temperature=0.8, generator=None):
    """Continue `prompt` by `length` characters drawn from the model."""
    model.eval()
    out = list(prompt)
    with torch.no_grad():
        logits, state = model(torch.tensor([[stoi[c] for c in prompt]]))
        for _ in range(length):
            probs = F.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=generator).item())
            out.append(itos[nxt])
            logits, state = model(torch.tensor([[nxt]]), state)
    model.train()
    return "".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps only (tests)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args(argv)
    steps = args.steps or (15 if args.quick else 200)

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    text = zen_of_python()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    print(f"text: {len(text)} characters, vocabulary of {len(chars)}")

    model = CharRNN(len(chars))
    sparse_opt = torch.optim.SparseAdam(model.embed.parameters(), lr=1e-2)
    dense_opt = torch.optim.Adam([p for n, p in model.named_parameters()
                                  if not n.startswith("embed.")], lr=1e-2)
    losses, start = [], time.time()
    for step in range(1, steps + 1):
        starts = rng.integers(0, len(data) - args.seq - 1, size=args.batch)
        window = np.stack([data[s:s + args.seq + 1] for s in starts])
        x, y = torch.tensor(window[:, :-1]), torch.tensor(window[:, 1:])
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        sparse_opt.zero_grad()
        dense_opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.lstm.parameters(), 1.0)
        sparse_opt.step()
        dense_opt.step()
        losses.append(loss.item())
        progress(step, steps, losses[-1], start)
    k = max(1, min(5, steps // 3))
    first, last = float(np.mean(losses[:k])), float(np.mean(losses[-k:]))
    print(f"loss: first {first:.3f}, last {last:.3f} ({time.time() - start:.1f} s)")
    print("sample:")
    print(sample(model, stoi, chars, "Beautiful is", 80 if args.quick else 300,
                 generator=torch.Generator().manual_seed(0)))
    return first, last


if __name__ == "__main__":
    main()

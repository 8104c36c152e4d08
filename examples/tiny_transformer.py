"""A tiny decoder-only character Transformer (a miniature GPT) on tapegrad.

The text is The Zen of Python (as in examples/char_rnn.py). The model: token nn.Embedding plus a
learned positional embedding -> nn.TransformerEncoder (pre-norm layers) under a causal mask from
nn.Transformer.generate_square_subsequent_mask -> LayerNorm -> nn.Linear head; trained with
AdamW on random windows to predict each next character, then it samples text from a prompt.
`--quick` runs a few steps (for tests).

    python examples/tiny_transformer.py [--quick] [--steps N]
"""
import argparse
import time

import numpy as np

import tapegrad as torch
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from char_rnn import progress, zen_of_python     # the same text and progress bar


class TinyTransformer(nn.Module):
    def __init__(self, vocab, block, d_model=64, nhead=4, layers=2, ff=128, dropout=0.0):
        super().__init__()
        self.block = block
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, ff, dropout, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)
        self.register_buffer("positions", torch.arange(block), persistent=False)

    def forward(self, x):
        t = x.shape[1]
        h = self.tok(x) + self.pos(self.positions[:t])
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        h = self.encoder(h, mask=mask, is_causal=True)
        return self.head(self.norm(h))


def sample(model, stoi, itos, prompt, length, temperature=0.8, generator=None):
    """Continue `prompt` by `length` characters, each drawn from the model given (at most) the
    last `block` characters."""
    model.eval()
    ids = [stoi[c] for c in prompt]
    with torch.no_grad():
        for _ in range(length):
            logits = model(torch.tensor([ids[-model.block:]]))
            probs = F.softmax(logits[0, -1] / temperature, dim=-1)
            ids.append(int(torch.multinomial(probs, 1, generator=generator).item()))
    model.train()
    return "".join(itos[i] for i in ids)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps only (tests)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seq", type=int, default=None, help="context length (block)")
    parser.add_argument("--batch", type=int, default=None)
    args = parser.parse_args(argv)
    steps = args.steps or (30 if args.quick else 1200)
    args.seq = args.seq or (32 if args.quick else 64)
    args.batch = args.batch or (8 if args.quick else 32)

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    text = zen_of_python()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    print(f"text: {len(text)} characters, vocabulary of {len(chars)}")

    model = TinyTransformer(len(chars), args.seq)
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    losses, start = [], time.time()
    for step in range(1, steps + 1):
        starts = rng.integers(0, len(data) - args.seq - 1, size=args.batch)
        window = np.stack([data[s:s + args.seq + 1] for s in starts])
        x, y = torch.tensor(window[:, :-1]), torch.tensor(window[:, 1:])
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
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

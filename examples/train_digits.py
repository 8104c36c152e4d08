"""Train a small CNN on scikit-learn's bundled 8x8 handwritten digits, with tapegrad as torch.

    python examples/train_digits.py [--epochs 12] [--plot digits_loss.png]

Needs scikit-learn for the data (it ships with the package: no download); a progress bar
appears when tqdm is installed and the loss curve is saved when matplotlib is:
`pip install tapegrad[examples]` installs all three. Reaches about 98% test accuracy.
"""
import argparse
import sys
import time

import numpy as np

import tapegrad as torch
from tapegrad import nn
from tapegrad.utils.data import DataLoader, TensorDataset

try:
    from sklearn.datasets import load_digits
except ImportError:
    sys.exit("train_digits.py needs scikit-learn for its data set (sklearn.datasets.load_digits):"
             " pip install scikit-learn  (or: pip install tapegrad[examples])")

try:
    from tqdm import tqdm
except ImportError:        # no progress bar: iterate plainly
    def tqdm(iterable, **kwargs):
        return iterable


def digits(seed):
    """(train, test) TensorDatasets: 1,797 images 1x8x8 scaled to [0, 1], 20% held out."""
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[:, None]
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    cut = len(y) // 5
    test, train = order[:cut], order[cut:]
    return (TensorDataset(torch.from_numpy(x[train]), torch.from_numpy(y[train])),
            TensorDataset(torch.from_numpy(x[test]), torch.from_numpy(y[test])))


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                   # 32 x 4 x 4
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def accuracy(model, dataset):
    x, y = dataset.tensors
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    model.train()
    return (predicted == y).float().mean().item()


def save_plot(losses, steps_per_epoch, path):
    try:
        import matplotlib
        matplotlib.use("Agg")       # write a file; no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no loss plot (pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    steps = np.arange(1, len(losses) + 1) / steps_per_epoch
    ax.plot(steps, losses, linewidth=0.8)
    ax.set(xlabel="epoch", ylabel="training loss (cross entropy)", yscale="log",
           title="CNN on sklearn digits, trained with tapegrad")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"loss curve saved to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="digits_loss.png", help="where to save the loss curve")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    train, test = digits(args.seed)
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    model = make_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    print(f"{len(train)} training and {len(test)} test images; "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")

    losses, start = [], time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        bar = tqdm(loader, desc=f"epoch {epoch}/{args.epochs}", leave=False)
        for x, y in bar:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
        print(f"epoch {epoch:2d}: mean loss {np.mean(losses[-len(loader):]):.4f}, "
              f"test accuracy {accuracy(model, test):.2%}")
    print(f"trained in {time.perf_counter() - start:.1f} s; "
          f"final test accuracy {accuracy(model, test):.2%}")
    save_plot(losses, len(loader), args.plot)


if __name__ == "__main__":
    main()

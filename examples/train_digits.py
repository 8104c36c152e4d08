"""Train a small CNN on scikit-learn's bundled 8x8 handwritten digits, with tapegrad as torch.

From the root of a checkout:

    python3 -m venv .venv && . .venv/bin/activate
    pip install -e '.[examples]'      # tapegrad, plus scikit-learn, tqdm and matplotlib
    python examples/train_digits.py [--epochs 12] [--plot PATH]

scikit-learn provides the data (it ships with the package: no download); a progress bar
appears when tqdm is installed, and when matplotlib is, a plot of the smoothed training loss
and the test accuracy per epoch is saved to PATH (default: tapegrad_digits.png in the system's
temporary folder, so nothing is written into the checkout). Reaches about 98% test accuracy.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import tapegrad as torch
from tapegrad import nn
from tapegrad.utils.data import DataLoader, TensorDataset

try:
    from sklearn.datasets import load_digits
except ImportError:
    sys.exit("train_digits.py needs scikit-learn for its data set (sklearn.datasets.load_digits):"
             " pip install scikit-learn  (or, from a checkout: pip install -e '.[examples]')")

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


def smoothed(values, window):
    """The mean of each value and the ones before it, over at most `window` values."""
    sums = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    ends = np.arange(1, len(values) + 1)
    return (sums[ends] - sums[ends - counts]) / counts


def save_plot(losses, accuracies, steps_per_epoch, path):
    """Training loss per step (raw, faint, and smoothed over an epoch) and test accuracy per
    epoch, on a second axis."""
    try:
        import matplotlib
        matplotlib.use("Agg")       # write a file; no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no loss plot (pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(losses) + 1) / steps_per_epoch
    ax.plot(steps, losses, linewidth=0.5, alpha=0.3, color="tab:blue")
    ax.plot(steps, smoothed(losses, steps_per_epoch), linewidth=1.5, color="tab:blue",
            label="training loss, smoothed over an epoch")
    ax.set(xlabel="epoch", ylabel="training loss (cross entropy)", yscale="log",
           title="CNN on sklearn digits, trained with tapegrad")
    acc_ax = ax.twinx()
    epochs = np.arange(1, len(accuracies) + 1)
    acc_ax.plot(epochs, 100 * np.asarray(accuracies), "o-", color="tab:orange",
                label="test accuracy")
    acc_ax.set_ylabel("test accuracy (%)")
    handles = ax.get_legend_handles_labels()[0] + acc_ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2,
              frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")     # (the legend sits below the axes)
    plt.close(fig)
    print(f"loss curve saved to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=os.path.join(tempfile.gettempdir(),
                                                       "tapegrad_digits.png"),
                        help="where to save the plot of loss and accuracy (default: %(default)s)")
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

    losses, accuracies, start = [], [], time.perf_counter()
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
        accuracies.append(accuracy(model, test))
        print(f"epoch {epoch:2d}: mean loss {np.mean(losses[-len(loader):]):.4f}, "
              f"test accuracy {accuracies[-1]:.2%}")
    final = accuracies[-1] if accuracies else accuracy(model, test)     # (--epochs 0)
    print(f"trained in {time.perf_counter() - start:.1f} s; final test accuracy {final:.2%}")
    save_plot(losses, accuracies, len(loader), args.plot)


if __name__ == "__main__":
    main()

"""Fine-tune a frozen ResNet-18's new classifier on a small synthetic task, with tapegrad as torch.

    python examples/finetune_resnet.py [--steps 16] [--batch-size 8] [--size 64]

As in PyTorch's fine-tuning recipe: load resnet18 (the torchvision checkpoint when it is in the
cache, fresh weights otherwise), freeze every parameter, replace `fc` with a new 3-class layer,
and train only that layer with SGD and momentum. It checks that the frozen weights did not
move and that the held-out loss went down.
"""
import argparse

import numpy as np

import tapegrad as torch
from tapegrad import nn, optim
from tapegrad.models import ResNet18_Weights, resnet18

CLASSES = 3


def synthetic_batch(rng, n, size):
    """Noisy images whose class is which third of the image (left, middle, right) is bright."""
    y = rng.integers(0, CLASSES, n)
    x = rng.normal(0.0, 0.3, (n, 3, size, size)).astype(np.float32)
    third = size // CLASSES
    for c in range(CLASSES):
        x[y == c, :, :, c * third:(c + 1) * third] += 1.0
    return torch.from_numpy(x), torch.from_numpy(y)


def load_backbone():
    """resnet18 with torchvision's weights from the cache; without them, tapegrad's own message
    (which file, and where to put it), then fresh weights."""
    try:
        model = resnet18(weights=ResNet18_Weights.DEFAULT)
        print(f"pretrained weights: {ResNet18_Weights.DEFAULT.cached_path()}")
    except FileNotFoundError as missing:
        print(f"{missing}\n-> using freshly initialised weights")
        model = resnet18()
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--size", type=int, default=64, help="image height and width")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = load_backbone()

    # Freeze the network, then give it a new classifier: only fc.weight and fc.bias will get
    # gradients, and backward records nothing for the frozen layers.
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(512, CLASSES)
    # eval(): batch norm uses its running statistics, so the frozen part is a fixed function
    # (in train() mode batch norm would still update those statistics, frozen or not)
    model.eval()
    frozen = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("fc.")}

    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x_val, y_val = synthetic_batch(rng, 4 * args.batch_size, args.size)

    def held_out():
        with torch.no_grad():
            out = model(x_val)
        return loss_fn(out, y_val).item(), (out.argmax(1) == y_val).float().mean().item()

    before, acc_before = held_out()
    for step in range(1, args.steps + 1):
        x, y = synthetic_batch(rng, args.batch_size, args.size)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        print(f"step {step:2d}: training loss {loss.item():.4f}")
    after, acc_after = held_out()

    trained = [name for name, p in model.named_parameters() if p.grad is not None]
    unchanged = all(torch.equal(v, frozen[k]) for k, v in model.state_dict().items()
                    if k in frozen)
    print(f"parameters with gradients: {trained}")
    print(f"frozen weights and statistics unchanged: {unchanged} ({len(frozen)} tensors)")
    print(f"held-out loss: {before:.4f} -> {after:.4f} "
          f"({'decreased' if after < before else 'did not decrease'})")
    print(f"held-out accuracy: {acc_before:.0%} -> {acc_after:.0%}")


if __name__ == "__main__":
    main()

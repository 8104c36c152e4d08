"""Train the digits CNN of train_digits.py data-parallel: one process per rank, DDP on MPI.

    mpiexec -n 2 python examples/train_ddp.py [--epochs 6] [--save ddp.pt]
    python -m tapegrad.distributed.run -n 2 examples/train_ddp.py [--epochs 6]

Each rank trains on its own share of every epoch (DistributedSampler) with batches of
--batch-size; DistributedDataParallel averages the gradients across ranks during backward, so
every rank takes the same optimizer step, as one process would with a batch world_size times
larger. Rank 0 prints and saves the checkpoint (keys with the `module.` prefix, as PyTorch's).
Needs scikit-learn for the data and mpi4py + mpich: pip install 'tapegrad[distributed,examples]'.
"""
import argparse
import time

import numpy as np

import tapegrad as torch
import tapegrad.distributed as dist
from tapegrad import nn
from tapegrad.nn.parallel import DistributedDataParallel as DDP
from tapegrad.utils.data import DataLoader, DistributedSampler

from train_digits import accuracy, digits, make_model     # the same data, model and metric


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32, help="per rank")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", default=None, help="rank 0 saves the state_dict here")
    args = parser.parse_args(argv)

    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    say = print if rank == 0 else (lambda *a, **k: None)

    torch.manual_seed(args.seed + rank)      # different on each rank: DDP broadcasts rank 0's
    train, test = digits(args.seed)
    sampler = DistributedSampler(train, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    model = DDP(make_model())
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    say(f"{world} ranks; {len(sampler)} of {len(train)} training images per rank per epoch, "
        f"global batch {args.batch_size * world}")

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)         # a new shuffle each epoch, the same on every rank
        losses = []
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()              # gradients are averaged across ranks in here
            optimizer.step()
            losses.append(loss.item())
        mean = torch.tensor(float(np.mean(losses)))
        dist.all_reduce(mean, op=dist.ReduceOp.AVG)
        say(f"epoch {epoch:2d}: mean loss {mean.item():.4f}, "
            f"test accuracy {accuracy(model.module, test):.2%}")

    checksum = float(sum(p.double().sum().item() for p in model.parameters()))
    sums = [None] * world
    dist.all_gather_object(sums, checksum)
    say(f"trained in {time.perf_counter() - start:.1f} s; "
        f"final test accuracy {accuracy(model.module, test):.2%}")
    say(f"parameters identical on all ranks: {len(set(sums)) == 1}")
    if args.save and rank == 0:
        torch.save(model.state_dict(), args.save)
        say(f"saved {len(model.state_dict())} tensors to {args.save} "
            f"(keys like {next(iter(model.state_dict()))!r})")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

"""torch.utils.data.distributed: DistributedSampler, each rank's share of a dataset."""
import math

from ...creation import Generator, numpy_rng
from ... import distributed as dist
from .sampler import Sampler


class DistributedSampler(Sampler):
    """A sampler of the indices of rank `rank`'s share of `dataset`.

    Every rank takes every `num_replicas`-th index of one common order, starting at its `rank`:
    shuffled with the seed `seed + epoch` when `shuffle` is True, else 0, 1, 2, ... That order is
    padded by repeating its start to a multiple of `num_replicas` (or, with `drop_last`, cut to
    one), so all ranks get `len(self)` indices.

    `num_replicas` and `rank` default to the default process group's. Call `set_epoch(epoch)`
    before each epoch so that shuffling differs between epochs (and agrees across ranks).
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None:
            num_replicas = dist.get_world_size()
        if rank is None:
            rank = dist.get_rank()
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas should be a positive integer, "
                             f"got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            generator = Generator().manual_seed(self.seed + self.epoch)
            indices = numpy_rng(generator).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding > 0:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which seeds this epoch's shuffle (seed + epoch)."""
        self.epoch = epoch

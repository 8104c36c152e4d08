"""torch.utils.data.sampler: the samplers, which give the DataLoader its dataset indices.

A module of its own (as in torch) so that `distributed.py` can subclass `Sampler` without
importing the package that exports it.
"""
from itertools import islice

import numpy as np

from ...creation import numpy_rng


class Sampler:
    """Base of the samplers, which iterate over dataset indices (torch.utils.data.Sampler).

    Subclasses define ``__iter__`` (and ``__len__`` when they can); ``data_source`` is
    accepted and ignored, as in torch.
    """

    def __init__(self, data_source=None):
        pass


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1 in order (torch.utils.data.SequentialSampler)."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices into ``data_source``: a new permutation per pass (utils.data.RandomSampler).

    With ``replacement`` the indices are drawn independently; ``num_samples`` is how many per
    pass (default len(data_source)). Draws come from ``generator`` or the global generator,
    so ``tapegrad.manual_seed`` makes shuffling repeatable.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        """How many indices one pass yields (len(data_source) unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        # drawn now, not lazily, so the order is fixed when iteration starts (as in torch)
        rng, n, k = numpy_rng(self.generator), len(self.data_source), self.num_samples
        if self.replacement:
            return iter(rng.integers(0, n, size=k).tolist())
        perms = [rng.permutation(n) for _ in range(-(-k // n))]
        return iter(np.concatenate(perms)[:k].tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order each pass (utils.data.SubsetRandomSampler).

    The order comes from ``generator`` or the global generator.
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        order = numpy_rng(self.generator).permutation(len(self.indices)).tolist()
        return iter([self.indices[i] for i in order])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    Mirrors torch.utils.data.WeightedRandomSampler: with ``replacement`` (the default) the
    draws are independent; the draws come from ``generator`` or the global generator.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError(f"weights should be a 1-d sequence of non-negative finite numbers "
                             f"with a positive sum, got shape {w.shape}")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(f"cannot draw {num_samples} samples without replacement from "
                               f"{np.count_nonzero(w)} non-zero weights")
        self.weights, self.num_samples = w, num_samples
        self.replacement, self.generator = replacement, generator

    def __iter__(self):
        rng = numpy_rng(self.generator)
        p = self.weights / self.weights.sum()
        return iter(rng.choice(len(p), self.num_samples, self.replacement, p).tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (utils.data.BatchSampler).

    The last batch may be short unless ``drop_last``.
    """

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        # the sampler starts now (a random order is drawn when iteration starts, as in torch)
        return self._batches(iter(self.sampler))

    def _batches(self, it):
        while True:
            batch = list(islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

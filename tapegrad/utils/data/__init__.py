"""torch.utils.data: datasets, samplers, collation and the DataLoader (in the main process)."""
import collections.abc as abc
import math
from bisect import bisect_right
from itertools import accumulate

import numpy as np

from ... import dtypes
from ...creation import numpy_rng, tensor
from ...ops.join import stack
from ..._tensor import Tensor
from .sampler import (Sampler, SequentialSampler, RandomSampler,  # noqa: F401
                      SubsetRandomSampler, WeightedRandomSampler, BatchSampler)
from .distributed import DistributedSampler  # noqa: F401


class Dataset:
    """A map from index to sample (torch.utils.data.Dataset); subclasses define ``__getitem__``.

    Defining ``__len__`` too lets samplers and the DataLoader size it; ``a + b`` concatenates
    two datasets.
    """

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples (torch.utils.data.IterableDataset); subclasses define ``__iter__``."""


class TensorDataset(Dataset):
    """Sample i is the tuple of ``t[i]`` for t in ``tensors`` (torch.utils.data.TensorDataset).

    The tensors (passed as args) must share their first dim.
    """

    def __init__(self, *tensors):
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            # torch asserts here; the type is kept so code that catches it still works
            raise AssertionError("Size mismatch between tensors: first dimensions "
                                 f"{[t.shape[0] for t in tensors]} differ")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    """The sized ``datasets`` indexed one after another (torch.utils.data.ConcatDataset)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        k = bisect_right(self.cumulative_sizes, idx)
        return self.datasets[k][idx - (self.cumulative_sizes[k - 1] if k else 0)]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (torch.utils.data.Subset)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        fetch = getattr(self.dataset, "__getitems__", None)
        if fetch is not None:
            return fetch([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into disjoint random Subsets (torch.utils.data.random_split).

    ``lengths`` are the sizes, or fractions summing to 1 (the remainder is dealt round-robin,
    as in torch); the permutation comes from ``generator`` or the global generator.
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):      # the remainder goes round-robin, as in torch
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of "
                         f"the input dataset ({n})!")
    order = numpy_rng(generator).permutation(n).tolist()
    return [Subset(dataset, order[end - k:end]) for k, end in zip(lengths, accumulate(lengths))]


def get_worker_info():
    """Information about the current DataLoader worker: always None here (get_worker_info).

    Samples load in the main process, where torch.utils.data.get_worker_info returns None too.
    """
    return None


# ---- collation -----------------------------------------------------------------------------------
def _array_to_tensor(a):
    if a.dtype.kind in "OSUV":
        raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                        f"dicts or lists; found an array of {a.dtype}")
    return tensor(a)


def default_collate(batch):
    """Stack the samples of ``batch`` along a new first dim (torch.utils.data.default_collate).

    Tensors, arrays and numbers are stacked; dicts, namedtuples, tuples and lists are walked
    element by element (tuples come back as lists, as in torch).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if np.ndim(elem) == 0:
            return _array_to_tensor(np.array(batch))
        return stack([_array_to_tensor(np.asarray(b)) for b in batch], 0)
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, int):            # bools too: they collate to a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        return out if type(elem) is dict else _rebuild(elem, out, dict)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        out = [default_collate(list(s)) for s in zip(*batch)]
        return out if isinstance(elem, (tuple, list)) else _rebuild(elem, out, list)
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem)}")


def _rebuild(elem, out, fallback):
    """The container type of `elem` holding `out`, or `fallback` if that type can't be built so."""
    try:
        return type(elem)(out)
    except TypeError:
        return fallback(out)


def default_convert(data):
    """Convert ``data`` without batching: arrays become tensors, containers are walked.

    Mirrors torch.utils.data.default_convert, the collate function when batch_size is None.
    """
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        return data if np.asarray(data).dtype.kind in "OSUV" else tensor(np.asarray(data))
    if isinstance(data, abc.Mapping):
        return {key: default_convert(v) for key, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


# ---- the loader ----------------------------------------------------------------------------------
class DataLoader:
    """Batches of samples of ``dataset``, loaded in the main process (torch.utils.data.DataLoader).

    ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn``,
    ``multiprocessing_context``, ``prefetch_factor``, ``persistent_workers``,
    ``pin_memory_device`` and ``in_order`` are accepted for compatibility and change
    nothing: tapegrad loads in the main process.

    Parameters
    ----------
    dataset : Dataset or IterableDataset
        Where the samples come from.
    batch_size : int or None
        Samples per batch; None yields single samples, converted by default_convert.
    shuffle : bool
        Draw a new random order each epoch (a RandomSampler using ``generator``).
    sampler, batch_sampler : Sampler
        Give the indices, or whole batches of indices, instead.
    collate_fn : callable
        Merges a list of samples into a batch (default :func:`default_collate`).
    drop_last : bool
        Drop the last, short batch.
    generator : Generator
        The random generator for shuffling.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative")
        iterable = isinstance(dataset, IterableDataset)
        if iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle, "
                             "sampler and batch_sampler options")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn = worker_init_fn
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self.batch_size is not None and
                                                  isinstance(self.dataset, IterableDataset))

    def __iter__(self):
        collate, dataset = self.collate_fn, self.dataset
        if isinstance(dataset, IterableDataset):
            if self.batch_size is None:
                return (collate(s) for s in dataset)
            batches = BatchSampler(iter(dataset), self.batch_size, self.drop_last)
            return (collate(b) for b in batches)
        if self.batch_sampler is None:
            return (collate(dataset[i]) for i in self.sampler)
        gather = _gatherer(dataset) if collate is default_collate else None
        if gather is not None:
            return (gather(idx) for idx in self.batch_sampler)
        fetch = getattr(dataset, "__getitems__", None)
        if fetch is None:
            return (collate([dataset[i] for i in idx]) for idx in self.batch_sampler)
        return (collate(fetch(idx)) for idx in self.batch_sampler)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)


def _gatherer(dataset):
    """For a TensorDataset, possibly inside Subsets: a function that gives a whole batch by one
    integer-array index per tensor, the values default_collate would stack sample by sample."""
    maps = []
    while type(dataset) is Subset:
        maps.append(np.asarray(dataset.indices, dtype=np.int64))
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None

    def gather(idx):
        idx = np.asarray(idx, dtype=np.int64)
        for m in maps:
            idx = m[idx]
        return [t[idx] for t in dataset.tensors]
    return gather

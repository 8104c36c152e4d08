"""tapegrad.utils.data: datasets, samplers, collation and DataLoader, against torch's behaviour."""
from collections import namedtuple

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                 IterableDataset, RandomSampler, SequentialSampler, Subset,
                                 SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                                 default_collate, default_convert, get_worker_info,
                                 random_split)

Point = namedtuple("Point", "x y")


def _dataset(n=10):
    x = tg.arange(n * 3, dtype=tg.float32).reshape(n, 3)
    return TensorDataset(x, tg.arange(n))


def _labels(loader):
    return [y.tolist() for _, y in loader]


def test_tensor_dataset():
    ds = _dataset()
    assert len(ds) == 10
    x, y = ds[4]
    assert x.tolist() == [12.0, 13.0, 14.0] and y.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(tg.zeros(3, 2), tg.zeros(4))


def test_batches_in_order_with_a_short_last_batch():
    loader = DataLoader(_dataset(), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    x, y = batches[0]
    assert x.shape == (4, 3) and x.dtype == tg.float32 and y.dtype == tg.int64
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_drop_last():
    loader = DataLoader(_dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2 and _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_is_a_permutation_and_repeatable_with_a_generator():
    def epochs(seed):
        loader = DataLoader(_dataset(), batch_size=3, shuffle=True,
                            generator=tg.Generator().manual_seed(seed))
        return [sum(_labels(loader), []) for _ in range(2)]

    first, second = epochs(0)
    assert sorted(first) == list(range(10)) and first != list(range(10))
    assert first != second                    # a new order every epoch
    assert epochs(0) == [first, second]       # the same orders from the same seed
    assert epochs(1) != [first, second]


def test_shuffle_follows_the_global_seed():
    loader = DataLoader(_dataset(), batch_size=5, shuffle=True)
    tg.manual_seed(7)
    a = _labels(loader)
    tg.manual_seed(7)
    assert _labels(loader) == a


def test_samples_keep_their_rows_when_shuffled():
    for x, y in DataLoader(_dataset(), batch_size=4, shuffle=True):
        np.testing.assert_array_equal(x.numpy()[:, 0], 3 * y.numpy())


def test_sampler_and_batch_sampler():
    ds = _dataset()
    loader = DataLoader(ds, batch_size=2, sampler=[9, 0, 5])
    assert _labels(loader) == [[9, 0], [5]] and len(loader) == 2
    loader = DataLoader(ds, batch_sampler=[[1, 2], [3], [8, 7, 6]])
    assert _labels(loader) == [[1, 2], [3], [8, 7, 6]] and loader.batch_size is None
    bs = BatchSampler(SequentialSampler(range(7)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    assert len(BatchSampler(range(7), 3, drop_last=True)) == 2


def test_random_samplers():
    g = tg.Generator().manual_seed(3)
    s = RandomSampler(range(5), generator=g)
    assert sorted(s) == [0, 1, 2, 3, 4] and len(s) == 5
    s = RandomSampler(range(5), num_samples=12, generator=g)
    idx = list(s)
    assert len(idx) == 12 and sorted(idx[:5]) == [0, 1, 2, 3, 4] and len(s) == 12
    s = RandomSampler(range(3), replacement=True, num_samples=50, generator=g)
    assert set(s) <= {0, 1, 2} and len(list(s)) == 50
    assert sorted(SubsetRandomSampler([10, 20, 30], generator=g)) == [10, 20, 30]
    w = list(WeightedRandomSampler([0.0, 1.0, 3.0], 400, generator=g))
    assert set(w) == {1, 2} and 250 < w.count(2) < 350
    drawn = WeightedRandomSampler([1, 0, 2, 5], 3, replacement=False, generator=g)
    assert sorted(drawn) == [0, 2, 3]
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1, 0], 2, replacement=False)
    assert get_worker_info() is None
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(3), replacement=1)


def test_no_auto_batching_converts_samples():
    class Arrays(Dataset):
        def __getitem__(self, i):
            return np.full(2, i, np.float32), i

        def __len__(self):
            return 3

    loader = DataLoader(Arrays(), batch_size=None)
    items = list(loader)
    assert len(loader) == 3 and isinstance(items[1], list)
    assert isinstance(items[1][0], tg.Tensor) and items[1][0].dtype == tg.float32
    assert items[1][1] == 1


def test_custom_collate_fn():
    loader = DataLoader(_dataset(), batch_size=4, collate_fn=lambda batch: len(batch))
    assert list(loader) == [4, 4, 2]


def test_loader_errors():
    ds = _dataset()
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(DataLoader(Stream(), batch_size=3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


def test_random_split_and_subset():
    ds = _dataset()
    a, b = random_split(ds, [7, 3], generator=tg.Generator().manual_seed(0))
    assert isinstance(a, Subset) and (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    assert a[0][1].item() == a.indices[0]
    again, _ = random_split(ds, [7, 3], generator=tg.Generator().manual_seed(0))
    assert again.indices == a.indices
    parts = random_split(range(10), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]   # round-robin rest
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [5, 6])
    # a loader over a subset sees only its samples
    assert sorted(sum(_labels(DataLoader(b, batch_size=2)), [])) == sorted(b.indices)


def test_concat_dataset():
    ds = _dataset(3) + _dataset(2)
    assert isinstance(ds, ConcatDataset) and len(ds) == 5
    assert [ds[i][1].item() for i in range(5)] == [0, 1, 2, 0, 1]
    assert ds[-1][1].item() == 1


# ---- default_collate: torch's structure for nested samples ---------------------------------------
def _nested(i):
    return {"image": np.full((2, 2), i, np.float32), "label": i, "weight": 0.5 * i,
            "name": f"s{i}", "pair": (tg.tensor([i, i + 1]), [np.float64(i), True]),
            "point": Point(i, -i)}


def _plain(obj):
    """Tensors (either library) as (dtype name, values); containers kept."""
    if hasattr(obj, "detach"):
        return (str(obj.dtype).replace("torch.", ""), obj.detach().numpy().tolist())
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(*map(_plain, obj)) if hasattr(obj, "_fields") else \
            type(obj)(map(_plain, obj))
    return obj


def test_default_collate_nested_structures_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    ours_in = [_nested(i) for i in range(3)]
    theirs_in = [_nested(i) for i in range(3)]
    for s in theirs_in:
        s["pair"] = (torch.tensor(s["pair"][0].numpy()), s["pair"][1])
    ours, theirs = default_collate(ours_in), torch_collate(theirs_in)
    assert isinstance(ours["pair"], list) and isinstance(ours["point"], Point)
    assert _plain(ours) == _plain(theirs)


def test_default_collate_numbers_and_errors():
    assert default_collate([1.5, 2.0]).dtype == tg.float64
    assert default_collate([1, 2]).dtype == tg.int64
    assert default_collate([True, False]).dtype == tg.bool
    assert default_collate([np.float32(1), np.float32(2)]).dtype == tg.float32
    assert default_collate(["a", "b"]) == ["a", "b"]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([tg.zeros(2), tg.zeros(3)])


def test_default_convert():
    out = default_convert((np.zeros(2), {"a": np.int32(3)}, "s"))
    assert isinstance(out, list) and isinstance(out[0], tg.Tensor)
    assert out[1]["a"].dtype == tg.int32 and out[2] == "s"


def test_cuda_idioms():
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    tg.cuda.manual_seed(0)
    tg.cuda.manual_seed_all(0)
    tg.cuda.synchronize()
    tg.cuda.empty_cache()


def test_tensor_dataset_batches_equal_sample_by_sample_collation():
    """TensorDatasets (also inside Subsets) are gathered one index per tensor: same batches."""
    x = tg.tensor(np.random.default_rng(0).standard_normal((20, 2, 3)).astype(np.float32))
    ds = Subset(Subset(TensorDataset(x, tg.arange(20)), list(range(19, -1, -1))), [3, 1, 4, 15, 9])
    for data in (ds, ds.dataset):
        fast = list(DataLoader(data, batch_size=3))
        slow = list(DataLoader(data, batch_size=3, collate_fn=lambda b: default_collate(b)))
        assert len(fast) == len(slow)
        for f, s in zip(fast, slow):
            assert isinstance(f, list) and len(f) == 2
            for a, b in zip(f, s):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a.numpy(), b.numpy())

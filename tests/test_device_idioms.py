"""The lines CPU scripts start with: devices, accelerator and backend queries, legacy spellings
(Variable, Tensor(*sizes), new_*), and the dtype questions (finfo, result_type...)."""
import pickle

import numpy as np
import pytest

import tapegrad as tg


def test_device_type_index_str_repr():
    d = tg.device("cpu", 0)
    assert (d.type, d.index, str(d), repr(d)) == ("cpu", 0, "cpu:0", "device(type='cpu', index=0)")
    d = tg.device("cpu")
    assert (d.type, d.index, str(d), repr(d)) == ("cpu", None, "cpu", "device(type='cpu')")
    assert tg.device("cpu:1") == tg.device(type="cpu", index=1)
    assert tg.device(tg.device("cpu:2")).index == 2


def test_device_equality_and_hash_as_torch():
    assert tg.device("cpu") != tg.device("cpu", 0)      # the index counts, as in PyTorch
    assert tg.device("cpu:0") == tg.device("cpu", 0)
    assert tg.device("cpu") != "cpu"                    # never equal to a string
    assert len({tg.device("cpu"), tg.device("cpu"), tg.device("cpu", 0)}) == 2
    assert tg.ones(1).device == tg.device("cpu")
    assert pickle.loads(pickle.dumps(tg.device("cpu", 3))) == tg.device("cpu:3")


@pytest.mark.parametrize("spec,message", [
    ("cuda", "device 'cuda' is not available"), ("cuda:1", "device 'cuda:1' is not available"),
    ("mps", "'mps'"), ("cpu:x", "Invalid device string: 'cpu:x'"),
    (("cpu:0", 1), "must not include an index")])
def test_device_errors_name_the_device(spec, message):
    args = spec if isinstance(spec, tuple) else (spec,)
    with pytest.raises(RuntimeError, match=message):
        tg.device(*args)


def test_device_parity_with_torch():
    torch = pytest.importorskip("torch")
    for args in [("cpu",), ("cpu", 0), ("cpu:3",)]:
        ours, theirs = tg.device(*args), torch.device(*args)
        assert (str(ours), repr(ours), ours.type, ours.index) == \
            (str(theirs), repr(theirs), theirs.type, theirs.index)
    assert (tg.device("cpu") == tg.device("cpu", 0)) == (torch.device("cpu") ==
                                                         torch.device("cpu", 0))


def test_with_device_cpu_is_a_context():
    with tg.device("cpu"):
        assert tg.zeros(2).device == tg.device("cpu")


def test_default_device():
    assert tg.get_default_device() == tg.device("cpu")
    try:
        tg.set_default_device("cpu:0")
        assert tg.get_default_device() == tg.device("cpu", 0)
        with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
            tg.set_default_device("cuda")
        tg.set_default_device(None)
        assert tg.get_default_device() == tg.device("cpu")
    finally:
        tg.set_default_device(None)


def test_the_device_line_of_every_script():
    device = (tg.accelerator.current_accelerator() if tg.accelerator.is_available()
              else tg.device("cuda" if tg.cuda.is_available() else
                             "mps" if tg.backends.mps.is_available() else "cpu"))
    assert device == tg.device("cpu") and tg.ones(2).to(device).device == device
    assert tg.accelerator.current_accelerator() is None and tg.accelerator.device_count() == 0
    assert tg.backends.mps.is_built() is False


def test_backend_flags_are_settable():
    cudnn, matmul = tg.backends.cudnn, tg.backends.cuda.matmul
    before = (cudnn.benchmark, cudnn.deterministic, cudnn.enabled, cudnn.allow_tf32,
              matmul.allow_tf32)
    try:
        cudnn.benchmark, cudnn.deterministic, matmul.allow_tf32 = True, True, True
        assert cudnn.benchmark and cudnn.deterministic and matmul.allow_tf32
    finally:
        (cudnn.benchmark, cudnn.deterministic, cudnn.enabled, cudnn.allow_tf32,
         matmul.allow_tf32) = before


def test_backend_defaults_match_torch():
    torch = pytest.importorskip("torch")
    for name in ("benchmark", "deterministic", "enabled", "allow_tf32"):
        assert getattr(tg.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert tg.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    assert tg.backends.mps.is_available() == torch.backends.mps.is_available()


def test_variable_returns_a_leaf_sharing_memory():
    x = tg.ones(3)
    v = tg.autograd.Variable(x, requires_grad=True)
    assert type(v) is tg.Tensor and v.is_leaf and v.requires_grad and not x.requires_grad
    assert isinstance(x, tg.autograd.Variable)
    (v * 2).sum().backward()
    assert v.grad.tolist() == [2.0, 2.0, 2.0]
    x.add_(1)
    assert v.tolist() == [2.0, 2.0, 2.0]
    assert tg.autograd.Variable(x).requires_grad is False
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        tg.autograd.Variable([1.0])


def test_legacy_tensor_constructor():
    assert tg.Tensor(2, 3).shape == (2, 3) and tg.Tensor(2, 3).dtype == tg.float32
    assert tg.Tensor([1, 2]).dtype == tg.float32 and tg.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert tg.Tensor(tg.Size([4])).shape == (4,)


@pytest.mark.parametrize("name,args", [("new_ones", ((2, 3),)), ("new_ones", (2, 3)),
                                       ("new_zeros", ((2,),)), ("new_empty", (2, 1)),
                                       ("new_full", ((2, 2), 3)), ("new_tensor", ([1, 2],))])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_new_methods_match_torch(name, args, dtype):
    torch = pytest.importorskip("torch")
    ours = getattr(tg.zeros(1, dtype=getattr(tg, dtype)), name)(*args)
    theirs = getattr(torch.zeros(1, dtype=getattr(torch, dtype)), name)(*args)
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    if name != "new_empty":
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_new_methods_make_leaves():
    x = tg.ones(2, requires_grad=True) * 2
    y = x.new_ones(3, requires_grad=True)
    assert y.is_leaf and y.requires_grad and y.dtype == tg.float32
    assert x.new_full((2,), 7, dtype=tg.int64).dtype == tg.int64
    data = tg.ones(2, requires_grad=True)
    assert not x.new_tensor(data).requires_grad and x.new_tensor(data).is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        tg.ones(1, dtype=tg.int64).new_zeros(2, requires_grad=True)


def test_finfo_iinfo_match_torch():
    torch = pytest.importorskip("torch")
    for name in ("float16", "float32", "float64"):
        ours, theirs = tg.finfo(getattr(tg, name)), torch.finfo(getattr(torch, name))
        for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                     "dtype"):
            assert getattr(ours, attr) == getattr(theirs, attr), (name, attr)
        assert repr(ours) == repr(theirs)
    assert tg.finfo().dtype == torch.finfo().dtype
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        ours, theirs = tg.iinfo(getattr(tg, name)), torch.iinfo(getattr(torch, name))
        assert (ours.bits, ours.min, ours.max, ours.dtype) == \
            (theirs.bits, theirs.min, theirs.max, theirs.dtype)
        assert repr(ours) == repr(theirs)
    with pytest.raises(TypeError):
        tg.finfo(tg.int32)
    with pytest.raises(TypeError):
        tg.iinfo(tg.float32)


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_promote_types_and_can_cast_match_torch():
    torch = pytest.importorskip("torch")
    for a in DTYPES:
        for b in DTYPES:
            ta, tb, oa, ob = getattr(torch, a), getattr(torch, b), getattr(tg, a), getattr(tg, b)
            assert str(tg.promote_types(oa, ob)) == str(torch.promote_types(ta, tb)), (a, b)
            assert tg.can_cast(oa, ob) == torch.can_cast(ta, tb), (a, b)


def test_result_type_matches_torch():
    torch = pytest.importorskip("torch")
    operands = [("t", "int32", (2,)), ("t", "int64", ()), ("t", "float64", ()),
                ("t", "float16", (2,)), ("t", "bool", (2,)), ("t", "uint8", ()),
                ("n", 2, None), ("n", 2.5, None), ("n", True, None)]

    def make(lib, op):
        kind, what, shape = op
        return lib.zeros(shape, dtype=getattr(lib, what)) if kind == "t" else what
    for a in operands:
        for b in operands:
            if a[0] == b[0] == "n":
                continue
            ours = tg.result_type(make(tg, a), make(tg, b))
            assert str(ours) == str(torch.result_type(make(torch, a), make(torch, b))), (a, b)
    assert str(tg.result_type(tg.ones(2, dtype=tg.int32), 2.5)) == "torch.float32"


def test_is_floating_point_complex_nonzero():
    assert tg.is_floating_point(tg.ones(1)) and not tg.is_floating_point(tg.ones(1).long())
    assert not tg.is_complex(tg.ones(1)) and not tg.ones(1).is_complex()
    assert tg.is_nonzero(tg.tensor([1.5])) and not tg.tensor(0).is_nonzero()
    with pytest.raises(RuntimeError, match="more than one value"):
        tg.is_nonzero(tg.ones(2))
    with pytest.raises(RuntimeError, match="no values"):
        tg.is_nonzero(tg.ones(0))


@pytest.mark.parametrize("make", [
    lambda: tg.nn.LayerNorm(4, device="cuda"),
    lambda: tg.nn.RMSNorm(4, device="cuda"),
    lambda: tg.nn.Embedding(5, 3, device="cuda"),
    lambda: tg.nn.Linear(2, 2, device="cuda"),
], ids=["LayerNorm", "RMSNorm", "Embedding", "Linear"])
def test_modules_with_parameters_refuse_another_device(make):
    with pytest.raises(RuntimeError, match="CPU only"):
        make()

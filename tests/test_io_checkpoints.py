"""tapegrad.load on checkpoints written by real torch.save (tests/fixtures/make_checkpoints.py)."""
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "checkpoints")


def fixture(name):
    return os.path.join(FIXTURES, name)


def arr(t):
    return t.detach().numpy()


def _base_array(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


R = np.arange(6).reshape(2, 3)
BF16 = tapegrad.dtypes._BF16 or np.float32      # bfloat16 with ml_dtypes, else widened
EXPECTED_DTYPES = {
    "float64": (R / 4 - 0.5, np.float64),
    "float32": (R / 4 - 0.5, np.float32),
    "float16": (R / 4 - 0.5, np.float16),
    "bfloat16": (R / 4 - 0.5, BF16),
    "int8": (R - 3, np.int8),
    "int16": (R * -300, np.int16),
    "int32": (R * 100000, np.int32),
    "int64": (R * 2 ** 40, np.int64),
    "uint8": (R + 250, np.uint8),
    "bool": (R % 2 == 0, np.bool_),
    "scalar": (np.array(2.5), np.float32),
    "empty": (np.zeros((0, 3)), np.float32),
}


@pytest.mark.parametrize("name", ["dtypes.pt", "legacy.pt"])
def test_every_dtype(name):
    sd = tapegrad.load(fixture(name))
    assert isinstance(sd, OrderedDict)
    for key, (values, dtype) in EXPECTED_DTYPES.items():
        t = sd[key]
        assert isinstance(t, tapegrad.Tensor)
        assert t.dtype == np.dtype(dtype), key
        assert t.shape == values.shape, key
        np.testing.assert_array_equal(arr(t), values.astype(dtype), err_msg=key)
        assert not t.requires_grad


def check_shared(sd):
    base = arr(sd["base"])
    np.testing.assert_array_equal(base, np.arange(24, dtype=np.float32).reshape(4, 6))
    expect = {"transposed": base.T, "strided": base.reshape(-1)[1::3],
              "offset": base.reshape(-1)[6:18].reshape(2, 6), "column": base[:, 2],
              "expanded": np.broadcast_to(base.reshape(-1)[:3, None], (3, 4))}
    for key, value in expect.items():
        np.testing.assert_array_equal(arr(sd[key]), value, err_msg=key)
        assert _base_array(arr(sd[key])) is _base_array(base), f"{key} lost its shared storage"
    assert sd["transposed"].stride() == (1, 6)
    assert sd["expanded"].stride() == (1, 0)
    assert sd["column"].stride() == (6,)
    # a write through one view shows through the others, as in PyTorch
    arr(sd["base"])[1, 0] = -1.0
    assert arr(sd["offset"])[0, 0] == -1.0 and arr(sd["transposed"])[0, 1] == -1.0
    np.testing.assert_array_equal(arr(sd["other_tail"]), [7, 8, 9])
    assert np.shares_memory(arr(sd["other"]), arr(sd["other_tail"]))
    assert not np.shares_memory(arr(sd["other"]), base)


def test_shared_storage_views_and_offsets():
    sd = tapegrad.load(fixture("shared.pt"))
    check_shared(sd)
    assert sd["param"].requires_grad and sd["param"].is_leaf
    np.testing.assert_array_equal(arr(sd["param"]), np.arange(4, dtype=np.float32))
    assert sd["grad_leaf"].requires_grad and sd["grad_leaf"].is_leaf
    assert not sd["base"].requires_grad


def test_legacy_format_shares_storage_too():
    check_shared(tapegrad.load(fixture("legacy.pt")))


def test_parameters_load_as_nn_parameter(monkeypatch):
    try:
        from tapegrad.nn.parameter import Parameter
    except ImportError:
        pytest.skip("tapegrad.nn.Parameter is not available")
    monkeypatch.setattr(tapegrad.nn, "Parameter", Parameter, raising=False)
    sd = tapegrad.load(fixture("shared.pt"))
    assert isinstance(sd["param"], Parameter) and sd["param"].requires_grad
    assert not isinstance(sd["grad_leaf"], Parameter)


def check_optimizer(opt):
    assert set(opt) == {"state", "param_groups"}
    (group,) = opt["param_groups"]
    assert group["params"] == [0, 1] and group["lr"] == 0.1 and group["betas"] == (0.9, 0.999)
    assert group["amsgrad"] is False and group["foreach"] is None
    assert set(opt["state"]) == {0, 1}
    for i, shape in [(0, (2, 3)), (1, (2,))]:
        state = opt["state"][i]
        assert state["step"].item() == 2.0
        assert state["exp_avg"].shape == shape and state["exp_avg_sq"].shape == shape
        assert state["exp_avg"].dtype == np.float32
        assert (arr(state["exp_avg_sq"]) >= 0).all()


def test_optimizer_state_dict():
    check_optimizer(tapegrad.load(fixture("optimizer.pt")))


def test_nested_checkpoint_loads_whole():
    ck = tapegrad.load(fixture("nested.pt"))
    assert ck["epoch"] == 3 and ck["loss"] == 0.125 and ck["name"] == "run-1"
    assert ck["history"] == [1.5, 0.75, 0.25] and ck["pair"] == (1, "x", None)
    assert ck["flags"] == {"amp": False, "ema": True}
    assert ck["size"] == (2, 3) and isinstance(ck["size"], tapegrad.Size)
    assert ck["device"] == tapegrad.device("cpu")
    assert ck["dtype"] == tapegrad.float16
    assert ck["blob"] == b"\x00\xffab" and ck["ids"] == {1, 2, 3}
    assert ck["big"] == 2 ** 70 and ck["neg"] == -5 and ck["unicode"] == "caf\u00e9"
    assert ck["none"] is None
    assert list(ck["model"]) == ["weight", "bias"] and ck["model"]["weight"].shape == (2, 3)
    assert ck["model"]._metadata[""] == {"version": 1}     # kept for load_state_dict
    check_optimizer(ck["optimizer"])


def test_protocol_4_pickle():
    sd = tapegrad.load(fixture("protocol4.pt"))
    assert list(sd) == ["weight", "bias"] and sd["bias"].shape == (2,)


def test_pickled_module_is_refused_by_name():
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
        tapegrad.load(fixture("module.pt"))


def test_file_objects_and_arguments():
    with open(fixture("dtypes.pt"), "rb") as f:
        a = tapegrad.load(f, map_location="cpu", weights_only=False)
    b = tapegrad.load(fixture("dtypes.pt"), map_location=lambda s, loc: s)
    c = tapegrad.load(fixture("dtypes.pt"), map_location={"cuda:0": "cpu"})
    d = tapegrad.load(fixture("dtypes.pt"), map_location=tapegrad.device("cpu"))
    for x in (b, c, d):
        np.testing.assert_array_equal(arr(x["int64"]), arr(a["int64"]))
    with pytest.raises(RuntimeError, match="cuda"):
        tapegrad.load(fixture("dtypes.pt"), map_location="cuda:0")
    with pytest.raises(TypeError):
        tapegrad.load(12)


class _Pipe:
    """A binary stream that can't seek."""

    def __init__(self, data):
        self._data = data

    def read(self, n=-1):
        data, self._data = self._data, b""
        return data

    def seek(self, *args):
        raise OSError("not seekable")

    def seekable(self):
        return False


def test_unseekable_stream():
    with open(fixture("mlp.pt"), "rb") as f:
        ck = tapegrad.load(_Pipe(f.read()))
    assert ck["input"].shape == (5, 4)


# ---- parity with PyTorch (skipped without torch) -------------------------------------------------
@pytest.mark.parametrize("name", ["dtypes.pt", "shared.pt", "optimizer.pt", "nested.pt",
                                  "legacy.pt", "mlp.pt", "protocol4.pt"])
def test_same_values_as_torch_load(name):
    torch = pytest.importorskip("torch")
    # torch's own weights_only unpickler lacks protocol 4's FRAME opcode; the fixture is ours
    theirs = torch.load(fixture(name), weights_only=name != "protocol4.pt")
    assert_same(tapegrad.load(fixture(name)), theirs, torch)


def assert_same(ours, theirs, torch):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tapegrad.Tensor)
        want = theirs.detach()
        want = want.float() if want.dtype == torch.bfloat16 else want
        assert ours.shape == tuple(want.shape) and ours.stride() == want.stride()
        np.testing.assert_array_equal(arr(ours), want.numpy())
        assert ours.requires_grad == theirs.requires_grad
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            assert_same(ours[k], theirs[k], torch)
    elif isinstance(theirs, (list, tuple)) and not isinstance(theirs, torch.Size):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for x, y in zip(ours, theirs):
            assert_same(x, y, torch)
    elif isinstance(theirs, (torch.device, torch.dtype)):
        assert str(ours) == str(theirs).replace("torch.", "")
    else:
        assert ours == theirs

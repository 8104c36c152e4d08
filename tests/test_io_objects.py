"""save/load of more than tensors: NumPy arrays, plain Python objects, the user's own classes;
weights_only=True (the default, with add_safe_globals) and the trusted weights_only=False."""
import io
import pickle
from collections import Counter, OrderedDict

import numpy as np
import pytest

import tapegrad
from tapegrad import serialization
from tapegrad.io import zipformat


def numpy_globals():
    return [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.int64))]


class Box:
    """A user's class holding tensors and arrays (module-level, so pickle can name it)."""

    def __init__(self, w, a, tag="box"):
        self.w, self.a, self.tag = w, a, tag


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y


class Touch:
    """Unpickling this calls `_touch(path)`: code that runs from the file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return _touch, (str(self.path),)


def _touch(path):
    open(path, "w").close()
    return "touched"


def save_bytes(lib, obj, **kwargs):
    buf = io.BytesIO()
    lib.save(obj, buf, **kwargs)
    return buf.getvalue()


def load_bytes(lib, data, **kwargs):
    return lib.load(io.BytesIO(data), **kwargs)


ARRAYS = {"i64": np.arange(6).reshape(2, 3), "f32": np.linspace(0, 1, 5, dtype=np.float32),
          "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
          "strided": np.arange(10.0)[::3], "zero_d": np.array(2.5), "empty": np.zeros((0, 2)),
          "complex": np.array([1 + 2j, 3j]), "bool": np.array([True, False]),
          "text": np.array(["ab", "c"])}


def check_arrays(out):
    for k, a in ARRAYS.items():
        assert type(out[k]) is np.ndarray and out[k].dtype == a.dtype, k
        np.testing.assert_array_equal(out[k], a)


def test_numpy_arrays_round_trip_with_weights_only_false():
    out = load_bytes(tapegrad, save_bytes(tapegrad, dict(ARRAYS)), weights_only=False)
    check_arrays(out)


def test_arrays_are_refused_by_default_with_torchs_advice():
    data = save_bytes(tapegrad, {"a": np.arange(3)})
    for kwargs in ({}, {"weights_only": True}, {"weights_only": None}):
        with pytest.raises(pickle.UnpicklingError) as err:
            load_bytes(tapegrad, data, **kwargs)
        msg = str(err.value)
        assert "numpy._core.multiarray._reconstruct" in msg
        assert "weights_only=False" in msg and "trust" in msg and "add_safe_globals" in msg


def test_safe_globals_let_weights_only_load_arrays():
    data = save_bytes(tapegrad, {"a": np.arange(6).reshape(2, 3), "t": tapegrad.ones(2)})
    with serialization.safe_globals(numpy_globals()):
        out = load_bytes(tapegrad, data)
        assert len(serialization.get_safe_globals()) == 4
    np.testing.assert_array_equal(out["a"], np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(out["t"].numpy(), [1.0, 1.0])
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        load_bytes(tapegrad, data)


def test_add_safe_globals_for_a_users_class():
    box = Box(tapegrad.arange(3.0), None)
    data = save_bytes(tapegrad, {"box": box, "slots": Slotted(1, [2])})
    with pytest.raises(pickle.UnpicklingError, match="test_io_objects.Box"):
        load_bytes(tapegrad, data)
    try:
        serialization.add_safe_globals([Box, (Slotted, f"{__name__}.Slotted")])
        out = load_bytes(tapegrad, data)
    finally:
        serialization.clear_safe_globals()
    assert type(out["box"]) is Box and out["box"].tag == "box" and out["box"].a is None
    np.testing.assert_array_equal(out["box"].w.numpy(), [0.0, 1.0, 2.0])
    assert (out["slots"].x, out["slots"].y) == (1, [2])


def test_add_safe_globals_checks_its_argument():
    with pytest.raises(ValueError):
        serialization.add_safe_globals([(Box, "a", "b")])
    with pytest.raises(TypeError):
        serialization.add_safe_globals([(Box, 3)])
    with pytest.raises(TypeError):
        serialization.add_safe_globals(Box)
    assert serialization.get_safe_globals() == []


def test_users_objects_round_trip_and_keep_identity():
    t = tapegrad.arange(6.0).reshape(2, 3)
    obj = {"t": t, "box": Box(t, np.ones((2, 2), np.float32)), "frozen": frozenset([1, 2]),
           "np_dtype": np.dtype("complex64"), "np_complex": np.complex64(1 + 2j),
           "counter": Counter("abca"), "fn": np.add}
    out = load_bytes(tapegrad, save_bytes(tapegrad, obj), weights_only=False)
    assert out["box"].w is out["t"]
    np.testing.assert_array_equal(out["t"].numpy(), t.numpy())
    np.testing.assert_array_equal(out["box"].a, np.ones((2, 2)))
    assert out["frozen"] == frozenset([1, 2]) and out["np_dtype"] == np.dtype("complex64")
    assert out["np_complex"] == np.complex64(1 + 2j) and type(out["np_complex"]) is np.complex64
    assert out["counter"] == Counter("abca") and type(out["counter"]) is Counter
    assert out["fn"] is np.add


def test_plain_objects_still_load_with_weights_only_true():
    obj = {"c": 1 + 2j, "b": b"\x00\xff", "ba": bytearray(b"xy"), "s": {1, 2},
           "od": OrderedDict(a=1), "counter": Counter({"a": 2}), "size": tapegrad.Size([2, 3]),
           "dtype": tapegrad.int32, "device": tapegrad.device("cpu"), "n": None,
           "np_scalar": np.float32(0.5)}     # a real NumPy scalar saves as its Python number
    out = load_bytes(tapegrad, save_bytes(tapegrad, obj))
    assert out["counter"] == Counter({"a": 2}) and type(out["counter"]) is Counter
    for k in ("c", "b", "ba", "s", "od", "size", "n", "np_scalar"):
        assert out[k] == obj[k], k
    assert out["dtype"] == tapegrad.int32 and str(out["device"]) == "cpu"


def test_weights_only_false_is_an_explicit_opt_in_that_runs_code(tmp_path):
    path = tmp_path / "ran"
    data = save_bytes(tapegrad, {"x": Touch(path)})
    with pytest.raises(pickle.UnpicklingError, match="_touch"):
        load_bytes(tapegrad, data)
    assert not path.exists()
    assert load_bytes(tapegrad, data, weights_only=False) == {"x": "touched"}
    assert path.exists()


def test_weights_only_false_errors():
    with pytest.raises(TypeError, match="weights_only"):
        load_bytes(tapegrad, save_bytes(tapegrad, {}), weights_only="yes")
    buf = io.BytesIO()
    zipformat.write(buf, b"\x80\x02cno_such_module_here\nBox\n)\x81.", [])
    with pytest.raises(ModuleNotFoundError):        # the file's own error, as pickle raises it
        load_bytes(tapegrad, buf.getvalue(), weights_only=False)


# ---- with PyTorch ------------------------------------------------------------------------------
@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("zip_format", [True, False])
def test_torch_files_with_arrays_and_classes_load_in_tapegrad(torch, zip_format):
    w = torch.arange(6.0).reshape(2, 3)
    obj = {"arrays": dict(ARRAYS), "box": Box(w, np.arange(3)), "view": w[:, 1], "w": w,
           "half": torch.ones(2, dtype=torch.bfloat16) * 1.5, "p": torch.nn.Parameter(w.clone()),
           "frozen": frozenset("ab"), "np_scalar": np.float32(0.25)}
    data = save_bytes(torch, obj, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(pickle.UnpicklingError):
        load_bytes(tapegrad, data)
    out = load_bytes(tapegrad, data, weights_only=False)
    theirs = load_bytes(torch, data, weights_only=False)
    check_arrays(out["arrays"])
    assert out["box"].w is out["w"] and np.shares_memory(out["view"].numpy(), out["w"].numpy())
    for k in ("w", "view", "half", "p"):
        np.testing.assert_array_equal(out[k].detach().numpy(),
                                      theirs[k].detach().float().numpy())
    assert isinstance(out["p"], tapegrad.nn.Parameter) and out["p"].requires_grad
    np.testing.assert_array_equal(out["box"].a, np.arange(3))
    assert out["frozen"] == theirs["frozen"]
    assert out["np_scalar"] == theirs["np_scalar"] and type(out["np_scalar"]) is np.float32


def test_tapegrad_files_with_arrays_and_classes_load_in_torch(torch):
    t = tapegrad.arange(6.0).reshape(2, 3)
    data = save_bytes(tapegrad, {"arrays": dict(ARRAYS), "box": Box(t, np.arange(3)), "t": t,
                                 "frozen": frozenset("ab"), "np_dtype": np.dtype("f4")})
    theirs = load_bytes(torch, data, weights_only=False)
    check_arrays(theirs["arrays"])
    assert theirs["box"].w is theirs["t"]
    np.testing.assert_array_equal(theirs["t"].numpy(), t.numpy())
    assert theirs["frozen"] == frozenset("ab") and theirs["np_dtype"] == np.dtype("f4")


def test_safe_globals_parity_with_torch(torch):
    """Both refuse an array by default and accept it under the same safe globals, whichever
    library wrote the file."""
    a = np.arange(6).reshape(2, 3)
    for writer in (tapegrad, torch):
        data = save_bytes(writer, {"a": a})
        for lib in (tapegrad, torch):
            with pytest.raises(pickle.UnpicklingError, match="_reconstruct"):
                load_bytes(lib, data, weights_only=True)
            with lib.serialization.safe_globals(numpy_globals()):
                np.testing.assert_array_equal(load_bytes(lib, data, weights_only=True)["a"], a)


def test_torch_objects_other_than_tensors_are_refused_even_when_trusted(torch):
    data = save_bytes(torch, torch.nn.Linear(2, 2))
    for weights_only in (True, False):
        with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear"):
            load_bytes(tapegrad, data, weights_only=weights_only)

"""tapegrad.save -> file -> tapegrad.load / torch.load, atomic writes, .npz and .safetensors."""
import io
import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad
from tapegrad.io import zipformat

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
          np.bool_]


def arr(t):
    return t.detach().numpy()


def root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def roundtrip(obj):
    buf = io.BytesIO()
    tapegrad.save(obj, buf)
    buf.seek(0)
    return tapegrad.load(buf), buf


def storage_records(buf):
    return [n for n in zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist() if "/data/" in n]


def sample():
    """Tensors sharing one NumPy buffer in every way a view can, and a nested checkpoint."""
    base = np.arange(24, dtype=np.float32)
    sd = OrderedDict([
        ("base", tapegrad.from_numpy(base.reshape(4, 6))),
        ("transposed", tapegrad.from_numpy(base.reshape(4, 6).T)),
        ("strided", tapegrad.from_numpy(base[1::3])),
        ("offset", tapegrad.from_numpy(base[6:18].reshape(2, 6))),
        ("expanded", tapegrad.from_numpy(np.broadcast_to(base[:3, None], (3, 4)))),
        ("flipped", tapegrad.from_numpy(base[::-1])),                # negative stride: copied
        ("fortran", tapegrad.from_numpy(np.asfortranarray(np.ones((2, 3))))),
        ("leaf", tapegrad.ones(3, requires_grad=True)),
        ("scalar", tapegrad.tensor(7, dtype=tapegrad.int64)),
        ("empty", tapegrad.zeros(0, 3)),
    ])
    sd._metadata = OrderedDict([("", {"version": 1})])
    for dt in DTYPES:
        sd[np.dtype(dt).name] = tapegrad.from_numpy((np.arange(6).reshape(2, 3) % 3).astype(dt))
    return {"model": sd, "epoch": 2, "lr": 1e-3, "name": "x\u00e9", "tags": ["a", "b"],
            "pair": (1, None, True), "blob": b"\x00\xff", "ids": {3, 4}, "big": -2 ** 80,
            "size": tapegrad.Size([2, 3]), "dtype": tapegrad.float16,
            "device": tapegrad.device("cpu"), "np_scalar": np.float32(0.5),
            "optimizer": {"state": {0: {"step": tapegrad.tensor(3.0),
                                        "momentum_buffer": tapegrad.zeros(2, 2)}},
                          "param_groups": [{"lr": 0.1, "params": [0], "nesterov": False}]}}


def check_sample(ck):
    sd = ck["model"]
    base = arr(sd["base"]).reshape(-1)
    np.testing.assert_array_equal(base, np.arange(24))
    np.testing.assert_array_equal(arr(sd["transposed"]), base.reshape(4, 6).T)
    np.testing.assert_array_equal(arr(sd["strided"]), base[1::3])
    np.testing.assert_array_equal(arr(sd["offset"]), base[6:18].reshape(2, 6))
    np.testing.assert_array_equal(arr(sd["expanded"]), np.broadcast_to(base[:3, None], (3, 4)))
    np.testing.assert_array_equal(arr(sd["flipped"]), base[::-1])
    np.testing.assert_array_equal(arr(sd["fortran"]), np.ones((2, 3)))
    for key in ("transposed", "strided", "offset", "expanded"):
        assert np.shares_memory(arr(sd[key]), arr(sd["base"])), key
    assert not np.shares_memory(arr(sd["flipped"]), arr(sd["base"]))
    assert sd["leaf"].requires_grad and not sd["base"].requires_grad
    assert sd["scalar"].shape == () and sd["scalar"].item() == 7
    assert sd["empty"].shape == (0, 3)
    for dt in DTYPES:
        t = sd[np.dtype(dt).name]
        assert t.dtype == np.dtype(dt)
        np.testing.assert_array_equal(arr(t), (np.arange(6).reshape(2, 3) % 3).astype(dt))
    assert sd._metadata == {"": {"version": 1}}
    assert (ck["epoch"], ck["lr"], ck["name"], ck["tags"]) == (2, 1e-3, "x\u00e9", ["a", "b"])
    assert ck["pair"] == (1, None, True) and ck["blob"] == b"\x00\xff" and ck["ids"] == {3, 4}
    assert ck["big"] == -2 ** 80 and ck["size"] == (2, 3) and ck["np_scalar"] == 0.5
    assert ck["dtype"] == tapegrad.float16 and str(ck["device"]) == "cpu"
    opt = ck["optimizer"]
    assert opt["state"][0]["step"].item() == 3.0 and opt["param_groups"][0]["params"] == [0]


def test_tapegrad_to_tapegrad():
    ck, buf = roundtrip(sample())
    check_sample(ck)
    assert isinstance(ck["model"], OrderedDict)


def test_shared_numpy_buffer_is_written_once():
    base = np.arange(1000, dtype=np.float64)
    views = [tapegrad.from_numpy(base[i:i + 10]) for i in range(0, 1000, 10)]
    out, buf = roundtrip(views)
    assert len(storage_records(buf)) == 1
    assert all(root(arr(v)) is root(arr(out[0])) for v in out)


def test_identity_and_recursion_survive():
    t = tapegrad.ones(2)
    loop = [t, t]
    loop.append(loop)
    out, _ = roundtrip(loop)
    assert out[0] is out[1] and out[2] is out


def test_non_leaf_saves_as_plain_data():
    x = tapegrad.ones(2, requires_grad=True)
    out, _ = roundtrip({"y": x * 2})
    assert not out["y"].requires_grad and out["y"].is_leaf
    np.testing.assert_array_equal(arr(out["y"]), [2.0, 2.0])


def test_unsupported_objects_fail_before_the_file_is_touched(tmp_path):
    target = tmp_path / "ck.pt"
    for bad in (lambda: 0, (i for i in range(2))):     # what Python's pickle can't write
        with pytest.raises((TypeError, pickle.PicklingError), match="save"):
            tapegrad.save({"x": bad}, target)
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError):
        tapegrad.save({}, target, _use_new_zipfile_serialization=False)


def test_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "ck.pt"
    tapegrad.save({"v": 1}, target)
    os.chmod(target, 0o640)

    def crash(f, *args):
        f.write(b"PK half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(zipformat, "write", crash)
    with pytest.raises(KeyboardInterrupt):
        tapegrad.save({"v": 2}, target)
    monkeypatch.undo()
    assert tapegrad.load(target) == {"v": 1}
    assert os.listdir(tmp_path) == ["ck.pt"]         # no temporary file left behind
    tapegrad.save({"v": 3}, str(target))
    assert tapegrad.load(target) == {"v": 3}
    assert os.stat(target).st_mode & 0o777 == 0o640


def test_archive_layout_is_aligned():
    _, buf = roundtrip({"a": tapegrad.ones(3), "b": tapegrad.zeros(5, dtype=tapegrad.int8)})
    data = buf.getvalue()
    zf = zipfile.ZipFile(io.BytesIO(data))
    for info in zf.infolist():
        name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:
                                                        info.header_offset + 30])
        assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0, info.filename
        assert info.compress_type == zipfile.ZIP_STORED
    assert zf.read("archive/byteorder") == b"little"
    assert zf.read("archive/version") == b"3\n"


def test_big_endian_archive():
    _, buf = roundtrip({"w": tapegrad.tensor([1.5, -2.0, 3.25])})
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("byteorder"):
                data = b"big"
            elif "/data/" in name:
                data = np.frombuffer(data, "<f4").astype(">f4").tobytes()
            dst.writestr(name, data)
    out.seek(0)
    np.testing.assert_array_equal(arr(tapegrad.load(out)["w"]), [1.5, -2.0, 3.25])


# ---- PyTorch reads what tapegrad writes (skipped without torch) ----------------------------------
def test_torch_reads_tapegrad_checkpoints(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "ck.pt"
    tapegrad.save(sample(), path)
    for mmap in (False, True):        # mmap needs the 64-byte alignment of the records
        ck = torch.load(path, weights_only=True, mmap=mmap)
        sd = ck["model"]
        np.testing.assert_array_equal(sd["transposed"].numpy(), np.arange(24).reshape(4, 6).T)
        assert sd["transposed"].stride() == (1, 6) and sd["expanded"].stride() == (1, 0)
        ptr = sd["base"].untyped_storage().data_ptr()
        for key in ("transposed", "strided", "offset", "expanded"):
            assert sd[key].untyped_storage().data_ptr() == ptr, key
        np.testing.assert_array_equal(sd["flipped"].numpy(), np.arange(24)[::-1])
        for dt in DTYPES:
            want = (np.arange(6).reshape(2, 3) % 3).astype(dt)
            np.testing.assert_array_equal(sd[np.dtype(dt).name].numpy(), want)
        assert sd["leaf"].requires_grad and not sd["base"].requires_grad
        assert sd._metadata == {"": {"version": 1}}
        assert ck["size"] == torch.Size([2, 3]) and ck["dtype"] == torch.float16
        assert ck["device"] == torch.device("cpu") and ck["blob"] == b"\x00\xff"
        assert ck["ids"] == {3, 4} and ck["big"] == -2 ** 80 and ck["pair"] == (1, None, True)
        assert ck["optimizer"]["state"][0]["step"].item() == 3.0


def test_torch_loads_parameters_as_parameters(monkeypatch):
    torch = pytest.importorskip("torch")
    try:
        from tapegrad.nn.parameter import Parameter
    except ImportError:
        pytest.skip("tapegrad.nn.Parameter is not available")
    monkeypatch.setattr(tapegrad.nn, "Parameter", Parameter, raising=False)
    buf = io.BytesIO()
    tapegrad.save({"p": Parameter(tapegrad.ones(2))}, buf)
    buf.seek(0)
    p = torch.load(buf, weights_only=True)["p"]
    assert isinstance(p, torch.nn.Parameter) and p.requires_grad
    buf.seek(0)
    assert isinstance(tapegrad.load(buf)["p"], Parameter)


def test_torch_checkpoint_through_tapegrad_and_back(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    base = torch.randn(6, 4)
    original = {"w": base, "wt": base.t(), "row": base[2], "half": base.half(),
                "bf16": torch.randn(3).bfloat16(), "ids": torch.arange(5)}
    torch.save(original, tmp_path / "a.pt")
    tapegrad.save(tapegrad.load(tmp_path / "a.pt"), tmp_path / "b.pt")
    back = torch.load(tmp_path / "b.pt", weights_only=True)
    for key, value in original.items():
        want = value.float() if value.dtype == torch.bfloat16 else value    # widened
        assert torch.equal(back[key], want), key
    assert back["wt"].untyped_storage().data_ptr() == back["w"].untyped_storage().data_ptr()


# ---- .npz, .npy and .safetensors -----------------------------------------------------------------
@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_npz(tmp_path, save):
    path = tmp_path / "a.npz"
    values = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "i": np.arange(4),
              "f": np.asfortranarray(np.ones((2, 2))), "be": np.arange(3, dtype=">f8"),
              "mask": np.array([True, False])}
    save(path, **values)
    out = tapegrad.load(path)
    assert list(out) == list(values)
    for key, value in values.items():
        np.testing.assert_array_equal(arr(out[key]), value)
        assert out[key].dtype == value.dtype.newbyteorder("=")


def test_npy_and_object_arrays(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(5, dtype=np.int16))
    np.testing.assert_array_equal(arr(tapegrad.load(tmp_path / "a.npy")), np.arange(5))
    np.savez(tmp_path / "o.npz", o=np.array([{"x": 1}], dtype=object))
    with pytest.raises(Exception) as err:
        tapegrad.load(tmp_path / "o.npz")
    assert "pickle" in str(err.value)


def write_safetensors(path, tensors, dtypes, raw):
    """A .safetensors file by the format's spec: length, JSON header, data."""
    header, data = {"__metadata__": {"format": "np"}}, b""
    for name, value in tensors.items():
        blob = raw(value)
        header[name] = {"dtype": dtypes[name], "shape": list(value.shape),
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def test_safetensors_native(tmp_path):
    values = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "h": np.ones(2, np.float16),
              "bf": np.array([1.0, -2.5, 0.15625], np.float32), "b": np.array([True, False])}
    kinds = {"w": "F32", "h": "F16", "bf": "BF16", "b": "BOOL"}

    def raw(a):     # bfloat16: the top half of each float32
        return (a.view(np.uint32) >> 16).astype("<u2").tobytes() if a is values["bf"] \
            else a.tobytes()

    write_safetensors(tmp_path / "m.safetensors", values, kinds, raw)
    out = tapegrad.load(tmp_path / "m.safetensors")
    assert list(out) == list(values)
    for key, value in values.items():
        np.testing.assert_array_equal(arr(out[key]), value)
    assert out["bf"].dtype == (tapegrad.dtypes._BF16 or np.float32)     # widened without ml_dtypes


def test_safetensors_package_parity(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    values = {"a": np.arange(12, dtype=np.float64).reshape(3, 4), "b": np.arange(3, dtype=np.int8)}
    st.save_file(values, str(tmp_path / "p.safetensors"))
    out = tapegrad.load(tmp_path / "p.safetensors")
    for key, value in values.items():
        np.testing.assert_array_equal(arr(out[key]), value)

"""Hostile checkpoints that try to exhaust memory: what tapegrad.load may do is bounded by the
file's size, in every format it reads (issue 9, section 4). Each file is crafted here."""
import copy
import io
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import tapegrad

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "checkpoints")
SMALL = 16 * 2 ** 20        # the peak a hostile file may cause here: far below what it claims


def load_bytes(data):
    return tapegrad.load(io.BytesIO(data))


def peak_of(fn):
    """(what fn() returned or raised, the peak of memory traced while it ran)."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except (pickle.UnpicklingError, RuntimeError) as e:
            out = e
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---- pickle pieces -------------------------------------------------------------------------------
def text(s):
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def int_op(n):
    return pickle.dumps(n, protocol=2)[2:-1]


def ints(seq):
    return b"(" + b"".join(int_op(n) for n in seq) + b"t"


def pid(storage_type, key, numel, view=None, legacy=False):
    """A storage's persistent id; legacy files add a view: (view key, offset, numel) or None."""
    tail = b"N" if legacy else b""
    if view is not None:
        tail = b"(" + text(view[0]) + int_op(view[1]) + int_op(view[2]) + b"t"
    return (b"(" + text("storage") + b"ctorch\n" + storage_type + b"\n" + text(key) + text("cpu")
            + int_op(numel) + tail + b"tQ")


def v2(storage, shape):
    """_rebuild_tensor_v2(storage, 0, shape, contiguous strides)."""
    strides = [int(np.prod(shape[i + 1:])) for i in range(len(shape))]
    return (b"ctorch._utils\n_rebuild_tensor_v2\n(" + storage + int_op(0) + ints(shape)
            + ints(strides) + b"\x89}tR")


def v3(storage, numel, dtype):
    """_rebuild_tensor_v3(untyped storage, 0, (numel,), (1,), dtype)."""
    return (b"ctorch._utils\n_rebuild_tensor_v3\n(" + storage + int_op(0) + ints((numel,))
            + ints((1,)) + b"\x89}ctorch\n" + dtype + b"\ntR")


def as_list(items):
    return b"\x80\x02(" + b"".join(items) + b"l."


def legacy_file(pkl, keys, records, little=True):
    header = {"protocol_version": 1001, "little_endian": little,
              "type_sizes": {"short": 2, "int": 4, "long": 4}}
    head = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950a86a20f9469cfc6c, 1001, header))
    return head + pkl + pickle.dumps(keys, protocol=2) + b"".join(records)


def zip_of(records, method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in records:
            zf.writestr(name, data)
    return buf.getvalue()


# ---- raw zip pieces (for what zipfile refuses to write) ------------------------------------------
def local_header(name, method, crc, csize, usize):
    n = name.encode()
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, csize, usize,
                       len(n), 0) + n


def central_directory(entries, at):
    """`entries`: (name, method, crc, csize, usize, header offset); the directory sits at `at`."""
    cd = b"".join(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc,
                              csize, usize, len(name.encode()), 0, 0, 0, 0, 0, offset)
                  + name.encode() for name, method, crc, csize, usize, offset in entries)
    return cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                            len(cd), at, 0)


# ---- legacy: many views of one storage -----------------------------------------------------------
def untyped_views(n_views, nbytes, dtype=b"bfloat16", little=True, phases=4):
    """A legacy file: one untyped storage of `nbytes`, and `n_views` tensors of `dtype`, each on
    its own view (its own view key) that covers the storage from byte `i % phases` on."""
    item = {b"bfloat16": 2, b"float32": 4}[dtype]
    tensors = []
    for i in range(n_views):
        off = i % phases
        view = pid(b"UntypedStorage", "0", nbytes, (f"v{i}", off, nbytes - off))
        tensors.append(v3(view, (nbytes - off) // item, dtype))
    raw = (np.arange(nbytes) * 7 % 251).astype(np.uint8).tobytes()
    record = struct.pack("<q" if little else ">q", nbytes) + raw
    return legacy_file(as_list(tensors), ["0"], [record], little), raw


def test_legacy_views_share_one_conversion():
    """1,000 views of one 64 KiB storage, each widened bfloat16 -> float32: before, each view
    got its own copy (128 MiB here; ~8 GB from a 3.8 MB file); now they share the root's."""
    data, raw = untyped_views(1000, 2 ** 16)
    out, peak = peak_of(lambda: load_bytes(data))
    assert isinstance(out, list) and len(out) == 1000, out
    assert peak < SMALL, f"{len(data)}-byte file, {peak} bytes at peak"
    for i in (0, 1, 2, 3, 999):                 # byte phases 0..3: each view's own bytes
        off = i % 4
        halves = np.frombuffer(raw[off:off + (len(raw) - off) // 2 * 2], "<u2")
        expect = (halves.astype(np.uint32) << 16).view(np.float32)
        np.testing.assert_array_equal(out[i].numpy(), expect)


@pytest.mark.parametrize("dtype, little", [(b"bfloat16", True), (b"float32", False)])
def test_legacy_untyped_storage_converted_after_its_bytes_arrive(dtype, little):
    """The first of the two passes over a legacy pickle meets storages before their bytes;
    a conversion made then (bfloat16, or big-endian) was kept: wrong values."""
    nbytes = 64
    raw = bytes(range(1, nbytes + 1))     # not via numpy, whose freed buffer np.empty may reuse
    item = 2 if dtype == b"bfloat16" else 4
    pkl = as_list([v3(pid(b"UntypedStorage", "0", nbytes, legacy=True), nbytes // item, dtype)])
    record = struct.pack("<q" if little else ">q", nbytes) + raw
    (t,) = load_bytes(legacy_file(pkl, ["0"], [record], little))
    if dtype == b"bfloat16":
        expect = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        expect = np.frombuffer(raw, ">f4")
    np.testing.assert_array_equal(t.numpy(), expect)


def test_legacy_view_key_declared_twice_differently():
    a = pid(b"FloatStorage", "0", 4, ("v", 0, 2))
    b = pid(b"FloatStorage", "0", 4, ("v", 2, 2))
    record = struct.pack("<q", 4) + np.arange(4, dtype=np.float32).tobytes()
    data = legacy_file(as_list([v2(a, (2,)), v2(b, (2,))]), ["0"], [record])
    with pytest.raises(RuntimeError, match="declared twice"):
        load_bytes(data)
    same = legacy_file(as_list([v2(a, (2,)), v2(a, (2,))]), ["0"], [record])
    x, y = load_bytes(same)
    np.testing.assert_array_equal(y.numpy(), [0.0, 1.0])


# ---- zip: record sizes ---------------------------------------------------------------------------
def test_storage_record_must_have_exactly_the_declared_size():
    """A 1 MiB record read for a 2-element storage (PyTorch refuses it too)."""
    pkl = b"\x80\x02" + v2(pid(b"FloatStorage", "0", 2), (2,)) + b"."
    for record in (bytes(2 ** 20), bytes(4)):
        with pytest.raises(RuntimeError, match="declares 8"):
            load_bytes(zip_of([("archive/data.pkl", pkl), ("archive/data/0", record)]))


def nested_records(count, payload):
    """A checkpoint whose `count` storage records overlap: each one's local header lies inside
    the data of the one before, so each record holds all of the ones after it and `payload`."""
    headers, body = [], payload
    for i in reversed(range(count)):
        name = f"archive/data/{i}"
        headers.append((name, zlib.crc32(body), len(body)))
        body = local_header(name, 0, zlib.crc32(body), len(body), len(body)) + body
    headers.reverse()
    pkl = as_list([v2(pid(b"ByteStorage", str(i), n), (n,)) for i, (_, _, n) in
                   enumerate(headers)])
    head = local_header("archive/data.pkl", 0, zlib.crc32(pkl), len(pkl), len(pkl)) + pkl
    entries = [("archive/data.pkl", 0, zlib.crc32(pkl), len(pkl), len(pkl), 0)]
    at = len(head)
    for name, crc, n in headers:
        entries.append((name, 0, crc, n, n, at))
        at += 30 + len(name)
    data = head + body
    return data + central_directory(entries, len(data))


def test_overlapping_zip_records_are_refused():
    """300 records nested in a 130 KB file claim 20 MB between them: refused at the second."""
    data = nested_records(300, bytes(range(256)) * 256)
    err, peak = peak_of(lambda: load_bytes(data))
    # Python >= 3.12's zipfile refuses overlapped entries itself (a "corrupt" archive)
    assert isinstance(err, RuntimeError) and ("overlap" in str(err) or "corrupt" in str(err)), err
    assert peak < 4 * 2 ** 20, peak


def test_nested_records_helper_is_a_valid_zip_layout():
    """The helper's file, with one record, loads: the refusal above is about the overlap."""
    (t,) = load_bytes(nested_records(1, b"\x01\x02\x03"))
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])


def zip_bomb(declared_mib):
    """A checkpoint whose deflated data.pkl inflates to `declared_mib` MiB (of zeros)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(2 ** 20)) + c.flush(zlib.Z_FULL_FLUSH)   # the same for each MiB
    stream = block * declared_mib + c.flush()
    crc = 0
    for _ in range(declared_mib):
        crc = zlib.crc32(bytes(2 ** 20), crc)
    usize = declared_mib * 2 ** 20
    data = local_header("archive/data.pkl", 8, crc, len(stream), usize) + stream
    return data + central_directory([("archive/data.pkl", 8, crc, len(stream), usize, 0)],
                                    len(data))


def test_deflated_pickle_of_512_mib_is_refused():
    data = zip_bomb(512)          # 0.5 MB
    err, peak = peak_of(lambda: load_bytes(data))
    assert isinstance(err, RuntimeError) and "zip bomb" in str(err), err
    assert peak < SMALL, peak


def test_deflated_checkpoint_still_loads():
    """A real checkpoint re-zipped with deflate (not how torch writes, but a valid zip)."""
    with zipfile.ZipFile(os.path.join(FIXTURES, "dtypes.pt")) as src:
        records = [(n, src.read(n)) for n in src.namelist()]
    want = tapegrad.load(os.path.join(FIXTURES, "dtypes.pt"))
    got = load_bytes(zip_of(records, zipfile.ZIP_DEFLATED))
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_array_equal(got[k].numpy(), want[k].numpy())


def test_two_records_of_one_name_are_refused():
    """zipfile reads the last, torch the first: one file, two sets of weights. Refused."""
    pkl = b"\x80\x02" + v2(pid(b"FloatStorage", "0", 1), (1,)) + b"."
    records = [("archive/data.pkl", pkl), ("archive/data/0", struct.pack("<f", 1.0)),
               ("archive/data/0", struct.pack("<f", 2.0))]
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_of(records)
    with pytest.raises(RuntimeError, match="two records named 'archive/data/0'"):
        load_bytes(data)
    npy = io.BytesIO()
    np.save(npy, np.ones(2))
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_of([("a.npy", npy.getvalue()), ("a.npy", npy.getvalue())])
    with pytest.raises(RuntimeError, match="two records named 'a.npy'"):
        load_bytes(data)


# ---- safetensors ---------------------------------------------------------------------------------
def safetensors_file(entries, data):
    """`entries`: name -> (dtype, shape, [begin, end]), written as given."""
    header = {k: {"dtype": d, "shape": s, "data_offsets": o} for k, (d, s, o) in entries.items()}
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def test_safetensors_overlapping_ranges_are_refused():
    """1,000 entries on one 64 KiB range would load 64 MB from a 120 KB file."""
    n = 2 ** 14
    entries = {f"t{i}": ("F32", [n], [0, 4 * n]) for i in range(1000)}
    data = safetensors_file(entries, bytes(4 * n))
    err, peak = peak_of(lambda: load_bytes(data))
    assert isinstance(err, RuntimeError) and "overlap" in str(err), err
    assert peak < SMALL, peak


@pytest.mark.parametrize("entries, size, match", [
    ({"a": ("F32", [1], [0, 4]), "b": ("F32", [1], [8, 12])}, 12, "a gap"),
    ({"a": ("F32", [1], [4, 8])}, 8, "a gap"),
    ({"a": ("F32", [2], [0, 8]), "b": ("F32", [1], [4, 8])}, 8, "an overlap"),
    ({"a": ("F32", [1], [0, 4])}, 8, "cover 4 bytes of data, but the file holds 8"),
])
def test_safetensors_ranges_must_tile_the_data(entries, size, match):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(safetensors_file(entries, bytes(size)))


def test_safetensors_tiled_in_any_header_order_loads():
    entries = {"b": ("F32", [1], [4, 8]), "empty": ("F32", [0, 3], [8, 8]),
               "a": ("F32", [1], [0, 4])}
    out = load_bytes(safetensors_file(entries, struct.pack("<2f", 1.0, 2.0)))
    assert list(out) == ["b", "empty", "a"]
    assert out["a"].item() == 1.0 and out["b"].item() == 2.0 and out["empty"].shape == (0, 3)


def test_safetensors_name_given_twice_is_refused():
    raw = (b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
           b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}')
    with pytest.raises(RuntimeError, match="twice"):
        load_bytes(struct.pack("<Q", len(raw)) + raw + bytes(8))


def test_safetensors_long_shape_is_cheap():
    """100,000 dims of 2: a product of 100,000 bits, computed factor by factor, was quadratic."""
    entries = {"a": ("F32", [2] * 100000, [0, 4])}
    shown = r"does not match shape \[2, 2, 2, 2, 2, 2, 2, 2, \.\.\.\] F32"
    with pytest.raises(RuntimeError, match=shown):
        load_bytes(safetensors_file(entries, bytes(4)))


# ---- the pickle ----------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["__deepcopy__", "__reduce_ex__", "__getstate__", "__x__"])
def test_build_may_not_set_dunders(key):
    """copy.deepcopy and pickle look `__deepcopy__` / `__reduce_ex__` up on the instance."""
    pkl = (b"\x80\x02ccollections\nOrderedDict\n)R}" + text(key)
           + b"ccollections\nOrderedDict\nsb.")
    with pytest.raises(pickle.UnpicklingError, match="refusing to set the state"):
        load_bytes(zip_of([("archive/data.pkl", pkl)]))


def test_build_still_sets_state_dict_metadata():
    pkl = (b"\x80\x02ccollections\nOrderedDict\n)R}" + text("_metadata") + b"}" + text("")
           + b"}ssb.")
    out = load_bytes(zip_of([("archive/data.pkl", pkl)]))
    assert out._metadata == {"": {}}
    assert copy.deepcopy(out) == out


HUGE = 2 ** 100000


@pytest.mark.parametrize("numel, shape, stride, match", [
    (2, (2,), (HUGE,), "too large"),
    (2, (HUGE,), (1,), "too large"),
    (2, (HUGE, 0), (1, 1), "too large"),
    (2, (2,) * 30000, (1,) * 30000, "too large"),
    (HUGE, (2,), (1,), r"holds 8 bytes but its storage declares <a \d+-bit integer>"),
], ids=["huge_stride", "huge_dim", "huge_dim_of_empty", "long_shape", "huge_storage"])
def test_too_large_is_named_without_formatting_huge_ints(numel, shape, stride, match):
    """str() of a 100,000-bit int is refused (> 4300 digits) or slow: the error said 'corrupt
    pickle data (ValueError)' instead of what is wrong."""
    pkl = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + pid(b"FloatStorage", "0", numel)
           + int_op(0) + ints(shape) + ints(stride) + b"\x89}tR.")
    data = zip_of([("archive/data.pkl", pkl), ("archive/data/0", bytes(8))])
    with pytest.raises(RuntimeError, match=match) as err:
        load_bytes(data)
    assert len(str(err.value)) < 500


def test_legacy_huge_storage_is_named():
    pkl = b"\x80\x02" + v2(pid(b"FloatStorage", "0", HUGE, legacy=True), (2,)) + b"."
    with pytest.raises(RuntimeError, match="declares <a 100003-bit integer> bytes"):
        load_bytes(legacy_file(pkl, [], []))


# ---- stale temporaries of tapegrad.save ----------------------------------------------------------
def test_save_removes_temporaries_of_a_killed_save(tmp_path):
    """A save killed by SIGKILL mid-write leaves `.name.XXXXXXXX.tmp`; the next save of the
    same target removes it (and only such files)."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    target = tmp_path / "ckpt.pt"
    script = ("import os, signal, sys, numpy as np, tapegrad\n"
              "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
              "tapegrad.save({'w': tapegrad.from_numpy(np.ones(1000))}, sys.argv[1])\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", script, str(target)], env=env)
    assert proc.returncode == -signal.SIGKILL
    (stale,) = tmp_path.glob(".ckpt.pt.*.tmp")
    keep = [tmp_path / ".ckpt.pt.tmp", tmp_path / ".other.pt.0123abcd.tmp",
            tmp_path / ".ckpt.pt.0123ABCD.tmp", tmp_path / "ckpt.pt.0123abcd.tmp"]
    for path in keep:
        path.write_bytes(b"PK\x03\x04")
    notes = tmp_path / ".ckpt.pt.89abcdef.tmp"      # the right name, but not a zip: not ours
    notes.write_text("my notes")
    tapegrad.save({"w": tapegrad.ones(2)}, target)
    assert not stale.exists()
    assert all(p.exists() for p in keep) and notes.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [p.name for p in keep] + [notes.name, "ckpt.pt"])
    np.testing.assert_array_equal(tapegrad.load(target)["w"].numpy(), [1.0, 1.0])


def test_save_leaves_the_temporary_of_a_live_save(tmp_path):
    """A temporary whose save is still writing (it holds the file's lock) is not stale."""
    fcntl = pytest.importorskip("fcntl")
    empty = tmp_path / ".ckpt.pt.00000000.tmp"      # killed before its first byte: stale
    empty.write_bytes(b"")
    live = tmp_path / ".ckpt.pt.0123abcd.tmp"
    with open(live, "wb") as f:
        f.write(b"PK\x03\x04")
        f.flush()
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        tapegrad.save({"w": tapegrad.ones(2)}, tmp_path / "ckpt.pt")
        assert live.exists()
    assert not empty.exists()
    tapegrad.save({"w": tapegrad.ones(2)}, tmp_path / "ckpt.pt")
    assert not live.exists()

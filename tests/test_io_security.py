"""tapegrad.load never runs code from a file, and fails cleanly on hostile or corrupt input.

Each malicious pickle would create a sentinel file if anything in it ran; every one is loaded
as a raw pickle, inside a zip checkpoint and inside a legacy checkpoint, and must raise
pickle.UnpicklingError naming what it refused, with the sentinel still absent.
"""
import builtins
import io
import os
import pickle
import signal
import struct
import subprocess
import tracemalloc
import zipfile

import numpy as np
import pytest

import tapegrad

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "checkpoints")
CLEAN_ERRORS = (pickle.UnpicklingError, RuntimeError)    # what load raises on a bad file


class Reduce:
    """An object whose pickle calls func(*args) on unpickling."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class Payload:
    """A class of this module: unpickling it by NEWOBJ would run __setstate__."""

    def __init__(self, path):
        self.path = path

    def __setstate__(self, state):
        open(state["path"], "w").close()


def text(s):
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def payloads(sentinel):
    """(name, pickle bytes, the global the refusal must name)."""
    touch = f"open({str(sentinel)!r}, 'w').close()"
    via_reduce = [
        ("os.system", Reduce(os.system, f"touch {sentinel}"), f"{os.system.__module__}.system"),
        ("eval", Reduce(eval, touch), "builtins.eval"),
        ("exec", Reduce(exec, touch), "builtins.exec"),
        ("open", Reduce(open, str(sentinel), "w"), "io.open"),
        ("import", Reduce(__import__, "os"), "builtins.__import__"),
        ("subprocess", Reduce(subprocess.Popen, ["touch", str(sentinel)]), ".Popen"),
        ("nested", {"model": [1, 2, Reduce(os.system, f"touch {sentinel}")]},
         f"{os.system.__module__}.system"),
    ]
    out = [(name, pickle.dumps(obj, protocol=2), glob) for name, obj, glob in via_reduce]
    out.append(("stack_global", pickle.dumps(Reduce(eval, touch), protocol=4), "builtins.eval"))
    out.append(("newobj_class", pickle.dumps(Payload(str(sentinel)), protocol=2),
                f"{__name__}.Payload"))
    # hand-written opcodes
    out += [
        ("builtins_getattr", b"\x80\x02c__builtin__\ngetattr\n" + text("x") + text("y")
         + b"\x86R.", "builtins.getattr"),
        ("inst", b"(" + text(f"touch {sentinel}") + b"ios\nsystem\n.", "os.system"),
        ("obj", b"(cos\nsystem\n" + text(f"touch {sentinel}") + b"o.", "os.system"),
        ("newobj", b"\x80\x02cos\nsystem\n" + text(f"touch {sentinel}") + b"\x85\x81.",
         "os.system"),
        ("defaultdict", b"\x80\x02ccollections\ndefaultdict\n)R.", "collections.defaultdict"),
        ("numpy", b"\x80\x02cnumpy.core.multiarray\n_reconstruct\n)R.",
         "numpy.core.multiarray._reconstruct"),
        ("torch_load", b"\x80\x02ctorch\nload\n" + text(str(sentinel)) + b"\x85R.", "torch.load"),
    ]
    return out


def as_zip(pkl):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def as_legacy(pkl):
    header = {"protocol_version": 1001, "little_endian": True,
              "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return b"".join(pickle.dumps(x, protocol=2) for x in (0x1950a86a20f9469cfc6c, 1001, header)) \
        + pkl + pickle.dumps([], protocol=2)


def load_bytes(data, **kwargs):
    return tapegrad.load(io.BytesIO(data), **kwargs)


@pytest.mark.parametrize("wrap", ["raw", "zip", "legacy"])
def test_malicious_pickles_are_refused(tmp_path, wrap):
    sentinel = tmp_path / "pwned"
    for name, pkl, glob in payloads(sentinel):
        data = {"raw": pkl, "zip": as_zip(pkl), "legacy": as_legacy(pkl)}[wrap]
        if wrap == "raw" and not pkl.startswith(b"\x80"):
            continue       # a protocol-0 pickle alone is not a checkpoint at all
        for weights_only in (None, True):    # the default; False runs the file (trusted only)
            with pytest.raises(pickle.UnpicklingError) as err:
                load_bytes(data, weights_only=weights_only)
            assert glob in str(err.value), (name, str(err.value))
        assert not sentinel.exists(), f"{name}: code from the file ran"


def test_refusals_inside_a_real_checkpoint(tmp_path):
    """Valid tensors first, then the payload: still refused, nothing returned or run."""
    sentinel = tmp_path / "pwned"
    with zipfile.ZipFile(os.path.join(FIXTURES, "dtypes.pt")) as src:
        names = src.namelist()
        records = {n: src.read(n) for n in names}
    pkl_name = next(n for n in names if n.endswith("/data.pkl"))
    evil = pickle.dumps(Reduce(os.system, f"touch {sentinel}"), protocol=2)[2:-1]
    # [<the state_dict>, <os.system(...)>]: the payload sits after a whole valid object
    records[pkl_name] = b"\x80\x02(" + records[pkl_name][2:-1] + evil + b"l."
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for n in names:
            dst.writestr(n, records[n])
    with pytest.raises(pickle.UnpicklingError, match="system"):
        load_bytes(buf.getvalue())
    assert not sentinel.exists()


@pytest.mark.parametrize("pkl, match", [
    (b"\x80\x02ctorch\nFloatStorage\n)R.", "refusing to call"),           # a name, not a callable
    (b"\x80\x02\x82\x01.", "not allowed"),                                  # copyreg extension
    (b"\x80\x02" + text("evil") + b"Q.", "persistent"),                     # not a storage id
    (b"\x80\x02ccollections\nOrderedDict\n)R}" + text("keys") + b"K\x01sb.", "state"),
    (b"\x80\x02c__builtin__\nbytearray\n\x8a\x05\x00\x00\x00\x00\x01\x85R.", "bytearray"),
    (b"\x80\x02c__builtin__\nset\nctorch\nSize\n)R\x85R.", "set"),
    (b"\x80\x02)" + b"\x85" * 200000 + b"}\x94K\x01s.", "nested"),   # hashing overflows C's stack
], ids=["call_storage_type", "extension", "persistent_id", "build_shadow", "bytearray_size",
        "set_of_tensor", "deep_tuple"])
def test_other_abuse_is_refused(pkl, match):
    for data in (pkl, as_zip(pkl)):
        with pytest.raises(pickle.UnpicklingError, match=match):
            load_bytes(data)


def test_copy_amplification_is_bounded():
    """One big list, copied by `set(...)` over and over: stopped long before memory runs out."""
    big = b"]q\x00(" + b"K\x01" * 100000 + b"e"
    calls = b"c__builtin__\nset\nh\x00\x85R0" * 5000
    with pytest.raises(pickle.UnpicklingError, match="copy far more"):
        load_bytes(as_zip(b"\x80\x02" + big + calls + b"N."))


# ---- sizes: errors, never big allocations --------------------------------------------------------
def int_op(n):
    return pickle.dumps(n, protocol=2)[2:-1]


def ints(seq):
    return b"(" + b"".join(int_op(n) for n in seq) + b"t"


def tensor_checkpoint(numel, offset, size, stride, record_bytes=8):
    pkl = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((" + text("storage")
           + b"ctorch\nFloatStorage\n" + text("0") + text("cpu") + int_op(numel) + b"tQ"
           + int_op(offset) + ints(size) + ints(stride) + b"\x89}tR.")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/data/0", bytes(record_bytes))
    return buf.getvalue()


def test_tensor_checkpoint_helper_is_valid():
    t = load_bytes(tensor_checkpoint(2, 0, (2,), (1,)))
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.0])


def storage_pid(storage_type, numel, key="0", view=b""):
    return (b"(" + text("storage") + b"ctorch\n" + storage_type + b"\n" + text(key) + text("cpu")
            + int_op(numel) + view + b"tQ")


def test_untyped_storage_with_rebuild_tensor_v3():
    """PyTorch writes dtypes without a storage class this way; one storage, two dtypes."""
    data = np.array([1.5, -2.0], np.float32).tobytes()
    pid = storage_pid(b"UntypedStorage", len(data))
    v3 = b"ctorch._utils\n_rebuild_tensor_v3\n(" + pid
    f32 = v3 + int_op(0) + ints((2,)) + ints((1,)) + b"\x89}ctorch\nfloat32\ntR"
    bf16 = v3 + int_op(0) + ints((4,)) + ints((1,)) + b"\x89}ctorch\nbfloat16\ntR"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02(" + f32 + bf16 + b"l.")
        zf.writestr("archive/data/0", data)
    a, b = load_bytes(buf.getvalue())
    np.testing.assert_array_equal(a.numpy(), [1.5, -2.0])
    halves = np.frombuffer(data, "<u2").astype(np.uint32) << 16      # bfloat16's values
    np.testing.assert_array_equal(b.numpy().astype(np.float32), halves.view(np.float32))
    assert b.dtype == (tapegrad.dtypes._BF16 or np.float32)      # widened without ml_dtypes


def legacy_file(pkl, keys, records, little=True):
    header = {"protocol_version": 1001, "little_endian": little,
              "type_sizes": {"short": 2, "int": 4, "long": 4}}
    head = b"".join(pickle.dumps(x, protocol=2) for x in (0x1950a86a20f9469cfc6c, 1001, header))
    return head + pkl + pickle.dumps(keys, protocol=2) + b"".join(records)


def test_legacy_big_endian_and_storage_views():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    view = b"(" + text("0v") + int_op(1) + int_op(2) + b"t"      # elements 1 and 2
    pkl = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + storage_pid(b"DoubleStorage", 4,
                                                                       view=view)
           + int_op(0) + ints((2,)) + ints((1,)) + b"\x89}tR.")
    for little in (True, False):
        order = "<" if little else ">"
        record = struct.pack(order + "q", 4) + values.astype(order + "f8").tobytes()
        t = load_bytes(legacy_file(pkl, ["0"], [record], little))
        np.testing.assert_array_equal(t.numpy(), [2.0, 3.0])


@pytest.mark.parametrize("numel, offset, size, stride, match", [
    (2 ** 40, 0, (2,), (1,), "holds 8 bytes"),                 # storage larger than its record
    (2 ** 62, 0, (2,), (1,), "holds 8 bytes"),
    (2, 0, (3,), (1,), "needs 3 elements"),                    # tensor larger than its storage
    (2, 2, (1,), (1,), "needs 3 elements"),                    # offset past the end
    (2, 0, (2, 2), (1, 1), "needs 3 elements"),                # stride past the end
    (2, 0, (-1,), (1,), "non-negative"),
    (2, 0, (2,), (-1,), "non-negative"),
    (2, 0, (2, 2), (1,), "one each"),
    (2, 0, (2 ** 62, 2 ** 62), (0, 0), "too large"),
    (2, 0, (2,), (2 ** 70,), "too large"),
])
def test_size_guards(numel, offset, size, stride, match):
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match=match):
            load_bytes(tensor_checkpoint(numel, offset, size, stride))
        assert tracemalloc.get_traced_memory()[1] < 2 ** 24
    finally:
        tracemalloc.stop()


def test_legacy_storage_larger_than_the_file():
    pkl = (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((" + text("storage")
           + b"ctorch\nFloatStorage\n" + text("0") + text("cpu") + int_op(2 ** 40) + b"NtQ"
           + int_op(0) + ints((2,)) + ints((1,)) + b"\x89}tR.")
    with pytest.raises(RuntimeError, match="more than the file holds"):
        load_bytes(as_legacy(pkl))


@pytest.mark.parametrize("data, match", [
    (b"", "not a PyTorch checkpoint"),
    (b"hello world, not a checkpoint", "not a PyTorch checkpoint"),
    (pickle.dumps(12345, protocol=2), "magic number"),
    (b"PK\x03\x04" + bytes(40), "corrupt"),
])
def test_garbage_files(data, match):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(data)


def test_truncated_checkpoints():
    for name in ("dtypes.pt", "legacy.pt"):
        with open(os.path.join(FIXTURES, name), "rb") as f:
            data = f.read()
        for cut in (1, 100, len(data) // 2, len(data) - 30, len(data) - 1):
            with pytest.raises(CLEAN_ERRORS):
                load_bytes(data[:cut])


# ---- fuzzing -------------------------------------------------------------------------------------
class _Hang(BaseException):
    """Raised by the timer; a BaseException so that load can't turn it into a clean error."""


def _mutate(rng, data):
    data = bytearray(data)
    how = rng.integers(4)
    if how == 0:                         # overwrite a few bytes
        for i in rng.integers(len(data), size=rng.integers(1, 9)):
            data[i] = rng.integers(256)
    elif how == 1:                       # set a run of bytes to an extreme value
        i = rng.integers(len(data))
        data[i:i + rng.integers(1, 9)] = bytes([rng.choice([0, 0x7F, 0x80, 0xFF])]) * 8
    elif how == 2:                       # delete a slice
        i = rng.integers(len(data))
        del data[i:i + rng.integers(1, 33)]
    else:                                # duplicate a slice
        i = rng.integers(len(data))
        data[i:i] = data[i:i + rng.integers(1, 33)]
    return bytes(data)


def _rezip(data, pkl):
    """The zip checkpoint `data` with its data.pkl replaced (CRCs right: the pickle is fuzzed)."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        records = {n: src.read(n) for n in src.namelist()}
    records[next(n for n in records if n.endswith("/data.pkl"))] = pkl
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for n, v in records.items():
            dst.writestr(n, v)
    return buf.getvalue()


def test_fuzz_load_fails_cleanly():
    """300 seeded mutations of real checkpoints: each loads or raises UnpicklingError or
    RuntimeError, within seconds, allocating little."""
    rng = np.random.default_rng(20240601)
    sources = {}
    for name in ("dtypes.pt", "nested.pt", "legacy.pt"):
        with open(os.path.join(FIXTURES, name), "rb") as f:
            sources[name] = f.read()
    with zipfile.ZipFile(io.BytesIO(sources["nested.pt"])) as zf:
        nested_pkl = zf.read(next(n for n in zf.namelist() if n.endswith("/data.pkl")))

    def hang(signum, frame):
        raise _Hang()

    old = signal.signal(signal.SIGALRM, hang)
    tracemalloc.start()
    outcomes = {"loaded": 0, "refused": 0}
    try:
        for i in range(300):
            kind = i % 3
            if kind == 0:        # the whole file: zip structure, CRCs, headers
                data = _mutate(rng, sources["dtypes.pt"])
            elif kind == 1:      # the pickle inside a well-formed zip
                data = _rezip(sources["nested.pt"], _mutate(rng, nested_pkl))
            else:                # the legacy format: pickles and raw storages, no CRC
                data = _mutate(rng, sources["legacy.pt"])
            tracemalloc.reset_peak()
            signal.setitimer(signal.ITIMER_REAL, 5.0)
            try:
                load_bytes(data)
                outcomes["loaded"] += 1
            except CLEAN_ERRORS:
                outcomes["refused"] += 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            assert tracemalloc.get_traced_memory()[1] < 2 ** 26, f"mutation {i} allocated a lot"
    finally:
        tracemalloc.stop()
        signal.signal(signal.SIGALRM, old)
    assert outcomes["refused"] > 100 and outcomes["loaded"] > 0, outcomes


def test_builtins_untouched():
    """The refusals above never replaced anything in builtins."""
    assert builtins.eval is eval and builtins.open is open

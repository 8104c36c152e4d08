"""PyTorch's zip checkpoint format (every torch.save since PyTorch 1.6), read and written.

An archive holds, under one top-level folder, `data.pkl` (the pickled object, whose tensors
name their storages by key), one record `data/<key>` per storage with its raw bytes,
`byteorder`, and `version`. Records are stored uncompressed, their data 64-byte aligned.
"""
import struct
import sys
import zipfile

from . import tensors
from .trusted import TrustedUnpickler
from .unpickler import Unpickler

ALIGNMENT = 64
_PAD_FIELD = 0x4754     # a private zip extra-field id; readers skip fields they don't know


# ---- reading -----------------------------------------------------------------------------------
def is_checkpoint(zf):
    """The archive's top-level folder if it is a PyTorch checkpoint, else None."""
    names = zf.namelist()
    prefix = names[0].split("/")[0] if names else ""
    return prefix if f"{prefix}/data.pkl" in zf.NameToInfo else None


def read(zf, prefix, size, encoding="utf-8", trusted=False):
    """The object in checkpoint archive `zf` (`size`: the archive's length in bytes);
    `trusted`: unpickle with Python's unrestricted unpickler (weights_only=False)."""
    if f"{prefix}/constants.pkl" in zf.NameToInfo:
        raise RuntimeError("load: this is a TorchScript archive (torch.jit.save); load it with "
                           "PyTorch and save its state_dict() instead")
    records = Records(zf, size)
    byteorder = "little"
    if f"{prefix}/byteorder" in zf.NameToInfo:
        byteorder = records.read(f"{prefix}/byteorder").decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise RuntimeError(f"load: unknown byte order {byteorder[:16]!r} in the checkpoint")
    storages = {}

    def persistent_load(pid):
        kind, key, numel = tensors.storage_id(pid, 5)
        storage = storages.get(key)
        if storage is None:
            itemsize = kind.file_dtype.itemsize
            data = records.read(f"{prefix}/data/{key}", numel * itemsize)
            storage = storages[key] = tensors.Storage(kind, numel)
            storage.fill(data, byteorder)
        elif storage.kind is not kind or storage.array.size < numel:
            raise RuntimeError(f"load: storage {key[:40]!r} is declared twice, differently")
        return storage

    pickle_bytes = records.read(f"{prefix}/data.pkl")
    if trusted:
        return TrustedUnpickler(pickle_bytes, 0, persistent_load, encoding).load()
    return Unpickler(pickle_bytes, 0, persistent_load, encoding, budget=4 * size + 2 ** 20).load()


def check_names(zf):
    """Refuse an archive that holds two records of one name: readers disagree on which one
    counts (zipfile takes the last, PyTorch the first), so one file shows two contents."""
    if len(zf.NameToInfo) != len(zf.filelist):
        seen = set()
        twice = next(i.filename for i in zf.filelist if i.filename in seen or seen.add(i.filename))
        raise RuntimeError(f"load: the archive holds two records named {twice[:200]!r}; refused")


class Records:
    """Reads an archive's records so that, together, they cost no more than the file: the
    records read may not share bytes of the file (their compressed sizes add up to at most
    its size), and inflate to at most INFLATE_RATIO times its size (plus INFLATE_FLOOR)."""

    INFLATE_RATIO, INFLATE_FLOOR = 32, 64 * 2 ** 20
    CHUNK = 2 ** 20

    def __init__(self, zf, size):
        self.zf, self.size = zf, size
        self.stored = 0         # compressed bytes of the records read so far
        self.inflated = 0       # and what they held
        self.limit = self.INFLATE_RATIO * size + self.INFLATE_FLOOR

    def read(self, name, need=None):
        """The bytes of record `name`; `need`: the exact size it must have (a storage's)."""
        info = self.zf.NameToInfo.get(name)
        if info is None:
            raise RuntimeError(f"load: the checkpoint has no record {name!r}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise RuntimeError(f"load: record {name!r} uses an unsupported compression method")
        if need is not None and info.file_size != need:    # PyTorch's check too
            raise RuntimeError(f"load: storage record {name!r} holds {info.file_size} bytes but "
                               f"its storage declares {tensors.show(need)}")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise RuntimeError(f"load: stored record {name!r} has two different sizes")
        self.stored += info.compress_size
        self.inflated += info.file_size
        if self.stored > self.size:
            raise RuntimeError(f"load: record {name!r} claims more bytes than the file holds "
                               "(records read so far overlap, or lie about their size)")
        if self.inflated > self.limit:
            raise RuntimeError(f"load: record {name!r} inflates to {info.file_size} bytes, "
                               f"more than a {self.size}-byte file may (a zip bomb?)")
        data = self._read(info)
        return data if need is not None else bytes(data)

    def _read(self, info):
        """The record's data, inflated a chunk at a time: zipfile inflates all that one read
        asks for before cutting it to the declared size."""
        data = bytearray(info.file_size)
        try:
            with self.zf.open(info) as f:
                pos = 0
                while pos < len(data):
                    chunk = f.read(min(self.CHUNK, len(data) - pos))
                    if not chunk:
                        break
                    data[pos:pos + len(chunk)] = chunk
                    pos += len(chunk)
        except Exception as e:     # a bad CRC or local header, a broken deflate stream
            raise RuntimeError(f"load: record {info.filename!r} is corrupt "
                               f"({type(e).__name__})") from e
        if pos < len(data):
            raise RuntimeError(f"load: record {info.filename!r} is truncated")
        return data


# ---- writing -----------------------------------------------------------------------------------
def write(f, pickle_bytes, records, prefix="archive"):
    """Write a checkpoint archive to file object `f`: `records` are (key, uint8 array)."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _add(zf, f"{prefix}/data.pkl", pickle_bytes)
        _add(zf, f"{prefix}/.format_version", b"1")
        _add(zf, f"{prefix}/.storage_alignment", str(ALIGNMENT).encode())
        _add(zf, f"{prefix}/byteorder", sys.byteorder.encode())
        for key, data in records:
            _add(zf, f"{prefix}/data/{key}", data)
        _add(zf, f"{prefix}/version", b"3\n")


def _add(zf, name, data):
    """One stored record whose data starts at a multiple of ALIGNMENT (for mmap readers)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = nbytes = memoryview(data).nbytes
    zip64 = nbytes * 1.05 > zipfile.ZIP64_LIMIT    # zipfile's own test; adds 20 header bytes
    header = 30 + len(name.encode("utf-8")) + (20 if zip64 else 0)
    pad = -(zf.fp.tell() + header) % ALIGNMENT
    if pad:
        pad += ALIGNMENT if pad < 4 else 0        # an extra field takes at least 4 bytes
        info.extra = struct.pack("<HH", _PAD_FIELD, pad - 4) + bytes(pad - 4)
    with zf.open(info, "w", force_zip64=zip64) as out:
        out.write(data)

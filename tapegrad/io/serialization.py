"""tapegrad.save and tapegrad.load: PyTorch checkpoints (and .npz, .safetensors) without torch."""
import io
import os
import pickle
import re
import secrets
import stat
import time
import zipfile

try:
    import fcntl
except ImportError:     # Windows
    fcntl = None

from .._types import Device
from . import legacy, npz, safetensors, zipformat
from .pickler import Pickler
from .trusted import TrustedUnpickler


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         encoding="utf-8"):
    """Read what torch.save wrote, or an .npz/.safetensors file, without torch (as torch.load).

    The zip and legacy checkpoint formats are read. ``f`` is a path or a binary file object; an .npz
    or .safetensors file gives an OrderedDict of tensors. ``pickle_module`` must be None or
    :mod:`pickle`; ``encoding`` decodes Python 2 strings in legacy checkpoints.

    ``weights_only=True`` (the default, as None): only tensors, plain containers and the globals
    tapegrad.serialization.add_safe_globals allows are rebuilt, as PyTorch's weights_only unpickler
    does; anything else raises pickle.UnpicklingError naming it. weights_only=False unpickles with
    Python's own pickle, which can run arbitrary code from the file: only for files you trust.
    Everything loads on the CPU (``map_location`` is validated, then has nothing to do; ``mmap`` is
    accepted, the data is read into memory); bfloat16 loads as float32 unless ml_dtypes is
    installed. RuntimeError for anything else wrong with the file (corrupt, truncated, bad sizes).
    """
    _check_map_location(map_location)
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be a bool or None, got {weights_only!r}")
    if pickle_module is not None and pickle_module is not pickle:
        raise TypeError("load: pickle_module must be None or pickle: tapegrad always uses its "
                        "own unpickler")
    trusted = weights_only is False
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "rb") as file:
            return _load(file, os.fsdecode(f), encoding, trusted)
    if not hasattr(f, "read"):
        raise TypeError(f"load: expected a path or a binary file object, got {type(f).__name__}")
    return _load(f, str(getattr(f, "name", "the file")), encoding, trusted)


def _load(f, name, encoding, trusted):
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    f = _Bounded(f)
    head = f.read(16)
    f.seek(-len(head), io.SEEK_CUR)
    try:
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            zf = zipfile.ZipFile(f)
            zipformat.check_names(zf)
            prefix = zipformat.is_checkpoint(zf)
            if prefix is not None:
                return zipformat.read(zf, prefix, f.size, encoding, trusted)
            if any(n.endswith(".npy") for n in zf.namelist()):
                return npz.read_npz(zf, f.size)
            raise RuntimeError(f"load: {name} is a zip archive but neither a PyTorch checkpoint "
                               "(no data.pkl) nor an .npz file")
        if head[:1] == b"\x80":
            return legacy.read(f.read(), encoding, trusted)
        if head[:6] == b"\x93NUMPY":
            return npz.read_npy(f.read(), name)
        if len(head) >= 9 and safetensors.looks_like(head, f.size - f.tell()):
            return safetensors.read(f, f.size)
    except (pickle.UnpicklingError, RuntimeError):
        raise
    except Exception as e:        # zipfile, struct, json, numpy on a corrupt file
        if trusted and TrustedUnpickler.raised(e):     # the trusted pickle's own code
            raise
        raise RuntimeError(f"load: {name} is corrupt or truncated ({_reason(e)})") from e
    raise RuntimeError(f"load: {name} is not a PyTorch checkpoint, .npz, .npy or .safetensors "
                       f"file (it starts with {head[:8]!r})")


def _reason(e):
    try:
        return f"{type(e).__name__}: {str(e)[:200]}"
    except Exception:        # str() of an exception holding a huge int can itself raise
        return type(e).__name__


class _Bounded:
    """A seekable file whose read(n) asks for no more than what is left: a file object's
    read(n) allocates n bytes first, and a corrupt file's sizes can claim anything."""

    def __init__(self, f):
        self._f = f
        here = f.tell()
        self.size = f.seek(0, io.SEEK_END)
        f.seek(here)

    def read(self, n=-1):
        left = max(self.size - self._f.tell(), 0)
        return self._f.read(left if n is None or n < 0 or n > left else n)

    def seek(self, offset, whence=io.SEEK_SET):
        return self._f.seek(offset, whence)

    def tell(self):
        return self._f.tell()

    def seekable(self):
        return True


def _check_map_location(m):
    """map_location may be None, a device (name), a dict of device names, or a callable."""
    if m is None or callable(m):
        return
    for spec in (m.values() if isinstance(m, dict) else [m]):
        Device(spec)    # raises for a device other than the CPU


_O_BINARY = getattr(os, "O_BINARY", 0)


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True):
    """Write ``obj`` to ``f`` in PyTorch's zip checkpoint format, as torch.save does.

    ``f`` is a path (written atomically: temporary file, fsync, rename) or a binary file
    object. The pickle uses protocol 2, torch.save's default, whatever ``pickle_protocol``
    says; ``pickle_module`` must be None or :mod:`pickle`, and
    ``_use_new_zipfile_serialization=False`` (the legacy format) raises ValueError. Tensors
    and plain data load with weights_only=True; other objects (NumPy arrays, your classes)
    are pickled as torch.save does, for load(weights_only=False).
    """
    if not _use_new_zipfile_serialization:
        raise ValueError("save: tapegrad writes only the zip checkpoint format")
    if pickle_module is not None and pickle_module is not pickle:
        raise TypeError("save: pickle_module must be None or pickle: tapegrad writes its own "
                        "pickle")
    pickle_bytes, records = Pickler().dump(obj)    # pickling errors come before the file is touched
    if isinstance(f, (str, bytes, os.PathLike)):
        _atomic_write(os.fsdecode(f), lambda out: zipformat.write(out, pickle_bytes, records))
    elif hasattr(f, "write"):
        zipformat.write(f, pickle_bytes, records)
        if hasattr(f, "flush"):
            f.flush()
    else:
        raise TypeError(f"save: expected a path or a binary file object, got {type(f).__name__}")


def _atomic_write(path, write):
    """Write `path` so that it holds either its old contents or all of the new ones."""
    folder, base = os.path.split(os.path.abspath(path))
    _sweep(folder, base)
    fd, tmp = _temporary(folder, base)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
            if os.path.exists(path):
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            if fcntl is not None:      # renamed while locked: no sweep may take it before
                os.replace(tmp, path)
        if fcntl is None:              # Windows renames no open file
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):     # make the rename itself durable (POSIX)
        dirfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


def _temporary(folder, base):
    """A new temporary file `.base.XXXXXXXX.tmp` in `folder`: (fd, path). On POSIX it stays
    locked while it lives, which tells other saves' sweeps that it is not stale."""
    for _ in range(16):
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        except FileExistsError:
            continue
        if fcntl is None or _locked(fd, tmp):
            return fd, tmp
        os.close(fd)
    raise RuntimeError(f"save: could not create a temporary file for {base!r} in {folder!r}")


def _locked(fd, tmp):
    """Lock our new temporary; False if a sweep got to it first (took its lock or removed it)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:             # a file system without flock: no sweep can remove it either
        return True
    try:
        return os.stat(tmp).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _sweep(folder, base):
    """Remove the temporaries of earlier saves of `base` that died mid-write (kill -9): named
    as _temporary names them, ours, empty or a zip's start, and not locked by a live save
    (where there are no locks: untouched for an hour)."""
    pattern = re.compile(r"\." + re.escape(base) + r"\.[0-9a-f]{8}\.tmp")
    try:
        names = [e.name for e in os.scandir(folder)
                 if pattern.fullmatch(e.name) and e.is_file(follow_symlinks=False)]
    except OSError:
        return
    for name in names:
        try:
            _remove_if_stale(os.path.join(folder, name))
        except OSError:         # gone already, locked, not ours: leave it
            pass


def _remove_if_stale(path):
    fd = os.open(path, os.O_RDONLY | _O_BINARY | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_NONBLOCK", 0))
    stale = False
    try:
        st = os.fstat(fd)
        if (not stat.S_ISREG(st.st_mode) or os.read(fd, 4) not in (b"", b"PK\x03\x04")
                or (hasattr(os, "getuid") and st.st_uid != os.getuid())):
            return
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)    # raises while a save writes it
        elif time.time() - st.st_mtime < 3600:
            return
        stale = os.stat(path, follow_symlinks=False).st_ino == st.st_ino
        if stale and fcntl is not None:
            os.unlink(path)     # under the lock
    finally:
        os.close(fd)
    if stale and fcntl is None:
        os.unlink(path)

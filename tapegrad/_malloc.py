"""Keep freed array memory for reuse instead of handing it back to the OS (glibc only).

glibc serves a large allocation with fresh pages from the OS and gives the free top of its heap
back once it exceeds a trim threshold; both thresholds start at 128 KiB and adapt upwards only
as buffers are freed. A training loop allocates and frees the same few-megabyte activations and
gradients every step, so each step faults all their pages in again: about 1,100 page faults per
LeNet step at batch 64, a third of its time (PyTorch's step measured 0). Fixing the mmap
threshold at 32 MiB (the ceiling of glibc's own adaptation) and the trim threshold at 64 MiB
lets the next step reuse the memory; the process keeps at most 64 MiB of free heap.

Nothing is changed when the user tuned malloc already (a MALLOC_* environment variable or a
glibc.malloc tunable), when TAPEGRAD_SYSTEM_MALLOC=1, or off glibc.
"""
import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3      # mallopt parameters, from glibc's malloc.h
MMAP_THRESHOLD, TRIM_THRESHOLD = 32 << 20, 64 << 20


def tune():
    """Set the two thresholds; True if they were set."""
    if not sys.platform.startswith("linux") or os.environ.get("TAPEGRAD_SYSTEM_MALLOC") == "1":
        return False
    if any(k.startswith("MALLOC_") for k in os.environ) or \
            "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):     # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))

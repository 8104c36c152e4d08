"""torch.set_num_threads / get_num_threads, for the BLAS libraries NumPy and SciPy loaded.

tapegrad's heavy kernels (matmul, convolution) are BLAS calls, and its elementwise NumPy work
runs on one thread, so the BLAS thread count plays the part of PyTorch's intra-op pool. NumPy and
SciPy wheels each bundle an OpenBLAS (under differently prefixed symbol names); these find every
OpenBLAS mapped into the process and set them all.
"""
import ctypes
import os
import warnings

_PREFIXES = ("scipy_openblas", "openblas")
_SUFFIXES = ("64_", "")


def _blas_libraries():
    """(set, get) ctypes functions of every OpenBLAS loaded in this process (Linux)."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
    except OSError:
        return []
    found = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in (p + "_set_num_threads" + s for p in _PREFIXES for s in _SUFFIXES):
            if hasattr(lib, name):
                set_, get = getattr(lib, name), getattr(lib, name.replace("set_", "get_"))
                set_.argtypes, set_.restype, get.restype = (ctypes.c_int,), None, ctypes.c_int
                found.append((set_, get))
                break
    return found


def set_num_threads(num):
    """Use `num` threads in BLAS calls, as torch.set_num_threads.

    Sets every OpenBLAS loaded in the process (NumPy's and SciPy's); without one it warns that
    the BLAS keeps its own count (set OMP_NUM_THREADS before starting Python).
    """
    if type(num) is not int:
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    libraries = _blas_libraries()
    if not libraries:
        warnings.warn("set_num_threads: no OpenBLAS is loaded, so the BLAS in use keeps its "
                      "own thread count (set OMP_NUM_THREADS before starting Python)",
                      stacklevel=2)
    for set_, _ in libraries:
        set_(num)


def get_num_threads():
    """The number of threads BLAS calls use (torch.get_num_threads)."""
    libraries = _blas_libraries()
    return libraries[0][1]() if libraries else os.cpu_count() or 1

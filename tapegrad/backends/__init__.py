"""torch.backends: the flags and queries scripts set and read for PyTorch's backends.

tapegrad computes with NumPy on the CPU: the flags are kept (a script may set and read them)
but change nothing, and every accelerator backend reports that it is absent.
"""
from . import cpu, cuda, cudnn, mkl, mps, openmp  # noqa: F401

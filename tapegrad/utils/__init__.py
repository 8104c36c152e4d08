"""torch.utils: data loading and benchmarking."""
from . import data, benchmark  # noqa: F401

"""torch.nn.parallel: DistributedDataParallel (data parallelism across MPI ranks)."""
from .distributed import DistributedDataParallel  # noqa: F401
from . import distributed  # noqa: F401

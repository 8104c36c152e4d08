"""torch.autograd.profiler: the legacy spelling of torch.profiler (tapegrad/profiler.py)."""
from ..profiler import (_AutogradProfile as profile, record_function, EventList,  # noqa: F401
                        FunctionEvent, FunctionEventAvg)

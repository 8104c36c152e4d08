"""torch.serialization: save, load and the safe globals that weights_only loads may name."""
from .io import load, save  # noqa: F401
from .io.safe_globals import (add_safe_globals, clear_safe_globals, get_safe_globals,  # noqa
                              safe_globals)

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "load",
           "safe_globals", "save"]

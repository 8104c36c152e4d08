"""torch.backends.mps: Apple's Metal backend, absent from tapegrad."""


def is_available():
    """torch.backends.mps.is_available: False."""
    return False


def is_built():
    """torch.backends.mps.is_built: False, tapegrad is not built with MPS."""
    return False

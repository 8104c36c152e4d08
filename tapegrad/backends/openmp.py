"""torch.backends.openmp: tapegrad does not use OpenMP itself."""


def is_available():
    """torch.backends.openmp.is_available: False."""
    return False

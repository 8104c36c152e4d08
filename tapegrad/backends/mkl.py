"""torch.backends.mkl: tapegrad does not link MKL itself (NumPy's BLAS does the work)."""


def is_available():
    """torch.backends.mkl.is_available: False."""
    return False

"""torch.backends.cudnn: no cuDNN; the flags scripts set are kept, and change nothing."""

benchmark = False       # PyTorch's defaults, so a script that reads them sees the same values
deterministic = False
enabled = True
allow_tf32 = True


def is_available():
    """torch.backends.cudnn.is_available: False."""
    return False


def version():
    """torch.backends.cudnn.version: None, as PyTorch returns without cuDNN."""
    return None

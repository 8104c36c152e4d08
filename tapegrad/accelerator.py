"""torch.accelerator: the device-agnostic queries scripts start with; tapegrad has no
accelerator, so the answers are those PyTorch gives on a CPU-only machine."""


def is_available():
    """torch.accelerator.is_available: False, there is only the CPU."""
    return False


def current_accelerator(check_available=False):
    """torch.accelerator.current_accelerator: None, as PyTorch returns without one."""
    return None


def device_count():
    """torch.accelerator.device_count: 0."""
    return 0


def synchronize(device=None):
    """torch.accelerator.synchronize: nothing runs asynchronously, returns at once."""

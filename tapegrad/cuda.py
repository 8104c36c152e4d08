"""torch.cuda: tapegrad runs on the CPU only; these are the calls CPU code makes anyway."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """No CUDA generator to seed: a no-op, as torch.cuda.manual_seed is without a GPU."""


def manual_seed_all(seed):
    """No CUDA generators to seed: a no-op."""


def synchronize(device=None):
    """Nothing runs asynchronously on the CPU: returns at once."""


def empty_cache():
    """No CUDA caching allocator: a no-op."""

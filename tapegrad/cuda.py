"""torch.cuda: tapegrad runs on the CPU only."""


def is_available():
    return False


def device_count():
    return 0

"""torch.backends.cuda: no CUDA; `matmul.allow_tf32` & co. are kept as settable flags."""


class _MatmulFlags:
    """torch.backends.cuda.matmul: the matmul precision flags (no effect on the CPU)."""

    def __init__(self):
        self.allow_tf32 = False       # PyTorch's defaults
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    def __repr__(self):
        return f"torch.backends.cuda.matmul(allow_tf32={self.allow_tf32})"


matmul = _MatmulFlags()


def is_built():
    """torch.backends.cuda.is_built: False, tapegrad is not built with CUDA."""
    return False

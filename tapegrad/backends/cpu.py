"""torch.backends.cpu: what the CPU offers; NumPy picks its own SIMD kernels."""


def get_cpu_capability():
    """torch.backends.cpu.get_cpu_capability: the plain "DEFAULT" (NumPy chooses at runtime)."""
    return "DEFAULT"

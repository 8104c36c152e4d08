"""Checkpoints: tapegrad.save / tapegrad.load in PyTorch's format, without torch."""
from .serialization import load, save  # noqa: F401

__all__ = ["load", "save"]

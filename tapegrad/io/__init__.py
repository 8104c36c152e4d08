"""Checkpoints: tapegrad.save / tapegrad.load in PyTorch's format, without torch."""

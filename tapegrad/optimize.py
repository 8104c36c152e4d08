"""tapegrad.optimize (see issue 5)."""

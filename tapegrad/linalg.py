"""tapegrad.linalg (see issue 5)."""

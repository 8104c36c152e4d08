"""tapegrad.sparse (see issue 5)."""

"""tapegrad.special (see issue 5)."""

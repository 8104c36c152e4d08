"""Op families: each file holds forwards and their VJP rules side by side."""

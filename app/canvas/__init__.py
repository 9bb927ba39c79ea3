"""The photo view: zoom/pan, the before/after compare modes and the mask brush on top."""

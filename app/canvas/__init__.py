"""The photo view: zoom/pan, the before/after compare modes, the mask layer painted on top, and the
keys held to flash the original or pan."""

"""Measuring: metrics, the public evaluation photos, `rednet eval` and `rednet bench`."""

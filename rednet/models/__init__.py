"""Networks and model files: the architectures, their descriptors, safe loading, the catalogue."""

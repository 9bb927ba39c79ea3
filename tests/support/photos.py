"""Small synthetic photos for tests."""

from __future__ import annotations

import numpy as np


def smooth_photo(height: int = 67, width: int = 101, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth synthetic photo (gradients and blobs), float32 HxWxC in 0..1."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    planes = []
    for _ in range(channels):
        fx, fy, ph = rng.uniform(0.02, 0.12, 2).tolist() + [rng.uniform(0, 6.28)]
        planes.append(0.5 + 0.35 * np.sin(xx * fx + ph) * np.cos(yy * fy))
    return np.clip(np.stack(planes, axis=-1), 0, 1).astype(np.float32)

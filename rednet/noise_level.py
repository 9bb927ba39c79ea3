"""Estimating a photo's noise level, so denoising works without the user knowing sigma."""

from __future__ import annotations

import numpy as np


def estimate_sigma(pixels: np.ndarray) -> float:
    """Gaussian noise level in 0-255 units, from the finest diagonal wavelet band.

    Donoho's robust estimator: sigma = median(|HH|) / 0.6745 on the Haar HH sub-band, where image
    structure is sparse and noise is not. Per channel, then averaged.
    """
    img = pixels.astype(np.float32)
    if img.ndim == 2:
        img = img[..., None]
    h, w = (img.shape[0] // 2) * 2, (img.shape[1] // 2) * 2
    if h < 2 or w < 2:
        return 0.0
    img = img[:h, :w]
    hh = (img[0::2, 0::2] - img[0::2, 1::2] - img[1::2, 0::2] + img[1::2, 1::2]) / 2.0
    sigmas = [np.median(np.abs(hh[..., c])) / 0.6745 for c in range(img.shape[2])]
    return float(np.mean(sigmas) * 255.0)

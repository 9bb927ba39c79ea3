"""Image quality metrics: PSNR, SSIM (Wang et al. 2004) and BT.601 luma, on 0..1 float images."""

from __future__ import annotations

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray, border: int = 0) -> float:
    a, b = _crop(a, border), _crop(b, border)
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def ssim(a: np.ndarray, b: np.ndarray, border: int = 0) -> float:
    """Mean SSIM with an 11x11 Gaussian window (sigma 1.5), averaged over channels."""
    import cv2

    a, b = _crop(a, border).astype(np.float64), _crop(b, border).astype(np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    c1, c2 = 0.01**2, 0.03**2

    def blur(x):
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    values = []
    for c in range(a.shape[2]):
        x, y = a[..., c], b[..., c]
        mx, my = blur(x), blur(y)
        vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        ssim_map = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        values.append(ssim_map[5:-5, 5:-5].mean() if min(x.shape) > 10 else ssim_map.mean())
    return float(np.mean(values))


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """BT.601 luma in 0..1 (the 16..235 'studio' range, as super-resolution papers measure it)."""
    if img.shape[-1] == 1:
        return img[..., 0]
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return (16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0


def _crop(img: np.ndarray, border: int) -> np.ndarray:
    return img[border:-border, border:-border] if border > 0 else img

"""Editing inpainting masks (bool HxW, True = fill): grow and shrink by a radius in pixels."""

from __future__ import annotations

import numpy as np


def _disc(radius: int) -> np.ndarray:
    import cv2

    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """Dilate by a disc of `radius` px (covers anti-aliased edges of text and strokes)."""
    import cv2

    if radius <= 0 or mask.size == 0:
        return mask.astype(bool, copy=True)
    return cv2.dilate(mask.astype(np.uint8), _disc(radius)) > 0


def shrink(mask: np.ndarray, radius: int) -> np.ndarray:
    """Erode by a disc of `radius` px; the photo's border does not eat into the mask."""
    import cv2

    if radius <= 0 or mask.size == 0:
        return mask.astype(bool, copy=True)
    return cv2.erode(mask.astype(np.uint8), _disc(radius), borderType=cv2.BORDER_REPLICATE) > 0

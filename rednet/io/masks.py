"""Inpainting masks (bool HxW, True = fill): mask files read and written, grown and shrunk.

The image reader and writer (OpenCV, Pillow) are imported on first use, as OpenCV is for growing:
the restoration tasks import this module, and importing them stays cheap.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rednet.errors import ImageWriteError, MaskSizeError
from rednet.io.formats import display_name, write_format
from rednet.io.photo import Photo

__all__ = ["read_mask", "write_mask", "grow", "shrink"]


def read_mask(path: str | os.PathLike[str], size: tuple[int, int] | None = None) -> np.ndarray:
    """Read an inpainting mask as a bool HxW array (True = fill).

    A pixel is filled when its luminance is >= 128 (of 255). Masks drawn only in the alpha channel
    (the colour is uniform and only alpha varies) use alpha >= 128 instead; other masks with alpha
    are composited over black first. `size=(width, height)` checks the mask against the photo and
    raises `MaskSizeError` on a mismatch; unreadable files raise `ImageReadError`.
    """
    from rednet.io.read import read_image

    path = Path(path)
    photo = read_image(path, "mask")
    if size is not None:
        want_w, want_h = int(size[0]), int(size[1])
        if (photo.width, photo.height) != (want_w, want_h):
            raise MaskSizeError(
                f"{display_name(path)}: mask is {photo.width}x{photo.height} but the photo is {want_w}x{want_h}"
            )
    pixels = photo.pixels
    if photo.is_gray:
        luma = pixels[:, :, 0]
    else:
        luma = pixels @ np.asarray([0.299, 0.587, 0.114], dtype=np.float32)
    if photo.alpha is not None:
        uniform = float(pixels.max() - pixels.min()) < 1.0 / 255.0
        if uniform:
            return photo.alpha * 255.0 >= 127.5
        luma = luma * photo.alpha
    return luma * 255.0 >= 127.5


def write_mask(mask: np.ndarray, path: str | os.PathLike[str], *, overwrite: bool = True) -> None:
    """Write a mask as an 8-bit gray image (255 = fill, 0 = keep), atomically.

    `mask` is HxW (or HxWx1): bools, or numbers where non-zero means fill (floats: >= 0.5). The
    extension must be a lossless format (.png, .tif/.tiff or .bmp); PNG is the usual choice.
    """
    from rednet.io.write import write_photo

    path = Path(path)
    fmt = write_format(path)
    if fmt not in ("PNG", "TIFF", "BMP"):
        raise ImageWriteError(f"{display_name(path)}: masks must be saved losslessly (.png, .tif/.tiff or .bmp)", path)
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[:, :, 0]
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"a mask must be a non-empty HxW array, got shape {m.shape}")
    if m.dtype == bool:
        fill = m
    elif m.dtype.kind == "f":
        fill = m >= 0.5
    else:
        fill = m != 0
    write_photo(
        Photo(pixels=fill.astype(np.float32)[:, :, None], bit_depth=8),
        path,
        overwrite=overwrite,
    )


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

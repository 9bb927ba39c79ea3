"""The `Photo`: what the rest of RED-Net Studio sees of an image file, and its pixel formats.

A Photo holds float32 pixels in 0..1 (HxWx1 gray or HxWx3 colour), an optional alpha plane carried
through untouched, the bit depth of the source (8 or 16) and the metadata worth keeping (EXIF, ICC
profile, JPEG quality). The helpers below turn the integer and float samples of files into those
floats and back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Photo", "to_float", "float_to_unit", "quantize"]


@dataclass(eq=False)
class Photo:
    """A decoded photo.

    pixels:       float32 HxWxC in 0..1, C = 1 (gray) or 3 (RGB). A 2-D array is taken as gray.
    alpha:        float32 HxW in 0..1 or None; carried through untouched.
    bit_depth:    8 or 16 (what the source file had; decides the depth written to PNG/TIFF).
    exif:         EXIF block ("Exif\\0\\0" + TIFF structure) with the orientation already applied to
                  the pixels and reset to 1, or None.
    icc:          ICC profile bytes or None (None means sRGB).
    format:       Pillow's name of the source format ("PNG", "JPEG", "TIFF", "WEBP", "BMP", "GIF").
    jpeg_quality: quality estimated from the JPEG quantization tables, or None.
    path:         the file it was read from, or None.
    warnings:     things the user should know about how it was read (e.g. only the first frame).
    samples8:     the file's own 8-bit samples, upright, when the pixels (and alpha) are exactly
                  them / 255: uint8 HxWxC, C = the pixels' channels plus one for alpha. Kept so a
                  window can show a big photo at once instead of converting the floats back; None
                  for everything else, and `replace` drops it when the pixels or alpha change.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    exif: bytes | None = None
    icc: bytes | None = None
    format: str | None = None
    jpeg_quality: int | None = None
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    samples8: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        pixels = np.asarray(self.pixels, dtype=np.float32)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
            raise ValueError(f"Photo.pixels must be HxWx1 or HxWx3, got an array of shape {pixels.shape}")
        if pixels.shape[0] < 1 or pixels.shape[1] < 1:
            raise ValueError(f"Photo.pixels is empty (shape {pixels.shape})")
        self.pixels = pixels
        if self.alpha is not None:
            alpha = np.asarray(self.alpha, dtype=np.float32)
            if alpha.ndim == 3 and alpha.shape[2] == 1:
                alpha = alpha[:, :, 0]
            if alpha.shape != pixels.shape[:2]:
                raise ValueError(
                    f"Photo.alpha must be {pixels.shape[0]}x{pixels.shape[1]} (HxW) like the "
                    f"pixels, got shape {alpha.shape}"
                )
            self.alpha = alpha
        if self.samples8 is not None:
            channels = pixels.shape[2] + (self.alpha is not None)
            if self.samples8.dtype != np.uint8 or self.samples8.shape != (*pixels.shape[:2], channels):
                raise ValueError(
                    f"Photo.samples8 must be uint8 of shape {(*pixels.shape[:2], channels)}, got "
                    f"{self.samples8.dtype} {self.samples8.shape}"
                )
        if self.bit_depth not in (8, 16):
            raise ValueError(f"Photo.bit_depth must be 8 or 16, got {self.bit_depth!r}")
        if self.path is not None and not isinstance(self.path, Path):
            self.path = Path(self.path)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def is_gray(self) -> bool:
        return self.pixels.shape[2] == 1

    @property
    def has_alpha(self) -> bool:
        return self.alpha is not None

    def replace(self, **changes: Any) -> "Photo":
        """A copy with some fields changed (arrays not named are shared; the warnings list is
        copied). New pixels or alpha drop `samples8`, which no longer matches them."""
        changes.setdefault("warnings", list(self.warnings))
        if "pixels" in changes or "alpha" in changes:
            changes.setdefault("samples8", None)
        return dataclasses.replace(self, **changes)


def to_float(arr: np.ndarray, scale: float) -> np.ndarray:
    """Integer samples (0..scale) -> float32 HxWxC in 0..1."""
    if arr.ndim == 2:
        arr = arr[:, :, None]
    out = arr.astype(np.float32)
    out *= np.float32(1.0 / scale)
    return out


def float_to_unit(arr: np.ndarray) -> np.ndarray:
    """Float samples of any range -> float32 HxWxC clipped to 0..1 (NaN 0, +inf 1, -inf 0)."""
    if arr.ndim == 2:
        arr = arr[:, :, None]
    out = arr.astype(np.float32)  # always a new array: the caller's is never touched
    _clip_unit(out, np.float32(1.0))
    return out


def quantize(values: np.ndarray, bits: int, out: np.ndarray | None = None) -> np.ndarray:
    """0..1 floats -> uint8/uint16 with round-half-up, so read/write round trips are exact. NaN
    becomes 0, +inf the top value, -inf 0. `out`: an integer array (or view) of the same shape to fill.

    Works in strips of rows through one small float buffer: no full-size float copy, and each
    strip's few passes stay in the cache (about 8x faster on 12 MP than nan_to_num + clip)."""
    values = np.asarray(values, dtype=np.float32)
    top = np.float32(255.0 if bits == 8 else 65535.0)
    if out is None:
        out = np.empty(values.shape, np.uint8 if bits == 8 else np.uint16)
    if values.size == 0:
        return out
    row_size = max(1, values.size // max(1, values.shape[0]))
    step = max(1, _STRIP_SAMPLES // row_size)
    buf = np.empty((min(step, values.shape[0]),) + values.shape[1:], np.float32)
    for y in range(0, values.shape[0], step):
        strip = values[y : y + step]
        scratch = buf[: strip.shape[0]]
        np.multiply(strip, top, out=scratch)
        scratch += np.float32(0.5)
        _clip_unit(scratch, top)
        out[y : y + step] = scratch  # the cast truncates: with the +0.5 above, round half up
    return out


_STRIP_SAMPLES = 1 << 18  # floats per strip of `quantize` (1 MB: fits the L2 cache of most CPUs)


def _clip_unit(arr: np.ndarray, top: np.float32) -> None:
    """Clip to 0..top in place; fmax/fmin drop NaN (-> 0) where clip would keep it, in the same pass."""
    np.fmax(arr, np.float32(0.0), out=arr)
    np.fmin(arr, top, out=arr)

"""Estimate the quality setting a JPEG was saved with, from its quantization tables.

Almost every encoder (libjpeg and its descendants: Pillow, OpenCV, GIMP, browsers, most phones and
web services) builds its tables by scaling the example tables of the JPEG standard (ITU T.81
Annex K) with the IJG quality formula. Inverting that formula on the luma table gives back the
quality number that was passed to the encoder. Files from encoders with their own tables (some
cameras, Photoshop) get the IJG quality whose table is closest, which is still a sensible strength
setting for JPEG artefact removal.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

# Annex K.1 luminance quantization table, natural (row-major) order.
STANDARD_LUMA_TABLE: tuple[int, ...] = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


def ijg_scale_factor(quality: int) -> int:
    """libjpeg's `jpeg_quality_scaling`: quality 1..100 -> percentage scale of the base tables."""
    quality = min(max(int(quality), 1), 100)
    return 5000 // quality if quality < 50 else 200 - 2 * quality


def scaled_table(quality: int, base: Sequence[int] = STANDARD_LUMA_TABLE) -> np.ndarray:
    """The table libjpeg writes for `quality` (baseline: values clamped to 1..255)."""
    scale = ijg_scale_factor(quality)
    values = (np.asarray(base, dtype=np.int64) * scale + 50) // 100
    return np.clip(values, 1, 255)


# One row per quality 1..100.
_LUMA_TABLES = np.stack([scaled_table(q) for q in range(1, 101)])


def estimate_quality_from_table(table: Sequence[int]) -> int:
    """The IJG quality 1..100 whose scaled Annex K luma table is closest to `table`.

    `table` holds 64 values in natural (row-major) order, as Pillow's `quantization` gives them.
    Closest means least total absolute difference; ties go to the higher quality.
    """
    values = np.asarray(list(table), dtype=np.int64).ravel()
    if values.size != 64:
        raise ValueError(f"a quantization table has 64 entries, got {values.size}")
    errors = np.abs(_LUMA_TABLES - values).sum(axis=1)
    best = np.flatnonzero(errors == errors.min())
    return int(best[-1]) + 1


def estimate_jpeg_quality(pil_image: Any) -> int | None:
    """Quality 1..100 a JPEG was saved with, or None when the image has no JPEG tables.

    `pil_image` is an image opened by Pillow (its `quantization` attribute holds the tables of a
    JPEG file; other formats have none). Only the luma table (table 0) is used.
    """
    tables = getattr(pil_image, "quantization", None)
    if not isinstance(tables, dict) or not tables:
        return None
    luma = tables.get(0)
    if luma is None:
        luma = tables[min(tables)]
    try:
        return estimate_quality_from_table(luma)
    except (TypeError, ValueError):
        return None

"""Tests for rednet.io.jpeg_quality: JPEG quality estimated from the quantization tables."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from rednet.io.jpeg_quality import (
    STANDARD_LUMA_TABLE,
    estimate_jpeg_quality,
    estimate_quality_from_table,
    ijg_scale_factor,
    scaled_table,
)


def _jpeg(quality: int, mode: str = "RGB", size=(16, 12)) -> Image.Image:
    rng = np.random.default_rng(quality)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    arr = rng.integers(0, 256, shape, dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf)


@pytest.mark.parametrize("quality", [5, 10, 20, 30, 50, 75, 90])
def test_pillow_qualities_read_back_exactly(quality):
    assert estimate_jpeg_quality(_jpeg(quality)) == quality


@pytest.mark.parametrize("quality", [1, 2, 3, 49, 51, 95, 99, 100])
def test_extremes_and_the_formula_switch_at_50(quality):
    assert estimate_jpeg_quality(_jpeg(quality)) == quality


def test_gray_jpeg():
    assert estimate_jpeg_quality(_jpeg(60, mode="L")) == 60


def test_every_quality_within_one():
    for quality in range(1, 101, 3):
        assert abs(estimate_jpeg_quality(_jpeg(quality, size=(8, 8))) - quality) <= 1


def test_non_jpeg_gives_none():
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG")
    buf.seek(0)
    assert estimate_jpeg_quality(Image.open(buf)) is None
    assert estimate_jpeg_quality(Image.new("RGB", (4, 4))) is None
    assert estimate_jpeg_quality(object()) is None


def test_scale_factor_matches_libjpeg():
    assert ijg_scale_factor(50) == 100
    assert ijg_scale_factor(75) == 50
    assert ijg_scale_factor(10) == 500
    assert ijg_scale_factor(100) == 0
    assert ijg_scale_factor(0) == ijg_scale_factor(1) == 5000  # clamped


def test_scaled_table_is_annex_k_at_50_and_clamped():
    assert scaled_table(50).tolist() == list(STANDARD_LUMA_TABLE)
    assert scaled_table(100).tolist() == [1] * 64
    assert scaled_table(1).tolist() == [255] * 64


def test_nonstandard_table_gets_the_nearest_quality():
    table = scaled_table(80) + 1  # an encoder with slightly different rounding
    assert abs(estimate_quality_from_table(table.tolist()) - 80) <= 2


def test_wrong_table_length_rejected():
    with pytest.raises(ValueError):
        estimate_quality_from_table([1, 2, 3])

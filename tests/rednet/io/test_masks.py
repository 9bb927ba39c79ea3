"""Tests for rednet.io.masks: mask files read and written, masks grown and shrunk."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from rednet.io import ImageReadError, ImageWriteError, MaskSizeError, read_mask, write_mask
from rednet.io.masks import grow, shrink
from tests.rednet.io.helpers import leftovers, rand8, save_pil


def test_grow_and_shrink_by_a_disc():
    mask = np.zeros((21, 21), bool)
    mask[10, 10] = True
    grown = grow(mask, 3)
    assert grown.sum() > 20 and grown[10, 13] and not grown[10, 14] and not grown[13, 13]
    assert np.array_equal(shrink(grown, 3), mask)


def test_zero_radius_and_empty_masks_are_copies():
    mask = np.eye(5, dtype=bool)
    out = grow(mask, 0)
    assert np.array_equal(out, mask) and out is not mask
    assert shrink(np.zeros((0, 0), bool), 2).shape == (0, 0)


def test_shrink_does_not_eat_in_from_the_photo_border():
    full = np.ones((8, 8), bool)
    assert shrink(full, 2).all()


# ------------------------------------------------------------------------------------------------
# mask files
# ------------------------------------------------------------------------------------------------
def test_read_mask_gray_threshold(tmp_path):
    values = np.array([[0, 127, 128, 255]], np.uint8)
    path = save_pil(tmp_path / "m.png", values)
    mask = read_mask(path, size=(4, 1))
    assert mask.dtype == bool and mask.tolist() == [[False, False, True, True]]


def test_read_mask_colour_uses_luminance(tmp_path):
    rgb = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0]]], np.uint8)
    mask = read_mask(save_pil(tmp_path / "c.png", rgb), (4, 1))
    assert mask.tolist() == [[True, False, False, True]]  # red is dark (76), green bright (150)


def test_read_mask_alpha_only(tmp_path):
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., :3] = 255  # uniform white ...
    rgba[0, 1, 3] = 255  # ... with the strokes only in alpha
    rgba[1, 2, 3] = 200
    mask = read_mask(save_pil(tmp_path / "a.png", rgba))
    assert mask.tolist() == [[False, True, False], [False, False, True]]


def test_read_mask_with_alpha_and_content_composites_over_black(tmp_path):
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = [255, 255, 255, 255]  # white, opaque: fill
    rgba[0, 1] = [255, 255, 255, 0]  # white but transparent: keep
    rgba[0, 2] = [0, 0, 0, 255]  # black, opaque: keep
    assert read_mask(save_pil(tmp_path / "b.png", rgba)).tolist() == [[True, False, False]]


def test_read_mask_wrong_size(tmp_path):
    path = save_pil(tmp_path / "m.png", np.zeros((80, 100), np.uint8))
    with pytest.raises(MaskSizeError, match="mask is 100x80 but the photo is 120x90"):
        read_mask(path, size=(120, 90))


def test_read_mask_not_an_image(tmp_path):
    (tmp_path / "m.png").write_text("not a mask")
    with pytest.raises(ImageReadError, match="not an image file"):
        read_mask(tmp_path / "m.png", (1, 1))


def test_write_mask_roundtrip(tmp_path):
    mask = rand8(6, 9, 1, seed=90) > 100
    out = tmp_path / "mask.png"
    write_mask(mask, out)
    with Image.open(out) as im:
        assert im.mode == "L" and im.format == "PNG"
        assert set(np.unique(np.asarray(im)).tolist()) <= {0, 255}
    assert np.array_equal(read_mask(out, size=(9, 6)), mask)
    assert leftovers(tmp_path) == []


def test_write_mask_accepts_numbers(tmp_path):
    write_mask(np.array([[0, 1, 7]]), tmp_path / "i.png")
    write_mask(np.array([[0.2, 0.5, 1.0]]), tmp_path / "f.png")
    assert read_mask(tmp_path / "i.png").tolist() == [[False, True, True]]
    assert read_mask(tmp_path / "f.png").tolist() == [[False, True, True]]


def test_write_mask_errors(tmp_path):
    with pytest.raises(ImageWriteError, match="losslessly"):
        write_mask(np.zeros((2, 2), bool), tmp_path / "m.jpg")
    with pytest.raises(ValueError):
        write_mask(np.zeros((2, 2, 3), bool), tmp_path / "m.png")
    (tmp_path / "m.png").write_bytes(b"old")
    with pytest.raises(ImageWriteError, match="already exists"):
        write_mask(np.zeros((2, 2), bool), tmp_path / "m.png", overwrite=False)
    assert (tmp_path / "m.png").read_bytes() == b"old"

"""app.canvas.image_convert: display images from a photo's samples, and area-averaged scaling."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app.canvas.image_convert import photo_to_qimage, pixels_to_qimage, qimage_to_uint8, smooth_scaled
from rednet.io import read_photo


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_a_photo_shown_from_its_samples_looks_as_from_its_floats(qapp, tmp_path, mode):
    rng = np.random.default_rng(len(mode))
    levels = rng.integers(0, 256, (9, 11, len(mode)), dtype=np.uint8)
    Image.fromarray(levels[:, :, 0] if mode == "L" else levels, mode).save(tmp_path / "p.png")
    photo = read_photo(tmp_path / "p.png")
    assert photo.samples8 is not None
    from_samples = photo_to_qimage(photo)
    from_floats = pixels_to_qimage(photo.pixels, photo.alpha)
    assert from_samples.format() == from_floats.format()
    assert np.array_equal(qimage_to_uint8(from_samples), qimage_to_uint8(from_floats))


@pytest.mark.parametrize("channels", [1, 3])
def test_smooth_scaled_averages_like_qt(qapp, channels):
    rng = np.random.default_rng(channels)
    pixels = rng.random((300, 410, channels)).astype(np.float32)
    image = pixels_to_qimage(pixels)
    ours = qimage_to_uint8(smooth_scaled(image, 97, 71)).astype(int)
    qt = image.scaled(97, 71, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    assert ours.shape == (71, 97, 4)
    assert np.abs(ours - qimage_to_uint8(qt).astype(int)).max() <= 2


def test_smooth_scaled_leaves_transparent_images_to_qt(qapp):
    pixels = np.ones((40, 40, 3), np.float32)
    alpha = np.zeros((40, 40), np.float32)
    alpha[:, :20] = 1.0  # opaque white beside transparent white
    image = pixels_to_qimage(pixels, alpha)
    assert image.format() == QImage.Format.Format_RGBA8888
    scaled = qimage_to_uint8(smooth_scaled(image, 10, 10))
    assert scaled[:, :4, 3].min() == 255 and scaled[:, 6:, 3].max() == 0

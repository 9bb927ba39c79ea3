"""Photo.samples8: the file's own 8-bit samples, kept for display, always matching the floats."""

from __future__ import annotations

import numpy as np
import pytest

from rednet.io import Photo, read_photo
from tests.rednet.io.helpers import exif_bytes, rand8, rand16, save_pil, to_int


def floats_as_samples(photo: Photo) -> np.ndarray:
    planes = [to_int(photo.pixels, 255)]
    if photo.alpha is not None:
        planes.append(to_int(photo.alpha, 255)[:, :, None])
    return np.concatenate([p if p.ndim == 3 else p[:, :, None] for p in planes], axis=2)


@pytest.mark.parametrize(("channels", "ext"), [(1, "png"), (2, "png"), (3, "png"), (4, "png"), (3, "bmp")])
def test_8bit_files_keep_samples_equal_to_their_floats(tmp_path, channels, ext):
    path = save_pil(tmp_path / f"p.{ext}", rand8(5, 7, channels, seed=channels))
    photo = read_photo(path)
    assert photo.samples8 is not None and photo.samples8.dtype == np.uint8
    assert np.array_equal(photo.samples8, floats_as_samples(photo))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_samples_are_turned_upright_with_the_pixels(tmp_path, orientation):
    path = save_pil(tmp_path / "o.png", rand8(3, 5, 4, seed=orientation), exif=exif_bytes(orientation=orientation))
    photo = read_photo(path)
    assert photo.samples8.shape[:2] == photo.pixels.shape[:2]
    assert np.array_equal(photo.samples8, floats_as_samples(photo))


def test_16bit_files_keep_no_samples(tmp_path):
    photo = read_photo(save_pil(tmp_path / "d.png", rand16(4, 4, 1)))
    assert photo.bit_depth == 16 and photo.samples8 is None


def test_new_pixels_or_alpha_drop_the_samples(tmp_path):
    photo = read_photo(save_pil(tmp_path / "a.png", rand8(4, 4, 4)))
    assert photo.replace(exif=None).samples8 is photo.samples8
    assert photo.replace(pixels=photo.pixels * 0.5).samples8 is None
    assert photo.replace(alpha=None).samples8 is None


def test_samples_that_do_not_fit_the_pixels_are_refused():
    with pytest.raises(ValueError, match="samples8"):
        Photo(np.zeros((4, 4, 3), np.float32), samples8=np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="samples8"):
        Photo(np.zeros((4, 4, 3), np.float32), samples8=np.zeros((4, 4, 3), np.uint16))

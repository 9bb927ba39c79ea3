"""Tests for rednet.io.photo: the Photo dataclass, and the error types of rednet.io."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from rednet.io import ImageReadError, ImageWriteError, MaskSizeError, Photo


def test_photo_properties_and_replace():
    photo = Photo(pixels=np.zeros((2, 3, 3), np.float32), warnings=["x"])
    assert (photo.width, photo.height, photo.is_gray, photo.has_alpha) == (3, 2, False, False)
    alpha = np.ones((2, 3), np.float32)
    copy = photo.replace(alpha=alpha)
    assert copy is not photo and copy.alpha is alpha and photo.alpha is None
    copy.warnings.append("y")
    assert photo.warnings == ["x"]
    assert copy.pixels is photo.pixels  # arrays not named are shared, not copied


def test_photo_accepts_2d_gray_and_float64():
    photo = Photo(pixels=np.zeros((4, 5)), bit_depth=16)
    assert photo.pixels.shape == (4, 5, 1) and photo.pixels.dtype == np.float32
    assert photo.is_gray and photo.bit_depth == 16


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pixels": np.zeros((2, 3, 2), np.float32)},
        {"pixels": np.zeros((2, 3, 3), np.float32), "alpha": np.zeros((3, 2), np.float32)},
        {"pixels": np.zeros((2, 3, 3), np.float32), "bit_depth": 12},
        {"pixels": np.zeros((0, 3, 3), np.float32)},
    ],
)
def test_photo_rejects_bad_arrays(kwargs):
    with pytest.raises(ValueError):
        Photo(**kwargs)


def test_error_types():
    assert issubclass(ImageReadError, ValueError)
    assert issubclass(ImageWriteError, OSError)
    assert issubclass(MaskSizeError, ValueError)
    err = ImageWriteError("out.png: cannot write: No space left on device", "out.png", errno.ENOSPC)
    assert str(err) == "out.png: cannot write: No space left on device"
    assert err.errno == errno.ENOSPC

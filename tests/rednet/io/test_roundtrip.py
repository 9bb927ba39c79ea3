"""Round trips through write_photo and read_photo: exact where the format is lossless,
close where it is not, with alpha.

Every image is generated inside tmp_path by the test itself; all of them are tiny.
"""

from __future__ import annotations

import numpy as np
import pytest

from rednet.io import SUPPORTED_WRITE_EXTENSIONS, Photo, read_photo, write_photo
from tests.rednet.io.helpers import as_float, leftovers, rand8, rand16, smooth, to_int


# ------------------------------------------------------------------------------------------------
# exact round trips
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".png", ".tif", ".tiff", ".bmp"])
@pytest.mark.parametrize("channels", [1, 3])
def test_roundtrip_8bit_exact(tmp_path, ext, channels):
    data = rand8(7, 9, channels, seed=channels)
    out = tmp_path / f"rt{ext}"
    assert write_photo(Photo(as_float(data, 255)), out) == []
    photo = read_photo(out)
    assert photo.bit_depth == 8 and photo.is_gray == (channels == 1)
    assert photo.pixels.dtype == np.float32 and photo.pixels.shape == (7, 9, channels)
    assert np.array_equal(to_int(photo.pixels, 255), as_float(data, 1).astype(np.int64))
    assert photo.path == out and photo.warnings == []
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("with_alpha", [False, True])
def test_roundtrip_16bit_exact(tmp_path, ext, channels, with_alpha):
    data = rand16(5, 6, channels, seed=3)
    alpha = rand16(5, 6, 1, seed=4) if with_alpha else None
    photo = Photo(
        as_float(data, 65535),
        alpha=None if alpha is None else alpha.astype(np.float32) / 65535,
        bit_depth=16,
    )
    out = tmp_path / f"rt16{ext}"
    warnings = write_photo(photo, out)
    back = read_photo(out)
    assert back.bit_depth == 16
    expected = as_float(data, 1).astype(np.int64)
    if ext == ".tif" and channels == 1 and with_alpha:
        # documented: 16-bit gray+alpha TIFF is written as RGBA (readers lack the 2-sample layout)
        assert warnings and "RGBA" in warnings[0]
        expected = np.repeat(expected, 3, axis=2)
    else:
        assert warnings == []
        assert back.is_gray == (channels == 1)
    assert np.array_equal(to_int(back.pixels, 65535), expected)
    if with_alpha:
        assert np.array_equal(to_int(back.alpha, 65535), alpha.astype(np.int64))
    else:
        assert back.alpha is None


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_every_16bit_value_survives(tmp_path, ext):
    data = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    out = tmp_path / f"all{ext}"
    write_photo(Photo(as_float(data, 65535), bit_depth=16), out)
    assert np.array_equal(to_int(read_photo(out).pixels[..., 0], 65535), data.astype(np.int64))


def test_every_8bit_value_survives(tmp_path):
    data = np.arange(256, dtype=np.uint8).reshape(16, 16)
    write_photo(Photo(as_float(data, 255)), tmp_path / "all.png")
    assert np.array_equal(to_int(read_photo(tmp_path / "all.png").pixels[..., 0], 255), data)


def test_out_of_range_and_nan_pixels_are_clipped(tmp_path):
    pixels = np.array([[[-0.5], [1.5], [np.nan], [0.5]]], dtype=np.float32)
    write_photo(Photo(pixels), tmp_path / "clip.png")
    back = read_photo(tmp_path / "clip.png")
    assert to_int(back.pixels, 255).ravel().tolist() == [0, 255, 0, 128]


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (3, 2)])
@pytest.mark.parametrize("ext", SUPPORTED_WRITE_EXTENSIONS)
def test_tiny_images_in_every_format(tmp_path, size, ext):
    h, w = size
    pixels = np.full((h, w, 3), 0.5, np.float32)
    out = tmp_path / f"tiny{ext}"
    write_photo(Photo(pixels), out)
    photo = read_photo(out)
    assert (photo.height, photo.width) == (h, w)
    assert np.abs(photo.pixels - 0.5).max() < 0.03


def test_unicode_and_space_paths(tmp_path):
    folder = tmp_path / "fotó ñ 写真"
    folder.mkdir()
    data = rand8(3, 4, 3, seed=60)
    for ext in (".png", ".jpg", ".tif"):
        out = folder / f"my photo é{ext}"
        write_photo(Photo(as_float(data, 255), bit_depth=16 if ext == ".tif" else 8), out)
        photo = read_photo(out)
        assert (photo.width, photo.height) == (4, 3) and photo.path == out
    assert leftovers(folder) == []
    assert read_photo(folder / "my photo é.tif").bit_depth == 16


# ------------------------------------------------------------------------------------------------
# lossy formats
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("quality", [95, 50])
def test_jpeg_roundtrip_is_close_and_quality_is_read(tmp_path, quality):
    pixels = smooth()
    out = tmp_path / "q.jpg"
    write_photo(Photo(pixels), out, jpeg_quality=quality)
    photo = read_photo(out)
    assert photo.format == "JPEG" and photo.jpeg_quality == quality and photo.bit_depth == 8
    assert np.abs(photo.pixels - pixels).mean() < (2 if quality == 95 else 4) / 255


def test_jpeg_gray_stays_gray_and_16bit_becomes_8bit(tmp_path):
    pixels = smooth(c=1)
    write_photo(Photo(pixels, bit_depth=16), tmp_path / "g.jpeg")
    photo = read_photo(tmp_path / "g.jpeg")
    assert photo.is_gray and photo.bit_depth == 8
    assert np.abs(photo.pixels - pixels).mean() < 2 / 255


def test_webp_lossy_is_close_and_lossless_at_100(tmp_path):
    pixels = smooth()
    write_photo(Photo(pixels), tmp_path / "a.webp", jpeg_quality=90)
    photo = read_photo(tmp_path / "a.webp")
    assert photo.format == "WEBP" and np.abs(photo.pixels - pixels).mean() < 3 / 255
    data = rand8(5, 7, 3, seed=1)
    write_photo(Photo(as_float(data, 255)), tmp_path / "b.webp", jpeg_quality=100)
    assert np.array_equal(to_int(read_photo(tmp_path / "b.webp").pixels, 255), data)


# ------------------------------------------------------------------------------------------------
# alpha
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".png", ".tif", ".webp"])
@pytest.mark.parametrize("channels", [1, 3])
def test_alpha_is_kept(tmp_path, ext, channels):
    color = rand8(6, 8, channels, seed=11)
    alpha = rand8(6, 8, 1, seed=12)
    out = tmp_path / f"a{ext}"
    quality = 100 if ext == ".webp" else 95  # lossless WebP keeps the colour exactly too
    write_photo(Photo(as_float(color, 255), alpha=alpha / 255.0), out, jpeg_quality=quality)
    photo = read_photo(out)
    assert photo.alpha is not None and photo.alpha.shape == (6, 8)
    assert photo.alpha.dtype == np.float32
    assert np.array_equal(to_int(photo.alpha, 255), alpha)
    if ext != ".webp":
        assert photo.is_gray == (channels == 1)
        assert np.array_equal(to_int(photo.pixels, 255), as_float(color, 1).astype(np.int64))


def test_webp_lossy_keeps_alpha(tmp_path):
    alpha = np.zeros((16, 16), np.float32)
    alpha[4:12, 4:12] = 1.0
    write_photo(Photo(smooth(16, 16), alpha=alpha), tmp_path / "a.webp", jpeg_quality=80)
    photo = read_photo(tmp_path / "a.webp")
    assert np.abs(photo.alpha - alpha).max() <= 1 / 255


@pytest.mark.parametrize("ext", [".jpg", ".bmp"])
def test_jpeg_and_bmp_composite_alpha_over_white(tmp_path, ext):
    pixels = np.zeros((8, 8, 3), np.float32)  # black ...
    alpha = np.zeros((8, 8), np.float32)  # ... but fully transparent
    alpha[:, :4] = 1.0  # left half opaque black
    write_photo(Photo(pixels, alpha=alpha), tmp_path / f"c{ext}", jpeg_quality=100)
    photo = read_photo(tmp_path / f"c{ext}")
    assert photo.alpha is None
    assert photo.pixels[:, 6:].min() > 0.95  # transparent -> white
    assert photo.pixels[:, :2].max() < 0.05  # opaque black stays black

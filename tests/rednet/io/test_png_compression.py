"""`write_photo(png_compression=...)`: both choices keep every promise of a PNG (pixels, bit depth,
alpha, gray, EXIF, ICC), "small" is never larger than "fast" on a photo, and the choice reaches the
encoder (Pillow for 8 bits, OpenCV or our own for 16)."""

from __future__ import annotations

import zlib
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from rednet.evaluation.bench_inputs import bench_photo
from rednet.io import Photo, png, read_photo, write_photo
from rednet.io.write import DEFAULT_PNG_COMPRESSION, PNG_COMPRESSIONS
from tests.rednet.io.helpers import MAKE, as_float, exif_bytes, parse_exif, rand8, rand16, srgb_icc

CHOICES = ("fast", "small")
LAYOUTS = [  # (bits, colour channels, alpha)
    (8, 3, False),
    (8, 3, True),
    (8, 1, False),
    (8, 1, True),
    (16, 3, False),
    (16, 3, True),
    (16, 1, False),
    (16, 1, True),
]


def test_the_choices_and_the_default():
    assert PNG_COMPRESSIONS == CHOICES == tuple(png.COMPRESSIONS)
    assert DEFAULT_PNG_COMPRESSION == "fast"


@pytest.mark.parametrize("choice", CHOICES)
@pytest.mark.parametrize("bits, channels, has_alpha", LAYOUTS)
def test_every_choice_writes_a_readable_file_with_pixels_and_metadata_intact(
    tmp_path, choice, bits, channels, has_alpha
):
    top = 255 if bits == 8 else 65535
    rand = rand8 if bits == 8 else rand16
    pixels = as_float(rand(9, 13, channels, seed=bits + channels), top)
    alpha = as_float(rand(9, 13, 1, seed=7), top)[..., 0] if has_alpha else None
    icc = srgb_icc() if channels == 3 else None  # an RGB profile is left out of a gray file
    photo = Photo(pixels=pixels, alpha=alpha, bit_depth=bits, exif=exif_bytes(make="PngCam"), icc=icc)
    path = tmp_path / "out.png"
    assert write_photo(photo, path, png_compression=choice) == []
    back = read_photo(path)
    assert back.bit_depth == bits and back.is_gray == (channels == 1) and back.format == "PNG"
    assert np.array_equal(np.round(back.pixels * top), np.round(pixels * top))
    if has_alpha:
        assert np.array_equal(np.round(back.alpha * top), np.round(alpha * top))
    else:
        assert back.alpha is None
    assert parse_exif(back.exif)[MAKE] == "PngCam"
    assert back.icc == icc


@pytest.mark.parametrize("bits", [8, 16])
def test_small_is_no_larger_than_fast_on_a_photo(tmp_path, bits):
    pixels, _ = bench_photo(240, 160)
    sizes = {}
    for choice in CHOICES:
        path = tmp_path / f"{choice}.png"
        write_photo(Photo(pixels=pixels, bit_depth=bits), path, png_compression=choice)
        sizes[choice] = path.stat().st_size
    assert sizes["small"] <= sizes["fast"]


def test_gray_alpha_16_bit_small_is_no_larger_than_fast(tmp_path):
    """Gray+alpha at 16 bits goes through our own encoder: the level reaches zlib there too."""
    pixels, _ = bench_photo(240, 160)
    gray = pixels.mean(axis=2, keepdims=True)
    photo = Photo(pixels=gray, alpha=pixels[..., 0], bit_depth=16)
    sizes = {}
    for choice in CHOICES:
        path = tmp_path / f"{choice}.png"
        write_photo(photo, path, png_compression=choice)
        sizes[choice] = path.stat().st_size
    assert sizes["small"] <= sizes["fast"]


# --- the choice reaches the encoder ---------------------------------------------------------------
@pytest.fixture
def pillow_saves(monkeypatch):
    """The keywords of every Image.save call."""
    seen: list[dict] = []
    real = Image.Image.save

    def spy(self, fp, format=None, **params):
        seen.append(params)
        return real(self, fp, format, **params)

    monkeypatch.setattr(Image.Image, "save", spy)
    return seen


@pytest.fixture
def opencv_levels(monkeypatch):
    """The PNG compression level of every cv2.imencode call made by rednet.io.png."""
    seen: list[int] = []
    real = png.cv2.imencode

    def spy(ext, img, params=()):
        params = list(params)
        seen.append(params[params.index(png.cv2.IMWRITE_PNG_COMPRESSION) + 1])
        return real(ext, img, params)

    monkeypatch.setattr(png.cv2, "imencode", spy)
    return seen


def _photo(bits=8):
    return Photo(pixels=np.full((4, 5, 3), 0.5, np.float32), bit_depth=bits)


@pytest.mark.parametrize("choice", CHOICES)
def test_the_choice_reaches_pillow(tmp_path, pillow_saves, choice):
    write_photo(_photo(), tmp_path / "a.png", png_compression=choice)
    expected = png.COMPRESSIONS[choice]
    assert pillow_saves[0]["compress_level"] == expected.level8
    assert pillow_saves[0]["compress_type"] == expected.strategy8


@pytest.mark.parametrize("choice", CHOICES)
def test_the_choice_reaches_opencv_for_16_bits(tmp_path, opencv_levels, choice):
    write_photo(_photo(16), tmp_path / "a.png", png_compression=choice)
    assert opencv_levels == [png.COMPRESSIONS[choice].level16]


def test_the_fast_choice_is_the_default(tmp_path, pillow_saves, opencv_levels):
    write_photo(_photo(), tmp_path / "a.png")
    write_photo(_photo(16), tmp_path / "b.png")
    assert pillow_saves[0]["compress_level"] == png.COMPRESSIONS["fast"].level8
    assert opencv_levels == [png.COMPRESSIONS["fast"].level16]


def test_restore_file_passes_the_choice_to_the_writer(tmp_path, pillow_saves):
    from rednet.engine.restore import restore_file

    src = tmp_path / "in.png"
    write_photo(_photo(), src)
    pillow_saves.clear()
    restore_file(src, tmp_path / "out.png", task="sr", scale=2, png_compression="small")
    assert [p["compress_level"] for p in pillow_saves] == [png.COMPRESSIONS["small"].level8]


def test_other_formats_ignore_the_choice(tmp_path):
    for choice in CHOICES:
        write_photo(_photo(), tmp_path / f"{choice}.jpg", png_compression=choice)
    assert (tmp_path / "fast.jpg").read_bytes() == (tmp_path / "small.jpg").read_bytes()


@pytest.mark.parametrize("bad", ["smallest", "", "FAST", 6])
def test_an_unknown_choice_is_a_value_error_and_writes_nothing(tmp_path, bad):
    with pytest.raises(ValueError, match="png_compression"):
        write_photo(_photo(), tmp_path / "a.png", png_compression=bad)
    assert not (tmp_path / "a.png").exists()


def test_pillow_honours_the_zlib_strategy():
    """ "fast" relies on Pillow's compress_type (the zlib strategy, Z_RLE): if a Pillow ignored it the
    file would still be right, only larger; this says so."""
    arr = (np.clip(bench_photo(240, 160)[0], 0, 1) * 255).astype(np.uint8)
    sizes = {}
    for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_RLE):
        buf = BytesIO()
        Image.fromarray(arr).save(buf, "PNG", compress_level=1, compress_type=strategy)
        sizes[strategy] = len(buf.getvalue())
    assert sizes[zlib.Z_RLE] != sizes[zlib.Z_DEFAULT_STRATEGY]

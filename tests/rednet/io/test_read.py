"""Tests for rednet.io.read (and decode): read_photo of files other programs wrote,
and its one-line errors.

Every image is generated inside tmp_path by the test itself; all of them are tiny.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile

from rednet.io import MAX_PIXELS, ImageReadError, Photo, read_photo, write_photo
from tests.rednet.io.helpers import as_float, png_chunk, rand8, rand16, save_pil, smooth, to_int
from tests.support.unprivileged import run_python


# ------------------------------------------------------------------------------------------------
# 16-bit and float sources
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_rgb_from_opencv_reads_as_16bit_rgb(tmp_path, ext):
    data = rand16(3, 4, 3, seed=5)
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(data[..., ::-1]))
    assert ok
    path = tmp_path / f"cv{ext}"
    path.write_bytes(buf.tobytes())
    photo = read_photo(path)
    assert photo.bit_depth == 16 and photo.format in ("PNG", "TIFF") and not photo.is_gray
    assert np.array_equal(to_int(photo.pixels, 65535), data.astype(np.int64))


def test_16bit_gray_png_from_pillow(tmp_path):
    data = rand16(3, 5, 1, seed=6)
    path = save_pil(tmp_path / "g16.png", Image.fromarray(data))
    photo = read_photo(path)
    assert photo.bit_depth == 16 and photo.is_gray
    assert np.array_equal(to_int(photo.pixels[..., 0], 65535), data.astype(np.int64))


@pytest.mark.parametrize("channels", [1, 3])
def test_float_tiff_is_clipped_to_unit_range_as_16bit(tmp_path, channels):
    values = np.array([[-0.25, 0.0, 0.5], [0.75, 1.0, 1.5]], dtype=np.float32)
    arr = values if channels == 1 else np.stack([values] * 3, axis=2)
    ok, buf = cv2.imencode(".tiff", arr)
    assert ok
    path = tmp_path / "float.tif"
    path.write_bytes(buf.tobytes())
    photo = read_photo(path)
    assert photo.bit_depth == 16 and photo.pixels.shape == (2, 3, channels)
    assert np.allclose(photo.pixels[..., 0], np.clip(values, 0, 1))


def test_non_jpeg_has_no_quality(tmp_path):
    write_photo(Photo(smooth(4, 4)), tmp_path / "a.png")
    assert read_photo(tmp_path / "a.png").jpeg_quality is None


def test_rgba_png_from_pillow(tmp_path):
    data = rand8(3, 4, 4, seed=21)
    photo = read_photo(save_pil(tmp_path / "rgba.png", data))
    assert not photo.is_gray
    assert np.array_equal(to_int(photo.pixels, 255), data[..., :3])
    assert np.array_equal(to_int(photo.alpha, 255), data[..., 3])


# ------------------------------------------------------------------------------------------------
# source layouts
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".png", ".gif"])
def test_palette_with_transparency(tmp_path, ext):
    im = Image.new("P", (4, 3), 0)
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    im.putpixel((1, 1), 1)
    im.putpixel((2, 2), 2)
    path = save_pil(tmp_path / f"pal{ext}", im, transparency=2)
    photo = read_photo(path)
    assert not photo.is_gray and photo.alpha is not None
    assert photo.alpha[2, 2] == 0 and photo.alpha[0, 0] == 1
    assert photo.pixels[0, 0].tolist() == [1, 0, 0]
    assert photo.pixels[1, 1].tolist() == [0, 1, 0]


def test_palette_without_transparency(tmp_path):
    im = Image.fromarray(rand8(5, 5, 3, seed=40)).quantize(8)
    photo = read_photo(save_pil(tmp_path / "p.png", im))
    assert not photo.is_gray and photo.alpha is None
    assert np.array_equal(to_int(photo.pixels, 255), np.asarray(im.convert("RGB")))


def test_la_png_is_gray_with_alpha(tmp_path):
    data = rand8(4, 4, 2, seed=41)
    photo = read_photo(save_pil(tmp_path / "la.png", Image.fromarray(data, "LA")))
    assert photo.is_gray and photo.alpha is not None
    assert np.array_equal(to_int(photo.pixels[..., 0], 255), data[..., 0])
    assert np.array_equal(to_int(photo.alpha, 255), data[..., 1])


def test_cmyk_jpeg_becomes_rgb_with_a_warning(tmp_path):
    cmyk = np.zeros((16, 16, 4), np.uint8)
    cmyk[:, 8:, 0] = 255  # right half: full cyan; left half: no ink = white
    path = save_pil(tmp_path / "cmyk.jpg", Image.fromarray(cmyk, "CMYK"), quality=100)
    photo = read_photo(path)
    assert photo.pixels.shape == (16, 16, 3) and photo.format == "JPEG"
    assert any("CMYK" in w for w in photo.warnings)
    assert np.allclose(photo.pixels[:, :6].mean(axis=(0, 1)), [1, 1, 1], atol=0.05)
    assert np.allclose(photo.pixels[:, 10:].mean(axis=(0, 1)), [0, 1, 1], atol=0.05)


@pytest.mark.parametrize("ext", [".png", ".tif", ".bmp"])
def test_one_bit_image_is_gray(tmp_path, ext):
    bits = rand8(5, 7, 1, seed=42) > 127
    path = save_pil(tmp_path / f"bw{ext}", Image.fromarray(bits))
    photo = read_photo(path)
    assert photo.is_gray and photo.bit_depth == 8
    assert np.array_equal(photo.pixels[..., 0], bits.astype(np.float32))


def test_animated_gif_reads_first_frame_with_warning(tmp_path):
    frames = [Image.new("RGB", (4, 4), color) for color in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    photo = read_photo(path)
    assert photo.format == "GIF"
    assert np.allclose(photo.pixels[0, 0], [1, 0, 0])
    assert len(photo.warnings) == 1 and "3 frames" in photo.warnings[0]


def test_single_frame_gif_has_no_warning_and_gray_stays_gray(tmp_path):
    data = rand8(4, 4, 1)
    photo = read_photo(save_pil(tmp_path / "one.gif", data))
    assert photo.warnings == [] and photo.is_gray
    assert np.array_equal(to_int(photo.pixels[..., 0], 255), data)


def test_multipage_tiff_reads_first_page_with_warning(tmp_path):
    pages = [Image.fromarray(rand8(3, 4, 3, seed=s)) for s in range(2)]
    path = tmp_path / "pages.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    photo = read_photo(path)
    assert np.array_equal(to_int(photo.pixels, 255), np.asarray(pages[0]))
    assert len(photo.warnings) == 1 and "2 pages" in photo.warnings[0]


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".webp", ".bmp", ".gif"])
def test_pillow_written_files_of_every_format_read(tmp_path, ext):
    path = save_pil(tmp_path / f"p{ext}", rand8(6, 5, 3, seed=50))
    photo = read_photo(path)
    assert (photo.width, photo.height) == (5, 6) and photo.bit_depth == 8
    assert photo.format == {".jpg": "JPEG", ".tif": "TIFF"}.get(ext, ext[1:].upper())


def test_format_comes_from_content_not_extension(tmp_path):
    path = save_pil(tmp_path / "actually_png.jpg", rand8(2, 2, 3), "PNG")
    assert read_photo(path).format == "PNG"


# ------------------------------------------------------------------------------------------------
# read errors
# ------------------------------------------------------------------------------------------------
def read_error(path) -> str:
    with pytest.raises(ImageReadError) as info:
        read_photo(path)
    message = str(info.value)
    assert "\n" not in message
    assert type(info.value) is ImageReadError
    return message


def test_missing_file(tmp_path):
    assert read_error(tmp_path / "photo.jpg") == "photo.jpg: file not found"


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    assert read_error(tmp_path / "empty.png") == "empty.png: file is empty (0 bytes)"


def test_directory(tmp_path):
    (tmp_path / "folder.png").mkdir()
    assert read_error(tmp_path / "folder.png") == "folder.png: is a directory"


@pytest.mark.parametrize("name", ["noise.png", "noise.jpg"])
def test_random_bytes(tmp_path, name):
    (tmp_path / name).write_bytes(np.random.default_rng(7).bytes(2000))
    assert read_error(tmp_path / name) == f"{name}: not an image file (unrecognised format)"


@pytest.mark.parametrize("name", ["page.png", "page.jpg"])
def test_html_saved_as_image(tmp_path, name):
    (tmp_path / name).write_text("<!DOCTYPE html><html><body>404 Not Found</body></html>\n")
    assert read_error(tmp_path / name) == f"{name}: not an image file (unrecognised format)"


def test_text_that_starts_like_a_bmp(tmp_path):
    (tmp_path / "notes.bmp").write_text("BMW owners club: meeting on Tuesday at eight\n")
    expected = "notes.bmp: not an image file (unrecognised format)"
    assert read_error(tmp_path / "notes.bmp") == expected


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    "ext,writer",
    [
        (".png", "pillow"),
        (".jpg", "pillow"),
        (".tif", "pillow"),
        (".gif", "pillow"),
        (".bmp", "pillow"),
        (".webp", "pillow"),
        (".png", "rednet16"),
        (".tif", "rednet16"),
        (".tif", "rednet8"),
    ],
)
def test_truncated_files(tmp_path, ext, writer):
    path = tmp_path / f"cut{ext}"
    data = rand8(48, 64, 3, seed=70)
    if writer == "pillow":
        save_pil(path, data)
    else:
        bit_depth = 16 if writer == "rednet16" else 8
        write_photo(Photo(as_float(data, 255), bit_depth=bit_depth), path)
    read_photo(path)  # intact: fine
    assert read_error(_truncated(path)) == f"cut{ext}: image data is truncated or corrupt"


def test_huge_png_header_refused_before_decoding(tmp_path, monkeypatch):
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )
    path = tmp_path / "huge.png"
    path.write_bytes(png)

    def must_not_decode(*args, **kwargs):
        raise AssertionError("decoder called for an oversized image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", must_not_decode)
    monkeypatch.setattr(cv2, "imdecode", must_not_decode)
    assert read_error(path) == ("huge.png: image is 60000x60000 (3600 megapixels), larger than the 250 megapixel limit")


def _patch_jpeg_size(data: bytearray, w: int, h: int) -> None:
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", h, w)


def _patch_gif_size(data: bytearray, w: int, h: int) -> None:
    data[6:10] = struct.pack("<HH", w, h)
    desc = data.index(b"\x2c", 13)
    data[desc + 5 : desc + 9] = struct.pack("<HH", w, h)


def _patch_bmp_size(data: bytearray, w: int, h: int) -> None:
    data[18:26] = struct.pack("<ii", w, h)


@pytest.mark.parametrize(
    "ext,patch", [(".jpg", _patch_jpeg_size), (".gif", _patch_gif_size), (".bmp", _patch_bmp_size)]
)
def test_huge_headers_of_other_formats_refused(tmp_path, ext, patch):
    path = save_pil(tmp_path / f"huge{ext}", rand8(8, 8, 3))
    data = bytearray(path.read_bytes())
    patch(data, 60000, 50000)
    path.write_bytes(bytes(data))
    assert read_error(path) == (
        f"huge{ext}: image is 60000x50000 (3000 megapixels), larger than the 250 megapixel limit"
    )


def test_pixel_limit_is_checked_against_max_pixels(tmp_path, monkeypatch):
    path = save_pil(tmp_path / "small.png", rand8(10, 11, 3))
    monkeypatch.setattr("rednet.io.limits.MAX_PIXELS", 100)
    assert "image is 11x10" in read_error(path)
    monkeypatch.setattr("rednet.io.limits.MAX_PIXELS", 110)
    assert read_photo(path).width == 11
    assert MAX_PIXELS == 250_000_000


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_unreadable_file(tmp_path):
    path = save_pil(tmp_path / "secret.png", rand8(2, 2, 3))
    path.chmod(0)
    try:
        proc = run_python(
            "from rednet.io import read_photo, ImageReadError\n"
            "try:\n    read_photo('secret.png')\nexcept ImageReadError as e:\n    print(e)",
            tmp_path,
        )
    finally:
        path.chmod(0o644)
    assert proc.stdout.strip() == "secret.png: cannot read: permission denied", proc.stderr


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes about damaged TIFF tags
@pytest.mark.parametrize("ext", [".png", ".jpg", ".tif", ".gif", ".webp", ".bmp"])
def test_damaged_files_never_leak_other_exceptions(tmp_path, ext):
    source = tmp_path / f"src{ext}"
    save_pil(source, rand8(12, 10, 3, seed=80))
    good = source.read_bytes()
    rng = np.random.default_rng(81)
    victim = tmp_path / f"victim{ext}"
    for trial in range(24):
        data = bytearray(good)
        if trial % 3 == 0:
            data = data[: int(rng.integers(1, len(good)))]
        else:
            for _ in range(int(rng.integers(1, 6))):
                data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        victim.write_bytes(bytes(data))
        try:
            photo = read_photo(victim)
        except ImageReadError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(victim.name + ": ")
        else:
            assert photo.pixels.dtype == np.float32 and np.isfinite(photo.pixels).all()

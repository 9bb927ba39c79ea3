"""Tests for rednet.io.imageio: reading and writing photos and masks.

Every image is generated inside tmp_path by the test itself; all of them are tiny.
"""

from __future__ import annotations

import errno
import io
import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.unprivileged import run_python
from PIL import Image, ImageCms, ImageFile, ImageOps

from rednet.io import imageio
from rednet.io.imageio import (
    MAX_PIXELS,
    SUPPORTED_READ_EXTENSIONS,
    SUPPORTED_WRITE_EXTENSIONS,
    ImageReadError,
    ImageWriteError,
    MaskSizeError,
    Photo,
    is_supported_image_path,
    read_mask,
    read_photo,
    write_mask,
    write_photo,
)

MAKE = 0x010F
ORIENTATION = 0x0112
DATETIME_ORIGINAL = 0x9003


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def rand8(h, w, c=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = (h, w) if c == 1 else (h, w, c)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def rand16(h, w, c=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = (h, w) if c == 1 else (h, w, c)
    arr = rng.integers(0, 65536, shape, dtype=np.uint16)
    arr.flat[0], arr.flat[-1] = 0, 65535  # the extremes must survive too
    return arr


def smooth(h=32, w=32, c=3):
    """A gradient: JPEG and lossy WebP reproduce it closely."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    planes = [
        (x / (w - 1)) * 0.8 + 0.1,
        (y / (h - 1)) * 0.8 + 0.1,
        ((x + y) / (h + w - 2)) * 0.6 + 0.2,
    ]
    return np.stack(planes[:c], axis=2).astype(np.float32)


def as_float(arr, top):
    arr = arr[:, :, None] if arr.ndim == 2 else arr
    return arr.astype(np.float32) / top


def to_int(pixels, top):
    return np.round(pixels * top).astype(np.int64)


def exif_bytes(orientation=None, make="RED-Net Test", date=None):
    exif = Image.Exif()
    exif[MAKE] = make
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if date is not None:
        exif.get_ifd(0x8769)[DATETIME_ORIGINAL] = date
    return exif.tobytes()


def parse_exif(blob):
    exif = Image.Exif()
    exif.load(blob)
    return exif


def srgb_icc():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def png_chunk(ctype, body):
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def png_with_exif_chunk(png, exif):
    """Insert an eXIf chunk after IHDR (bytes 8..33) of an encoded PNG."""
    body = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
    return png[:33] + png_chunk(b"eXIf", body) + png[33:]


def save_pil(path, arr_or_image, fmt=None, **kwargs):
    im = arr_or_image if isinstance(arr_or_image, Image.Image) else Image.fromarray(arr_or_image)
    im.save(path, fmt, **kwargs)
    return Path(path)


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp"))


# ------------------------------------------------------------------------------------------------
# Photo
# ------------------------------------------------------------------------------------------------
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


def test_extension_lists():
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"} <= set(
        SUPPORTED_READ_EXTENSIONS
    )
    assert set(SUPPORTED_WRITE_EXTENSIONS) == {
        ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"
    }
    assert is_supported_image_path("a/b/PHOTO.JPG")
    assert is_supported_image_path(Path("x.tiff"))
    assert not is_supported_image_path("notes.txt")
    assert not is_supported_image_path("noextension")


def test_error_types():
    assert issubclass(ImageReadError, ValueError)
    assert issubclass(ImageWriteError, OSError)
    assert issubclass(MaskSizeError, ValueError)
    err = ImageWriteError("out.png: cannot write: No space left on device", "out.png", errno.ENOSPC)
    assert str(err) == "out.png: cannot write: No space left on device"
    assert err.errno == errno.ENOSPC


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


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_files_written_are_readable_by_opencv_and_pillow(tmp_path, ext):
    data = rand16(4, 5, 3, seed=9)
    out = tmp_path / f"x{ext}"
    write_photo(Photo(as_float(data, 65535), bit_depth=16, icc=srgb_icc(), exif=exif_bytes()), out)
    decoded = cv2.imdecode(np.fromfile(str(out), np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.dtype == np.uint16 and np.array_equal(decoded[..., ::-1], data)
    with Image.open(out) as im:
        assert im.size == (5, 4)
        assert im.getexif()[MAKE] == "RED-Net Test"
        assert im.info["icc_profile"] == srgb_icc()


def test_8bit_tiff_written_is_readable_by_pillow_and_opencv(tmp_path):
    data = rand8(6, 4, 3, seed=2)
    out = tmp_path / "x.tif"
    write_photo(Photo(as_float(data, 255)), out)
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im), data)
    assert np.array_equal(cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[..., ::-1], data)


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


def test_non_jpeg_has_no_quality(tmp_path):
    write_photo(Photo(smooth(4, 4)), tmp_path / "a.png")
    assert read_photo(tmp_path / "a.png").jpeg_quality is None


def test_webp_lossy_is_close_and_lossless_at_100(tmp_path):
    pixels = smooth()
    write_photo(Photo(pixels), tmp_path / "a.webp", jpeg_quality=90)
    photo = read_photo(tmp_path / "a.webp")
    assert photo.format == "WEBP" and np.abs(photo.pixels - pixels).mean() < 3 / 255
    data = rand8(5, 7, 3, seed=1)
    write_photo(Photo(as_float(data, 255)), tmp_path / "b.webp", jpeg_quality=100)
    assert np.array_equal(to_int(read_photo(tmp_path / "b.webp").pixels, 255), data)


def test_jpeg_quality_out_of_range(tmp_path):
    with pytest.raises(ValueError):
        write_photo(Photo(smooth(4, 4)), tmp_path / "a.jpg", jpeg_quality=0)
    with pytest.raises(ValueError):
        write_photo(Photo(smooth(4, 4)), tmp_path / "a.jpg", jpeg_quality=101)


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


def test_rgba_png_from_pillow(tmp_path):
    data = rand8(3, 4, 4, seed=21)
    photo = read_photo(save_pil(tmp_path / "rgba.png", data))
    assert not photo.is_gray
    assert np.array_equal(to_int(photo.pixels, 255), data[..., :3])
    assert np.array_equal(to_int(photo.alpha, 255), data[..., 3])


# ------------------------------------------------------------------------------------------------
# metadata
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ext,bit_depth",
    [(".png", 8), (".jpg", 8), (".tif", 8), (".webp", 8), (".png", 16), (".tif", 16)],
)
def test_exif_and_icc_survive(tmp_path, ext, bit_depth):
    icc = srgb_icc()
    exif = exif_bytes(orientation=1, date="2021:02:03 04:05:06")
    photo = Photo(smooth(8, 8), bit_depth=bit_depth, exif=exif, icc=icc)
    out = tmp_path / f"meta{ext}"
    assert write_photo(photo, out) == []
    back = read_photo(out)
    assert back.icc == icc
    parsed = parse_exif(back.exif)
    assert parsed[MAKE] == "RED-Net Test"
    assert parsed.get(ORIENTATION, 1) == 1
    assert parsed.get_ifd(0x8769).get(DATETIME_ORIGINAL) == "2021:02:03 04:05:06"
    # and other software sees it too
    with Image.open(out) as im:
        assert im.getexif()[MAKE] == "RED-Net Test"
        assert im.info.get("icc_profile") == icc


def test_16bit_png_metadata_chunks_are_valid(tmp_path):
    out = tmp_path / "m16.png"
    write_photo(Photo(smooth(4, 4), bit_depth=16, exif=exif_bytes(), icc=srgb_icc()), out)
    data = out.read_bytes()
    pos, order = 8, []
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(ctype + body), ctype
        order.append(ctype)
        pos += 12 + length
    assert order[0] == b"IHDR" and order[-1] == b"IEND"
    assert order.index(b"iCCP") < order.index(b"IDAT")
    assert order.index(b"eXIf") < order.index(b"IDAT")


def test_bmp_drops_metadata_quietly(tmp_path):
    write_photo(Photo(smooth(4, 4), exif=exif_bytes(), icc=srgb_icc()), tmp_path / "m.bmp")
    photo = read_photo(tmp_path / "m.bmp")
    assert photo.exif is None and photo.icc is None


def test_mismatched_icc_is_left_out(tmp_path):
    warnings = write_photo(Photo(smooth(4, 4, c=1), icc=srgb_icc()), tmp_path / "g.png")
    assert warnings and "profile" in warnings[0]
    assert read_photo(tmp_path / "g.png").icc is None


def test_write_resets_a_stray_orientation(tmp_path):
    photo = Photo(smooth(4, 6), exif=exif_bytes(orientation=6))
    write_photo(photo, tmp_path / "o.jpg")
    with Image.open(tmp_path / "o.jpg") as im:
        assert im.getexif()[ORIENTATION] == 1
        assert im.size == (6, 4)
    assert parse_exif(photo.exif)[ORIENTATION] == 6  # the photo itself is not modified


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(tmp_path, orientation):
    data = rand8(2, 3, 3, seed=orientation)
    path = save_pil(tmp_path / "o.png", data, exif=exif_bytes(orientation=orientation))
    photo = read_photo(path)
    with Image.open(path) as im:
        expected = np.asarray(ImageOps.exif_transpose(im))
    assert np.array_equal(to_int(photo.pixels, 255), expected)
    assert parse_exif(photo.exif).get(ORIENTATION) == 1
    assert parse_exif(photo.exif)[MAKE] == "RED-Net Test"


def test_jpeg_orientation_6_is_rotated_upright_and_reset(tmp_path):
    # a 2x3 (HxW) image with a bright left column: after rotating 90 degrees clockwise it
    # is 3x2 with the bright row at the top
    data = np.zeros((16, 24, 3), np.uint8)
    data[:, :8] = 255
    exif = exif_bytes(orientation=6, date="2020:01:01 10:00:00")
    path = save_pil(tmp_path / "rot.jpg", data, exif=exif, quality=95)
    photo = read_photo(path)
    assert (photo.height, photo.width) == (24, 16)
    assert photo.pixels[:6].mean() > 0.9 and photo.pixels[10:].mean() < 0.1
    parsed = parse_exif(photo.exif)
    assert parsed[ORIENTATION] == 1 and parsed[MAKE] == "RED-Net Test"
    assert parsed.get_ifd(0x8769)[DATETIME_ORIGINAL] == "2020:01:01 10:00:00"
    assert len(photo.exif) == len(exif)  # patched in place, nothing else lost
    # writing it back and reading again must not rotate a second time
    write_photo(photo, tmp_path / "again.jpg")
    again = read_photo(tmp_path / "again.jpg")
    assert (again.height, again.width) == (24, 16)


def test_alpha_rotates_with_the_pixels(tmp_path):
    data = rand8(2, 3, 4, seed=30)
    path = save_pil(tmp_path / "ra.png", data, exif=exif_bytes(orientation=8))
    photo = read_photo(path)
    assert np.array_equal(to_int(photo.alpha, 255), np.rot90(data[..., 3], 1))


def test_16bit_png_orientation_applied_once(tmp_path):
    data = rand16(2, 3, 3, seed=31)
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(data[..., ::-1]))
    path = tmp_path / "o16.png"
    path.write_bytes(png_with_exif_chunk(buf.tobytes(), exif_bytes(orientation=6)))
    photo = read_photo(path)
    assert photo.bit_depth == 16
    assert np.array_equal(to_int(photo.pixels, 65535), np.rot90(data, -1).astype(np.int64))
    assert parse_exif(photo.exif)[ORIENTATION] == 1


@pytest.mark.parametrize("compression", [None, "tiff_adobe_deflate"])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_tiff_orientation_applied_exactly_once(tmp_path, compression, bits, orientation):
    # Pillow and libtiff (inside OpenCV) would apply the tag on some paths themselves
    data = rand8(2, 3, 3, seed=32) if bits == 8 else rand16(2, 3, 1, seed=32)
    path = save_pil(
        tmp_path / "o.tif",
        data,
        tiffinfo={ORIENTATION: orientation, MAKE: "Scanner"},
        compression=compression,
    )
    photo = read_photo(path)
    assert photo.bit_depth == bits
    top = 255 if bits == 8 else 65535
    expected = {3: np.rot90(data, 2), 6: np.rot90(data, -1), 8: np.rot90(data, 1)}[orientation]
    assert np.array_equal(to_int(photo.pixels, top), as_float(expected, 1).astype(np.int64))
    parsed = parse_exif(photo.exif)
    assert parsed[ORIENTATION] == 1 and parsed[MAKE] == "Scanner"
    assert 273 not in parsed and 256 not in parsed  # layout tags of the TIFF are not "EXIF"


def test_damaged_exif_does_not_stop_reading(tmp_path):
    data = rand8(3, 3, 3)
    path = tmp_path / "bad_exif.png"
    buf = io.BytesIO()
    Image.fromarray(data).save(buf, "PNG")
    path.write_bytes(png_with_exif_chunk(buf.getvalue(), b"garbage that is not TIFF"))
    photo = read_photo(path)
    assert photo.exif is None and any("EXIF" in w for w in photo.warnings)
    assert np.array_equal(to_int(photo.pixels, 255), data)


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
    assert read_error(path) == (
        "huge.png: image is 60000x60000 (3600 megapixels), larger than the 250 megapixel limit"
    )


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
    monkeypatch.setattr(imageio, "MAX_PIXELS", 100)
    assert "image is 11x10" in read_error(path)
    monkeypatch.setattr(imageio, "MAX_PIXELS", 110)
    assert read_photo(path).width == 11
    assert MAX_PIXELS == 250_000_000


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_unreadable_file(tmp_path):
    path = save_pil(tmp_path / "secret.png", rand8(2, 2, 3))
    path.chmod(0)
    try:
        proc = run_python("from rednet.io.imageio import read_photo, ImageReadError\n"
                          "try:\n    read_photo('secret.png')\nexcept ImageReadError as e:\n    print(e)", tmp_path)
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


# ------------------------------------------------------------------------------------------------
# write errors and atomicity
# ------------------------------------------------------------------------------------------------
def small_photo(value=0.25):
    return Photo(np.full((4, 4, 3), value, np.float32))


@pytest.mark.parametrize("name", ["out.gif", "out.xyz", "out"])
def test_unsupported_extension(tmp_path, name):
    with pytest.raises(ImageWriteError) as info:
        write_photo(small_photo(), tmp_path / name)
    message = str(info.value)
    assert message.startswith(f"{name}: ")
    for ext in SUPPORTED_WRITE_EXTENSIONS:
        assert ext in message
    assert list(tmp_path.iterdir()) == []


def test_overwrite_false_refuses_existing_file(tmp_path):
    out = tmp_path / "keep.png"
    out.write_bytes(b"original")
    with pytest.raises(ImageWriteError) as info:
        write_photo(small_photo(), out, overwrite=False)
    assert str(info.value).startswith("keep.png: already exists")
    assert out.read_bytes() == b"original"
    assert leftovers(tmp_path) == []


def test_overwrite_false_writes_new_file_and_overwrite_true_replaces(tmp_path):
    out = tmp_path / "new.png"
    write_photo(small_photo(0.25), out, overwrite=False)
    assert read_photo(out).pixels.mean() == pytest.approx(64 / 255)
    write_photo(small_photo(0.75), out)
    assert read_photo(out).pixels.mean() == pytest.approx(191 / 255)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.png"]


def test_missing_folder_and_directory_destination(tmp_path):
    missing = r"^out\.png: cannot write: folder .* does not exist$"
    with pytest.raises(ImageWriteError, match=missing):
        write_photo(small_photo(), tmp_path / "nope" / "out.png")
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageWriteError, match=r"^dir\.png: is a directory$"):
        write_photo(small_photo(), tmp_path / "dir.png")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        proc = run_python("import errno, numpy as np\n"
                          "from rednet.io.imageio import Photo, write_photo, ImageWriteError\n"
                          "try:\n    write_photo(Photo(np.zeros((2, 3, 3), np.float32)), 'ro/out.png')\n"
                          "except ImageWriteError as e:\n    print(e, e.errno == errno.EACCES)", tmp_path)
    finally:
        folder.chmod(0o755)
    assert proc.stdout.strip() == "out.png: cannot write: Permission denied True", proc.stderr
    assert list(folder.iterdir()) == []


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_disk_full_leaves_no_temp_file_and_old_file_intact(tmp_path, monkeypatch, failing):
    # Simulated failures: works as root too, where a read-only folder would still be writable.
    out = tmp_path / "out.png"
    write_photo(small_photo(0.25), out)
    before = out.read_bytes()
    monkeypatch.setattr(os, failing, _disk_full)
    with pytest.raises(ImageWriteError) as info:
        write_photo(small_photo(0.75), out)
    monkeypatch.undo()
    assert str(info.value) == "out.png: cannot write: No space left on device"
    assert info.value.errno == errno.ENOSPC
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_permission_error_simulated(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(ImageWriteError) as info:
        write_photo(small_photo(), tmp_path / "out.jpg")
    monkeypatch.undo()
    assert str(info.value) == "out.jpg: cannot write: Permission denied"
    assert list(tmp_path.iterdir()) == []


def test_temp_file_lives_in_the_destination_folder(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src), Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_photo(small_photo(), tmp_path / "x.tif")
    (src, dst), = seen
    assert src.parent == dst.parent == tmp_path
    assert src.name.startswith(".x.tif.") and src.name.endswith(".tmp")


def test_write_does_not_modify_the_photo(tmp_path):
    photo = Photo(smooth(4, 4), alpha=np.full((4, 4), 0.5, np.float32), exif=exif_bytes(6))
    pixels, alpha, exif = photo.pixels.copy(), photo.alpha.copy(), photo.exif
    for ext in SUPPORTED_WRITE_EXTENSIONS:
        write_photo(photo, tmp_path / f"w{ext}")
    assert np.array_equal(photo.pixels, pixels) and np.array_equal(photo.alpha, alpha)
    assert photo.exif == exif and photo.warnings == []


# ------------------------------------------------------------------------------------------------
# masks
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

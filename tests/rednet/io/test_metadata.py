"""Tests for rednet.io.metadata: EXIF, orientation and ICC profiles, read and carried
across to the files written.

Every image is generated inside tmp_path by the test itself; all of them are tiny.
"""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from rednet.io import Photo, read_photo, write_photo
from tests.rednet.io.helpers import (
    DATETIME_ORIGINAL,
    MAKE,
    ORIENTATION,
    as_float,
    exif_bytes,
    parse_exif,
    png_with_exif_chunk,
    rand8,
    rand16,
    save_pil,
    smooth,
    srgb_icc,
    to_int,
)


# ------------------------------------------------------------------------------------------------
# carried across
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


# ------------------------------------------------------------------------------------------------
# orientation
# ------------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------------
# damage
# ------------------------------------------------------------------------------------------------
def test_damaged_exif_does_not_stop_reading(tmp_path):
    data = rand8(3, 3, 3)
    path = tmp_path / "bad_exif.png"
    buf = io.BytesIO()
    Image.fromarray(data).save(buf, "PNG")
    path.write_bytes(png_with_exif_chunk(buf.getvalue(), b"garbage that is not TIFF"))
    photo = read_photo(path)
    assert photo.exif is None and any("EXIF" in w for w in photo.warnings)
    assert np.array_equal(to_int(photo.pixels, 255), data)

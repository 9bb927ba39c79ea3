"""Helpers shared by the photo I/O tests (test_photo, test_read, test_write, ...): tiny synthetic
images, EXIF blocks and PNG chunks made in memory."""

from __future__ import annotations

import functools
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from rednet.io import Photo

MAKE = 0x010F
ORIENTATION = 0x0112
DATETIME_ORIGINAL = 0x9003


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


@functools.cache
def srgb_icc():
    """An sRGB ICC profile, made once: LittleCMS stamps the header with the current second, so two
    profiles made a second apart differ (a test comparing them would fail now and then)."""
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


def small_photo(value=0.25):
    return Photo(np.full((4, 4, 3), value, np.float32))

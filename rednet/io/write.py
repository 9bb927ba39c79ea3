"""Writing a `Photo` to a file (`write_photo`).

* The format comes from the extension (`formats.py`); the file is encoded in memory (`encode.py`),
  written to a temporary file in the destination folder and renamed over the destination
  (`atomic.py`), so a failed write never leaves a partial file or damages an existing one.
* Every failure to write is an `ImageWriteError` (an OSError) with one line naming the file.
* PNGs are written "fast" unless asked for "small" (`png_compression`): see docs/bench.md for what
  each costs.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import cv2

from rednet.errors import ImageWriteError
from rednet.io import png
from rednet.io.atomic import DestinationExists, atomic_write_bytes
from rednet.io.encode import encode_readable
from rednet.io.formats import display_name, write_format
from rednet.io.library_messages import LibraryMessages
from rednet.io.photo import Photo

__all__ = ["write_photo", "PNG_COMPRESSIONS", "DEFAULT_PNG_COMPRESSION"]

PNG_COMPRESSIONS = tuple(png.COMPRESSIONS)
"""`png_compression` choices: "fast" (zlib level 1 with Z_RLE / 16-bit level 4: 4.8x / 2.4x faster to
save than the common level 6, a 2.5% / 7% larger file) and "small" (level 9: the smallest file,
8-13% smaller than "fast", 20-35x slower)."""
DEFAULT_PNG_COMPRESSION = "fast"


def _checked_png_compression(choice: str) -> str:
    if choice not in PNG_COMPRESSIONS:
        raise ValueError(f"png_compression must be one of {', '.join(PNG_COMPRESSIONS)}, got {choice!r}")
    return choice


def write_photo(
    photo: Photo,
    path: str | os.PathLike[str],
    *,
    jpeg_quality: int = 95,
    overwrite: bool = True,
    png_compression: str = DEFAULT_PNG_COMPRESSION,
) -> list[str]:
    """Write `photo` to `path`; the format comes from the extension (SUPPORTED_WRITE_EXTENSIONS).

    `jpeg_quality` (1..100) is used by JPEG and WebP (WebP at 100 is lossless). JPEG at 90 and above
    is written without chroma subsampling. 16-bit photos stay 16-bit in PNG and TIFF and become
    8-bit elsewhere. Alpha is kept by PNG, TIFF and WebP; JPEG and BMP composite it over white.
    Gray stays gray except in WebP (which has no gray mode) and 16-bit gray+alpha TIFF (saved as
    RGBA). EXIF and ICC are written to PNG, JPEG, TIFF and WebP; a profile whose colour space does
    not match the pixels (RGB profile on a gray image) is left out.

    `png_compression` ("fast" or "small", PNG only): "fast" saves a 12 MP photo in about 1 s (2 s at
    16 bits), 2.4-4.8x faster than zlib's usual level 6, for a 2.5-7% larger file; "small" gives the
    smallest file (8.5% smaller than "fast" for 8-bit, 13% for 16-bit) and is 20-35x slower to save
    (30-40 s). Both are lossless, with the same bit depth, alpha and metadata.

    The write is atomic: a temporary file in the same folder is renamed over `path`, and on failure
    the temporary file is removed and an existing `path` is left as it was.

    Returns a list of warnings (usually empty), e.g. metadata that had to be left out.
    Raises `ImageWriteError` (an OSError) for an unsupported extension, an existing file with
    `overwrite=False`, a missing folder and any operating-system error (disk full, permissions,
    read-only folder); ValueError for a `jpeg_quality` out of range or an unknown `png_compression`.
    """
    path = Path(path)
    name = display_name(path)
    fmt = write_format(path)
    if not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f"jpeg_quality must be 1..100, got {jpeg_quality!r}")
    compression = _checked_png_compression(png_compression)
    _check_destination(path, name, overwrite)
    warnings: list[str] = []
    try:
        with LibraryMessages() as lib:
            data = encode_readable(photo, fmt, int(jpeg_quality), warnings, name, compression)
            warnings.extend(n for n in lib.notes() if n not in warnings)
    except ImageWriteError:
        raise
    except MemoryError as exc:
        raise ImageWriteError(f"{name}: cannot write: not enough memory to encode", path) from exc
    except OSError as exc:
        raise _os_write_error(name, path, exc) from exc
    except (ValueError, TypeError, struct.error, zlib.error, cv2.error) as exc:
        raise ImageWriteError(f"{name}: cannot write: encoding failed ({exc})", path) from exc
    try:
        # keep_mode: a photo saved over keeps the permissions the user gave it
        atomic_write_bytes(path, data, overwrite=overwrite, keep_mode=True, make_folders=False)
    except DestinationExists as exc:
        raise ImageWriteError(f"{name}: already exists (not overwriting)", path) from exc
    except OSError as exc:
        raise _os_write_error(name, path, exc) from exc
    return warnings


def _check_destination(path: Path, name: str, overwrite: bool) -> None:
    if path.is_dir():
        raise ImageWriteError(f"{name}: is a directory", path)
    folder = path.parent
    if not folder.is_dir():
        raise ImageWriteError(f"{name}: cannot write: folder {folder} does not exist", path)
    if not overwrite and os.path.lexists(path):
        raise ImageWriteError(f"{name}: already exists (not overwriting)", path)


def _os_write_error(name: str, path: Path, exc: OSError) -> ImageWriteError:
    reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else "") or str(exc)
    reason = reason or type(exc).__name__
    return ImageWriteError(f"{name}: cannot write: {reason}", path, errno=exc.errno)

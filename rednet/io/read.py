"""Reading a photo file into a `Photo` (`read_photo`).

* PNG, JPEG, TIFF, WebP, BMP and GIF, recognised by content, not by extension.
* Pixels are decoded by Pillow or OpenCV (`decode.py`); metadata always comes from Pillow or from
  the file's own structures (`metadata.py`).
* The EXIF orientation is applied to the pixels and reset to 1 in the stored EXIF (the rest of the
  EXIF block is kept byte for byte).
* The file is opened through `safe_files`: regular files only (a named pipe or a device is refused
  at once, never read) and at most a few GB.
* The header size is checked against `MAX_PIXELS` (limits.py) before anything is decoded; a PNG
  whose image data ends before its last row is refused even when its zlib stream is well formed.
* Library warnings (Pillow's, and what libpng/libtiff print themselves) never reach stderr: they
  become one-line notes in `Photo.warnings`, or are dropped when the file is refused anyway.
* Every failure is an `ImageReadError` with one line naming the file.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import threading
import zlib
from pathlib import Path

import cv2

# The plugins of the formats we read, by name: Image.init() would import all forty (30 ms at start-up).
from PIL import (  # noqa: F401
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    UnidentifiedImageError,
    WebPImagePlugin,
)

from rednet.errors import ImageReadError
from rednet.io import limits, metadata, png
from rednet.io.decode import decode_opencv, decode_pillow, needs_opencv
from rednet.io.formats import display_name
from rednet.io.jpeg_quality import estimate_jpeg_quality
from rednet.io.library_messages import LibraryMessages
from rednet.io.photo import Photo
from rednet.io.safe_files import FileRefused, read_bytes

__all__ = ["read_photo", "read_image"]

# Pillow plugins we let identify a file ("DIB" is a BMP variant). JPEGs with a multi-picture
# extension, which many phones and cameras write, come back from the JPEG plugin as format "MPO".
_PIL_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP", "BMP", "DIB", "GIF")
_ANIMATED_WHAT = {"GIF": "animated GIF", "PNG": "animated PNG", "WEBP": "animated WebP"}

# Exceptions that decoders raise on damaged data (Pillow, OpenCV, zlib, struct, numpy reshapes).
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    EOFError,
    ZeroDivisionError,
    OverflowError,
    struct.error,
    zlib.error,
    cv2.error,
)


def read_photo(path: str | os.PathLike[str]) -> Photo:
    """Read a PNG, JPEG, TIFF, WebP, BMP or GIF file into a `Photo`.

    Raises `ImageReadError` (a ValueError) for missing, empty, unreadable, truncated, corrupt or
    non-image files, directories, unsupported layouts and images over `MAX_PIXELS` pixels.
    """
    return read_image(Path(path), "photo")


def read_image(path: Path, kind: str) -> Photo:
    """`read_photo` for a file of `kind` ("photo" or "mask": what a special file is told it is not)."""
    name = display_name(path)
    data = _read_bytes(path, name, kind)
    with LibraryMessages() as lib:  # no raw library warnings on stderr: ours go into Photo.warnings
        photo = _read_photo_data(data, path, name)
        notes = lib.notes()
    for note in notes:
        if note not in photo.warnings:
            photo.warnings.append(note)
    return photo


def _read_photo_data(data: bytes, path: Path, name: str) -> Photo:
    sniffed = _sniff_format(data)
    if sniffed != "PNG":
        return _open_and_decode(data, path, name, sniffed)
    # The completeness check inflates the image data a second time: it runs on its own thread beside
    # the decoder (zlib and Pillow let go of the GIL), and its message wins when both fail.
    failure: list[ImageReadError] = []

    def check() -> None:
        try:
            png.check_complete(data, name, path, limits.MAX_PIXELS)
        except ImageReadError as exc:
            failure.append(exc)

    checker = threading.Thread(target=check, name="png-check", daemon=True)
    checker.start()
    try:
        photo = _open_and_decode(data, path, name, sniffed)
    finally:
        checker.join()
        if failure:
            raise failure[0]
    return photo


def _open_and_decode(data: bytes, path: Path, name: str, sniffed: str | None) -> Photo:
    # TIFF decoders (Pillow, libtiff inside OpenCV) apply the orientation tag themselves, some
    # paths only sometimes: decode a copy with the tag set to 1 and orient the pixels here, as for
    # every other format.
    pixel_data = metadata.without_orientation(data) if sniffed == "TIFF" else data
    try:
        try:
            im = Image.open(io.BytesIO(pixel_data), formats=_pillow_formats())
        except ValueError as exc:
            if sniffed != "PNG" or "MAX_TEXT" not in str(exc):
                raise
            # A colour profile or text larger than Pillow reads: decode the pixels without them (the
            # profile is still read by metadata.png_metadata, up to its own limit).
            pixel_data = png.without_chunks(data, png.TEXT_CHUNKS)
            im = Image.open(io.BytesIO(pixel_data), formats=_pillow_formats())
    except Image.DecompressionBombError as exc:
        raise _too_large_error(name, path, _header_size(data), exc) from exc
    except UnidentifiedImageError as exc:
        if sniffed == "TIFF":
            # Layouts Pillow does not know (float RGB, 16-bit gray+alpha, ...): OpenCV may.
            return _read_tiff_with_opencv(data, pixel_data, path, name)
        raise _unidentified_error(name, path, sniffed) from exc
    except MemoryError as exc:
        raise ImageReadError(f"{name}: not enough memory to read this image", path) from exc
    except _DECODE_ERRORS as exc:  # a plugin recognised the start, then choked on the header
        raise _unidentified_error(name, path, sniffed) from exc

    with im:
        try:
            return _decode(im, data, pixel_data, path, name)
        except ImageReadError:
            raise
        except Image.DecompressionBombError as exc:
            raise _too_large_error(name, path, im.size, exc) from exc
        except MemoryError as exc:
            w, h = im.size
            raise ImageReadError(f"{name}: not enough memory to read this {w}x{h} image", path) from exc
        except _DECODE_ERRORS as exc:
            raise ImageReadError(f"{name}: image data is truncated or corrupt", path) from exc


def _read_bytes(path: Path, name: str, kind: str = "photo") -> bytes:
    """The file's bytes: regular files only (a pipe or a device is refused, never read), at most
    the cap of `kind` (safe_files.KINDS)."""
    try:
        data = read_bytes(path, kind)
    except FileRefused as exc:
        raise ImageReadError(f"{name}: {exc.reason}", path) from None
    except MemoryError as exc:
        raise ImageReadError(f"{name}: not enough memory to read this file", path) from exc
    if not data:
        raise ImageReadError(f"{name}: file is empty (0 bytes)", path)
    return data


def _pillow_formats() -> list[str]:
    return [fmt for fmt in _PIL_FORMATS if fmt in Image.OPEN]


def _sniff_format(data: bytes) -> str | None:
    """The supported format a file's first bytes announce (whether or not the rest is intact)."""
    if data.startswith(png.SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:2] == b"BM" and len(data) >= 18:
        (header_size,) = struct.unpack("<I", data[14:18])
        if header_size in (12, 16, 40, 52, 56, 64, 108, 124):
            return "BMP"
    return None


# --- size limits and error wording --------------------------------------------------------------
def _unidentified_error(name: str, path: Path, sniffed: str | None) -> ImageReadError:
    if sniffed is not None:
        return ImageReadError(f"{name}: image data is truncated or corrupt", path)
    return ImageReadError(f"{name}: not an image file (unrecognised format)", path)


def _megapixels(pixels: float, limit: float | None = None) -> str:
    mp = pixels / 1e6
    if mp >= 100 and (limit is None or round(mp) > limit):
        return f"{mp:.0f}"
    return f"{mp:.1f}" if mp >= 1 else f"{mp:.2g}"


def _too_large_error(
    name: str, path: Path, size: tuple[int, int] | None, exc: BaseException | None = None
) -> ImageReadError:
    limit_mp = limits.MAX_PIXELS / 1e6
    limit_text = f"{limit_mp:g}"
    if size is not None:
        w, h = size
        return ImageReadError(
            f"{name}: image is {w}x{h} ({_megapixels(w * h, limit_mp)} megapixels), "
            f"larger than the {limit_text} megapixel limit",
            path,
        )
    match = re.search(r"\((\d+) pixels\)", str(exc or ""))
    if match:
        return ImageReadError(
            f"{name}: image is {_megapixels(int(match.group(1)), limit_mp)} megapixels, "
            f"larger than the {limit_text} megapixel limit",
            path,
        )
    return ImageReadError(f"{name}: image is larger than the {limit_text} megapixel limit", path)


def _header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header, without Pillow's decompression-bomb check (best effort)."""
    if data.startswith(png.SIGNATURE) and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    try:
        Image.preinit()
        for fmt in _pillow_formats():
            entry = Image.OPEN.get(fmt)
            if entry is None:
                continue
            factory, accept = entry
            if accept is not None:
                accepted = accept(data[:16])
                if isinstance(accepted, str) or not accepted:
                    continue
            try:
                return tuple(factory(io.BytesIO(data), "").size)  # type: ignore[return-value]
            except Exception:  # noqa: BLE001 - any failure just means "size unknown"
                continue
    except Exception:  # noqa: BLE001
        pass
    return None


def _check_size(size: tuple[int, int], name: str, path: Path) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageReadError(f"{name}: image has no pixels ({w}x{h})", path)
    if w * h > limits.MAX_PIXELS:
        raise _too_large_error(name, path, (w, h))


# --- from an opened file to a Photo -------------------------------------------------------------
def _frame_count(im: Image.Image) -> int:
    try:
        return int(getattr(im, "n_frames", 1) or 1)
    except Exception:  # noqa: BLE001 - a damaged later frame does not stop us reading the first
        return 1
    finally:
        with contextlib.suppress(Exception):
            if im.tell() != 0:
                im.seek(0)


def _decode(im: Image.Image, data: bytes, pixel_data: bytes, path: Path, name: str) -> Photo:
    _check_size(im.size, name, path)
    fmt = "JPEG" if im.format == "MPO" else (im.format or _sniff_format(data))
    warnings: list[str] = []

    n_frames = _frame_count(im)
    if n_frames > 1 and fmt != "JPEG":
        if fmt == "TIFF":
            warnings.append(f"multi-page TIFF: only the first of {n_frames} pages was read")
        else:
            what = _ANIMATED_WHAT.get(fmt or "", "multi-frame image")
            warnings.append(f"{what}: only the first of {n_frames} frames was read")

    # --- metadata ---------------------------------------------------------------------------
    if fmt == "PNG":
        icc, raw_exif = metadata.png_metadata(data, warnings)
    elif fmt == "TIFF":
        icc, raw_exif = metadata.tiff_metadata(data, warnings)
        if icc is None:
            icc = im.info.get("icc_profile") or None
    else:
        icc = im.info.get("icc_profile") or None
        raw_exif = im.info.get("exif") or None

    jpeg_quality = estimate_jpeg_quality(im) if fmt == "JPEG" else None

    # --- pixels ------------------------------------------------------------------------------
    if needs_opencv(im, data, fmt):
        if fmt == "PNG":
            gray_hint = png.is_gray(data)
        else:
            gray_hint = im.mode in ("L", "LA", "I", "F") or im.mode.startswith("I;16")
        if fmt == "TIFF" and im.tag_v2.get(262) == 5:
            raise ImageReadError(f"{name}: CMYK TIFF files with more than 8 bits per channel are not supported", path)
        pixels, alpha, bit_depth = decode_opencv(pixel_data, name, path, gray_hint)
        samples8 = None
    else:
        pixels, alpha, bit_depth, icc, samples8 = decode_pillow(im, icc, warnings, name, path)

    exif = metadata.normalize_exif(raw_exif, warnings)
    (pixels, alpha, samples8), exif = metadata.upright((pixels, alpha, samples8), exif)

    return Photo(
        pixels=pixels,
        alpha=alpha,
        bit_depth=bit_depth,
        exif=exif,
        icc=bytes(icc) if icc else None,
        format=fmt,
        jpeg_quality=jpeg_quality,
        path=path,
        warnings=warnings,
        samples8=samples8,
    )


def _read_tiff_with_opencv(data: bytes, pixel_data: bytes, path: Path, name: str) -> Photo:
    """TIFF layouts Pillow cannot open; the size is checked from the directory before decoding."""
    try:
        fp = io.BytesIO(data)
        ifd = TiffImagePlugin.ImageFileDirectory_v2(fp.read(8))
        fp.seek(ifd.next)
        ifd.load(fp)
        width, height = int(ifd[256]), int(ifd[257])
        more_pages = ifd.next != 0
        photometric = ifd.get(262)
    except Exception as exc:  # noqa: BLE001 - no readable directory: damaged file
        raise ImageReadError(f"{name}: image data is truncated or corrupt", path) from exc
    _check_size((width, height), name, path)
    if photometric == 5:
        raise ImageReadError(f"{name}: this kind of CMYK TIFF file is not supported", path)
    warnings: list[str] = []
    if more_pages:
        warnings.append("multi-page TIFF: only the first page was read")
    icc, raw_exif = metadata.tiff_metadata(data, warnings)
    try:
        pixels, alpha, bit_depth = decode_opencv(pixel_data, name, path, photometric in (0, 1))
    except ImageReadError:
        raise
    except MemoryError as exc:
        raise ImageReadError(f"{name}: not enough memory to read this image", path) from exc
    except _DECODE_ERRORS as exc:
        raise ImageReadError(f"{name}: image data is truncated or corrupt", path) from exc
    exif = metadata.normalize_exif(raw_exif, warnings)
    pixels, alpha, exif = metadata.apply_orientation(pixels, alpha, exif)
    return Photo(
        pixels=pixels,
        alpha=alpha,
        bit_depth=bit_depth,
        exif=exif,
        icc=icc,
        format="TIFF",
        path=path,
        warnings=warnings,
    )

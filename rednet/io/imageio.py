"""Reading and writing photos and masks.

Everything the rest of RED-Net Studio sees is a `Photo`: float32 pixels in 0..1 (HxWx1 gray or
HxWx3 colour), an optional alpha plane carried through untouched, the bit depth of the source (8 or
16) and the metadata worth keeping (EXIF, ICC profile, JPEG quality).

Reading (`read_photo`)
  * PNG, JPEG, TIFF, WebP, BMP and GIF, recognised by content, not by extension.
  * 8-bit data is decoded by Pillow; 16-bit (and float) PNG/TIFF by OpenCV, because Pillow truncates
    16-bit colour to 8 bits. Metadata always comes from Pillow or from the file's own structures.
  * The EXIF orientation is applied to the pixels and reset to 1 in the stored EXIF (the rest of the
    EXIF block is kept byte for byte).
  * The file is opened through `safe_files`: regular files only (a named pipe or a device is refused
    at once, never read) and at most a few GB.
  * The header size is checked against `MAX_PIXELS` before anything is decoded; a PNG whose image
    data ends before its last row is refused even when its zlib stream is well formed.
  * Library warnings (Pillow's, and what libpng/libtiff print themselves) never reach stderr: they
    become one-line notes in `Photo.warnings`, or are dropped when the file is refused anyway.
  * Every failure is an `ImageReadError` with one line naming the file.

Writing (`write_photo`)
  * Format from the extension; the file is encoded in memory, written to a temporary file in the
    destination folder and renamed over the destination, so a failed write never leaves a partial
    file or damages an existing one.
  * 16 bits are kept in PNG and TIFF; alpha in PNG, TIFF and WebP (JPEG and BMP composite it over
    white); EXIF and ICC go into PNG, JPEG, TIFF and WebP.
  * What is written reads back: metadata a format (or the common readers of it) cannot hold — a
    colour profile over 1 MB in PNG (Pillow's limit), EXIF over 64 KB or a profile over 16.7 MB in
    JPEG — is left out with a warning, and the encoded header is parsed once more before writing.
  * Every failure to write is an `ImageWriteError` (an OSError) with one line naming the file.

Importing this module raises Pillow's own decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`)
to at least `MAX_PIXELS`, so that photos up to our limit can be decoded; larger ones are refused
here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageFile, PngImagePlugin, TiffImagePlugin, TiffTags, UnidentifiedImageError

from rednet.io import library_messages
from rednet.io.jpeg_quality import estimate_jpeg_quality
from rednet.io.library_messages import LibraryMessages
from rednet.io.safe_files import FileRefused, format_size, read_bytes
from rednet.io.temp_files import temp_path

try:  # Pillow is normally built with LittleCMS; colour management is optional all the same.
    from PIL import ImageCms
except ImportError:  # pragma: no cover
    ImageCms = None  # type: ignore[assignment]

__all__ = [
    "MAX_PIXELS",
    "SUPPORTED_READ_EXTENSIONS",
    "SUPPORTED_WRITE_EXTENSIONS",
    "ImageReadError",
    "ImageWriteError",
    "MaskSizeError",
    "Photo",
    "is_supported_image_path",
    "read_mask",
    "read_photo",
    "write_mask",
    "write_photo",
]

MAX_PIXELS = 250_000_000
"""Largest width x height `read_photo` accepts; larger headers are refused before decoding."""

SUPPORTED_READ_EXTENSIONS: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".tif", ".tiff", ".webp", ".bmp", ".gif",
)  # fmt: skip
SUPPORTED_WRITE_EXTENSIONS: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp",
)  # fmt: skip

_WRITE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
}
# Pillow plugins we let identify a file ("DIB" is a BMP variant). JPEGs with a multi-picture
# extension, which many phones and cameras write, come back from the JPEG plugin as format "MPO".
_PIL_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP", "BMP", "DIB", "GIF")
_ANIMATED_WHAT = {"GIF": "animated GIF", "PNG": "animated PNG", "WEBP": "animated WebP"}

# Keep Pillow strict: a truncated file must fail, not come back padded with grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_ORIENTATION_TAG = 0x0112
_EXIF_IFD_TAG = 0x8769
_GPS_IFD_TAG = 0x8825
_ICC_TIFF_TAG = 34675
# Descriptive IFD0 tags that move between a TIFF's own directory and an EXIF block (everything else
# in a TIFF directory describes the pixel layout and must not be copied).
_TIFF_EXIF_TAGS = (270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 316, 33432)
_MAX_ICC_BYTES = 64 * 1024 * 1024
_JPEG_MAX_EXIF = 65533 - 2  # one APP1 segment
_JPEG_MAX_ICC = 255 * (65533 - 14)  # at most 255 APP2 segments of "ICC_PROFILE\0" + 2 bytes + data
# What Pillow (and so our own reader, and many other programs) reads of a PNG colour profile: larger
# ones make the whole file unreadable there, so they are left out of the PNGs we write.
_PNG_MAX_ICC = PngImagePlugin.MAX_TEXT_CHUNK
_PNG_TEXT_CHUNKS = (b"iCCP", b"tEXt", b"zTXt", b"iTXt")
_WEBP_MAX_SIDE = 16383
_JPEG_MAX_SIDE = 65535
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------
class ImageReadError(ValueError):
    """A photo or mask could not be read. `str()` is one line: "<file name>: <what is wrong>"."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None):
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ImageWriteError(OSError):
    """A photo or mask could not be written. `str()` is one line: "<file name>: <what is wrong>".

    When the cause was an operating-system error its number is in `errno` (e.g. errno.ENOSPC).
    """

    def __init__(
        self, message: str, path: str | os.PathLike[str] | None = None, errno: int | None = None
    ):
        super().__init__(message)
        self.path = Path(path) if path is not None else None
        if errno is not None:
            self.errno = errno  # without strerror, str() stays the plain message


class MaskSizeError(ValueError):
    """A mask does not have the size of the photo it belongs to."""


# ------------------------------------------------------------------------------------------------
# Photo
# ------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Photo:
    """A decoded photo.

    pixels:       float32 HxWxC in 0..1, C = 1 (gray) or 3 (RGB). A 2-D array is taken as gray.
    alpha:        float32 HxW in 0..1 or None; carried through untouched.
    bit_depth:    8 or 16 (what the source file had; decides the depth written to PNG/TIFF).
    exif:         EXIF block ("Exif\\0\\0" + TIFF structure) with the orientation already applied to
                  the pixels and reset to 1, or None.
    icc:          ICC profile bytes or None (None means sRGB).
    format:       Pillow's name of the source format ("PNG", "JPEG", "TIFF", "WEBP", "BMP", "GIF").
    jpeg_quality: quality estimated from the JPEG quantization tables, or None.
    path:         the file it was read from, or None.
    warnings:     things the user should know about how it was read (e.g. only the first frame).
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    exif: bytes | None = None
    icc: bytes | None = None
    format: str | None = None
    jpeg_quality: int | None = None
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        pixels = np.asarray(self.pixels, dtype=np.float32)
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 3):
            raise ValueError(
                f"Photo.pixels must be HxWx1 or HxWx3, got an array of shape {pixels.shape}"
            )
        if pixels.shape[0] < 1 or pixels.shape[1] < 1:
            raise ValueError(f"Photo.pixels is empty (shape {pixels.shape})")
        self.pixels = pixels
        if self.alpha is not None:
            alpha = np.asarray(self.alpha, dtype=np.float32)
            if alpha.ndim == 3 and alpha.shape[2] == 1:
                alpha = alpha[:, :, 0]
            if alpha.shape != pixels.shape[:2]:
                raise ValueError(
                    f"Photo.alpha must be {pixels.shape[0]}x{pixels.shape[1]} (HxW) like the "
                    f"pixels, got shape {alpha.shape}"
                )
            self.alpha = alpha
        if self.bit_depth not in (8, 16):
            raise ValueError(f"Photo.bit_depth must be 8 or 16, got {self.bit_depth!r}")
        if self.path is not None and not isinstance(self.path, Path):
            self.path = Path(self.path)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def is_gray(self) -> bool:
        return self.pixels.shape[2] == 1

    @property
    def has_alpha(self) -> bool:
        return self.alpha is not None

    def replace(self, **changes: Any) -> "Photo":
        """A copy with some fields changed (arrays not named are shared; the warnings list is
        copied)."""
        changes.setdefault("warnings", list(self.warnings))
        return dataclasses.replace(self, **changes)


# ------------------------------------------------------------------------------------------------
# Paths
# ------------------------------------------------------------------------------------------------
def is_supported_image_path(path: str | os.PathLike[str]) -> bool:
    """True when the file name has an extension `read_photo` is meant for (case-insensitive)."""
    return Path(path).suffix.lower() in SUPPORTED_READ_EXTENSIONS


def _display_name(path: Path) -> str:
    return path.name or str(path)


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------
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
    return _read_photo(Path(path), "photo")


def _read_photo(path: Path, kind: str) -> Photo:
    """`read_photo` for a file of `kind` ("photo" or "mask": what a special file is told it is not)."""
    name = _display_name(path)
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
    # TIFF decoders (Pillow, libtiff inside OpenCV) apply the orientation tag themselves, some
    # paths only sometimes: decode a copy with the tag set to 1 and orient the pixels here, as for
    # every other format.
    pixel_data = _without_orientation(data) if sniffed == "TIFF" else data

    if sniffed == "PNG":
        _check_png_complete(data, name, path)
    try:
        try:
            im = Image.open(io.BytesIO(pixel_data), formats=_pillow_formats())
        except ValueError as exc:
            if sniffed != "PNG" or "MAX_TEXT" not in str(exc):
                raise
            # A colour profile or text larger than Pillow reads: decode the pixels without them (the
            # profile is still read by _png_metadata, up to _MAX_ICC_BYTES).
            pixel_data = _png_without_chunks(data, _PNG_TEXT_CHUNKS)
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
            raise ImageReadError(
                f"{name}: not enough memory to read this {w}x{h} image", path
            ) from exc
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
    Image.init()  # no-op after the first call
    return [fmt for fmt in _PIL_FORMATS if fmt in Image.OPEN]


def _sniff_format(data: bytes) -> str | None:
    """The supported format a file's first bytes announce (whether or not the rest is intact)."""
    if data.startswith(_PNG_SIGNATURE):
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
    limit_mp = MAX_PIXELS / 1e6
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
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":
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
    if w * h > MAX_PIXELS:
        raise _too_large_error(name, path, (w, h))


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
        icc, raw_exif = _png_metadata(data, warnings)
    elif fmt == "TIFF":
        icc, raw_exif = _tiff_metadata(data, warnings)
        if icc is None:
            icc = im.info.get("icc_profile") or None
    else:
        icc = im.info.get("icc_profile") or None
        raw_exif = im.info.get("exif") or None

    jpeg_quality = estimate_jpeg_quality(im) if fmt == "JPEG" else None

    # --- pixels ------------------------------------------------------------------------------
    if _needs_opencv(im, data, fmt):
        if fmt == "PNG":
            gray_hint = _png_is_gray(data)
        else:
            gray_hint = im.mode in ("L", "LA", "I", "F") or im.mode.startswith("I;16")
        if fmt == "TIFF" and im.tag_v2.get(262) == 5:
            raise ImageReadError(
                f"{name}: CMYK TIFF files with more than 8 bits per channel are not supported", path
            )
        pixels, alpha, bit_depth = _decode_opencv(pixel_data, name, path, gray_hint)
    else:
        pixels, alpha, bit_depth, icc = _decode_pillow(im, icc, warnings, name, path)

    exif = _normalize_exif(raw_exif, warnings)
    pixels, alpha, exif = _apply_orientation(pixels, alpha, exif)

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
    )


def _needs_opencv(im: Image.Image, data: bytes, fmt: str | None) -> bool:
    """16-bit and float PNG/TIFF data is decoded by OpenCV (Pillow truncates 16-bit colour)."""
    if fmt == "PNG":
        return data[12:16] == b"IHDR" and data[24] == 16
    if fmt == "TIFF":
        tags = getattr(im, "tag_v2", {})
        bits = tags.get(258, 1)
        bits = max(bits) if isinstance(bits, tuple) else bits
        sample_format = tags.get(339, 1)
        sample_format = max(sample_format) if isinstance(sample_format, tuple) else sample_format
        return int(bits) > 8 or int(sample_format) == 3
    return False


def _png_is_gray(data: bytes) -> bool:
    return data[12:16] == b"IHDR" and data[25] in (0, 4)


def _decode_pillow(
    im: Image.Image, icc: bytes | None, warnings: list[str], name: str, path: Path
) -> tuple[np.ndarray, np.ndarray | None, int, bytes | None]:
    im.load()
    mode = im.mode
    has_transparency = "transparency" in im.info

    if mode in ("1", "L") and has_transparency:
        im, mode = im.convert("LA"), "LA"
    elif mode == "1":
        im, mode = im.convert("L"), "L"
    elif mode == "La":
        im, mode = im.convert("LA"), "LA"
    elif mode in ("P", "PA"):
        palette_mode = getattr(im.palette, "mode", "RGB")
        want = "RGBA" if (has_transparency or mode == "PA" or palette_mode == "RGBA") else "RGB"
        im, mode = im.convert(want), want
        if _channels_equal(np.asarray(im)):  # a gray palette (e.g. most gray GIFs) stays gray
            want = "LA" if want == "RGBA" else "L"
            im, mode = im.convert(want), want
    elif mode == "RGB" and has_transparency:
        im, mode = im.convert("RGBA"), "RGBA"
    elif mode in ("RGBa", "RGBX"):
        want = "RGBA" if mode == "RGBa" else "RGB"
        im, mode = im.convert(want), want
    elif mode == "CMYK":
        im, icc = _cmyk_to_rgb(im, icc, warnings)
        mode = "RGB"
    elif mode not in ("L", "LA", "RGB", "RGBA", "F", "I") and not mode.startswith("I;16"):
        try:
            im = im.convert("RGB")
        except ValueError as exc:
            raise ImageReadError(f"{name}: unsupported colour mode {mode}", path) from exc
        warnings.append(f"{mode} image converted to RGB")
        mode = "RGB"

    arr = np.asarray(im)
    if mode in ("L", "RGB"):
        return _to_float(arr, 255), None, 8, icc
    if mode in ("LA", "RGBA"):
        return _to_float(arr[..., :-1], 255), _to_float(arr[..., -1], 255)[..., 0], 8, icc
    if mode.startswith("I;16"):
        return _to_float(arr.astype(np.uint16), 65535), None, 16, icc
    if mode == "I":
        return _to_float(np.clip(arr, 0, 65535), 65535), None, 16, icc
    # "F": float data, clipped to 0..1
    return _float_to_unit(arr), None, 16, icc


def _channels_equal(arr: np.ndarray) -> bool:
    return bool(
        np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2])
    )


def _cmyk_to_rgb(
    im: Image.Image, icc: bytes | None, warnings: list[str]
) -> tuple[Image.Image, bytes | None]:
    if icc and ImageCms is not None:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            rgb = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
            if rgb is not None:
                warnings.append("CMYK image converted to sRGB using its embedded colour profile")
                return rgb, None
        except Exception:  # noqa: BLE001 - a broken profile falls back to the plain conversion
            pass
    warnings.append("CMYK image converted to RGB (approximate colours)")
    return im.convert("RGB"), None


def _decode_opencv(
    data: bytes, name: str, path: Path, gray_hint: bool
) -> tuple[np.ndarray, np.ndarray | None, int]:
    with library_messages.c_stderr():  # libpng/libtiff print their complaints themselves
        arr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ImageReadError(f"{name}: image data is truncated or corrupt", path)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    channels = arr.shape[2]
    alpha_raw = None
    if channels == 1:
        color = arr
    elif channels == 2:
        color, alpha_raw = arr[..., :1], arr[..., 1]
    elif channels == 3:
        color = arr[..., 2::-1]
    else:
        color, alpha_raw = arr[..., 2::-1], arr[..., 3]
    if gray_hint and color.shape[2] == 3:
        color = color[..., :1]

    if arr.dtype == np.uint8:
        scale, bit_depth = 255, 8
    elif arr.dtype == np.uint16:
        scale, bit_depth = 65535, 16
    elif arr.dtype.kind == "f":
        alpha = None if alpha_raw is None else _float_to_unit(alpha_raw)[..., 0]
        return _float_to_unit(color), alpha, 16
    elif arr.dtype.kind in "iu":
        scale, bit_depth = np.iinfo(arr.dtype).max, 16
        color = np.clip(color, 0, None)
        alpha_raw = None if alpha_raw is None else np.clip(alpha_raw, 0, None)
    else:
        raise ImageReadError(f"{name}: unsupported sample type {arr.dtype}", path)
    alpha = None if alpha_raw is None else _to_float(alpha_raw, scale)[..., 0]
    return _to_float(color, scale), alpha, bit_depth


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
    icc, raw_exif = _tiff_metadata(data, warnings)
    try:
        pixels, alpha, bit_depth = _decode_opencv(pixel_data, name, path, photometric in (0, 1))
    except ImageReadError:
        raise
    except MemoryError as exc:
        raise ImageReadError(f"{name}: not enough memory to read this image", path) from exc
    except _DECODE_ERRORS as exc:
        raise ImageReadError(f"{name}: image data is truncated or corrupt", path) from exc
    exif = _normalize_exif(raw_exif, warnings)
    pixels, alpha, exif = _apply_orientation(pixels, alpha, exif)
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


def _to_float(arr: np.ndarray, scale: float) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[:, :, None]
    out = arr.astype(np.float32)
    out *= np.float32(1.0 / scale)
    return out


def _float_to_unit(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[:, :, None]
    out = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    np.clip(out, 0.0, 1.0, out=out)
    return out


# --- metadata -----------------------------------------------------------------------------------
def _iter_png_chunks(data: bytes):
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        yield ctype, body
        pos += 12 + length
        if ctype == b"IEND":
            break


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
# Adam7 passes: (first column, first row, column step, row step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _check_png_complete(data: bytes, name: str, path: Path) -> None:
    """Refuse a PNG whose image data ends before its last row, even when the zlib stream is well
    formed (decoders fill the missing rows in without a word). Inflates the IDAT data once, counting
    bytes without keeping them; damage of any other kind is left for the decoder to report."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        return
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    channels = _PNG_CHANNELS.get(color_type)
    if channels is None or depth not in (1, 2, 4, 8, 16) or width == 0 or height == 0:
        return
    if width * height > MAX_PIXELS:
        return  # refused by the size check, before anything is inflated

    def row_bytes(w: int) -> int:
        return 1 + (w * channels * depth + 7) // 8

    if interlace:
        expected = 0
        for x0, y0, dx, dy in _ADAM7:
            pass_w = (width - x0 + dx - 1) // dx if width > x0 else 0
            pass_h = (height - y0 + dy - 1) // dy if height > y0 else 0
            if pass_w and pass_h:
                expected += pass_h * row_bytes(pass_w)
    else:
        expected = height * row_bytes(width)

    inflater = zlib.decompressobj()
    produced = 0
    seen_idat = False
    try:
        for ctype, body in _iter_png_chunks(data):
            if ctype != b"IDAT":
                if seen_idat:
                    break  # IDAT chunks are consecutive: the image data is over
                continue
            seen_idat = True
            chunk = body
            while chunk and produced < expected and not inflater.eof:
                produced += len(inflater.decompress(chunk, 1 << 20))
                chunk = inflater.unconsumed_tail
            if produced >= expected or inflater.eof:
                break
    except zlib.error:
        return  # corrupt rather than short: the decoder says so
    if not seen_idat or produced >= expected:
        return
    if not inflater.eof:  # the file itself is cut off (no end of the zlib stream)
        raise ImageReadError(f"{name}: image data is truncated or corrupt", path)
    if interlace:
        detail = "the interlaced image data ends early"
    else:
        detail = f"only {produced // row_bytes(width)} of {height} rows are present"
    raise ImageReadError(f"{name}: image data is truncated or corrupt ({detail})", path)


def _png_without_chunks(data: bytes, drop: tuple[bytes, ...]) -> bytes:
    parts = [_PNG_SIGNATURE]
    for ctype, body in _iter_png_chunks(data):
        if ctype not in drop:
            parts.append(_png_chunk(ctype, body))
    return b"".join(parts)


def _png_metadata(data: bytes, warnings: list[str]) -> tuple[bytes | None, bytes | None]:
    icc = exif = None
    for ctype, body in _iter_png_chunks(data):
        if ctype == b"iCCP" and icc is None:
            try:
                sep = body.index(b"\0")
                inflater = zlib.decompressobj()
                icc = inflater.decompress(body[sep + 2 :], _MAX_ICC_BYTES)
                if inflater.unconsumed_tail:
                    icc = None
                    warnings.append("the embedded colour profile is too large and was ignored")
            except (ValueError, zlib.error):
                warnings.append("the embedded colour profile is damaged and was ignored")
                icc = None
        elif ctype == b"eXIf" and exif is None:
            exif = body
    return icc or None, exif or None


def _tiff_metadata(data: bytes, warnings: list[str]) -> tuple[bytes | None, bytes | None]:
    """ICC profile and the descriptive tags (as an EXIF block) of a TIFF's first directory."""
    try:
        src = Image.Exif()
        src.load(data)
    except Exception:  # noqa: BLE001
        return None, None
    icc = src.get(_ICC_TIFF_TAG)
    icc = bytes(icc) if isinstance(icc, (bytes, bytearray)) and icc else None
    try:
        exif = _filtered_exif(src, orientation_reset=False)
        blob = exif.tobytes() if len(exif) else None
    except Exception:  # noqa: BLE001
        warnings.append("the EXIF data is damaged and was ignored")
        blob = None
    return icc, blob


def _filtered_exif(src: Image.Exif, *, orientation_reset: bool) -> Image.Exif:
    """A new Exif with only the descriptive IFD0 tags and the EXIF/GPS sub-directories of `src`."""
    out = Image.Exif()
    for tag in _TIFF_EXIF_TAGS:
        value = src.get(tag)
        if value is not None:
            out[tag] = value
    if orientation_reset and _ORIENTATION_TAG in out:
        out[_ORIENTATION_TAG] = 1
    for tag in (_EXIF_IFD_TAG, _GPS_IFD_TAG):
        if tag in src:
            sub = dict(src.get_ifd(tag))
            sub.pop(0xA005, None)  # interoperability pointer: its offset would dangle
            if sub:
                out[tag] = sub
    return out


def _normalize_exif(raw: bytes | None, warnings: list[str]) -> bytes | None:
    """EXIF as "Exif\\0\\0" + TIFF structure, or None when absent or unrecognisable."""
    if not raw:
        return None
    raw = bytes(raw)
    if raw.startswith(b"Exif\x00\x00"):
        body = raw[6:]
    else:
        body = raw
    if body[:4] not in (b"II*\x00", b"MM\x00*"):
        warnings.append("the EXIF data is damaged and was ignored")
        return None
    return b"Exif\x00\x00" + body


def _orientation_entry(exif: bytes) -> tuple[int, int, str] | None:
    """(orientation, byte offset of its value in `exif`, struct code) from IFD0 of an EXIF block."""
    tiff = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
    base = len(exif) - len(tiff)
    if tiff[:2] == b"II":
        bo = "<"
    elif tiff[:2] == b"MM":
        bo = ">"
    else:
        return None
    try:
        if struct.unpack(bo + "H", tiff[2:4])[0] != 42:
            return None
        (ifd0,) = struct.unpack(bo + "I", tiff[4:8])
        (count,) = struct.unpack(bo + "H", tiff[ifd0 : ifd0 + 2])
        for i in range(count):
            entry = ifd0 + 2 + 12 * i
            tag, typ, n = struct.unpack(bo + "HHI", tiff[entry : entry + 8])
            if tag != _ORIENTATION_TAG:
                continue
            if n < 1:
                return None
            code = bo + ("H" if typ == 3 else "I" if typ == 4 else "")
            if len(code) != 2:
                return None
            size = struct.calcsize(code)
            (value,) = struct.unpack(code, tiff[entry + 8 : entry + 8 + size])
            return int(value), base + entry + 8, code
    except struct.error:
        return None
    return None


def _reset_orientation(exif: bytes) -> tuple[bytes, int]:
    """(EXIF with orientation 1, the orientation it had; 1 when absent or unreadable)."""
    found = _orientation_entry(exif)
    if found is None:
        return exif, 1
    value, offset, code = found
    if value == 1:
        return exif, 1
    patched = bytearray(exif)
    struct.pack_into(code, patched, offset, 1)
    return bytes(patched), value


def _without_orientation(tiff: bytes) -> bytes:
    """A TIFF file's bytes with the orientation of its first directory set to 1."""
    return _reset_orientation(tiff)[0]


def _apply_orientation(
    pixels: np.ndarray, alpha: np.ndarray | None, exif: bytes | None
) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    if exif is None:
        return pixels, alpha, exif
    exif, orientation = _reset_orientation(exif)
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        pixels = np.ascontiguousarray(_orient(pixels, orientation))
        if alpha is not None:
            alpha = np.ascontiguousarray(_orient(alpha, orientation))
    return pixels, alpha, exif


def _orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an array stored with EXIF `orientation` upright (axes 0, 1 are rows, columns)."""
    if orientation == 2:
        return a[:, ::-1]
    if orientation == 3:
        return a[::-1, ::-1]
    if orientation == 4:
        return a[::-1]
    if orientation == 5:
        return a.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(a, -1, axes=(0, 1))
    if orientation == 7:
        return np.rot90(a, 2, axes=(0, 1)).swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(a, 1, axes=(0, 1))
    return a


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------
def write_photo(
    photo: Photo,
    path: str | os.PathLike[str],
    *,
    jpeg_quality: int = 95,
    overwrite: bool = True,
) -> list[str]:
    """Write `photo` to `path`; the format comes from the extension (SUPPORTED_WRITE_EXTENSIONS).

    `jpeg_quality` (1..100) is used by JPEG and WebP (WebP at 100 is lossless). JPEG at 90 and above
    is written without chroma subsampling. 16-bit photos stay 16-bit in PNG and TIFF and become
    8-bit elsewhere. Alpha is kept by PNG, TIFF and WebP; JPEG and BMP composite it over white.
    Gray stays gray except in WebP (which has no gray mode) and 16-bit gray+alpha TIFF (saved as
    RGBA). EXIF and ICC are written to PNG, JPEG, TIFF and WebP; a profile whose colour space does
    not match the pixels (RGB profile on a gray image) is left out.

    The write is atomic: a temporary file in the same folder is renamed over `path`, and on failure
    the temporary file is removed and an existing `path` is left as it was.

    Returns a list of warnings (usually empty), e.g. metadata that had to be left out.
    Raises `ImageWriteError` (an OSError) for an unsupported extension, an existing file with
    `overwrite=False`, a missing folder and any operating-system error (disk full, permissions,
    read-only folder); ValueError for a `jpeg_quality` out of range.
    """
    path = Path(path)
    name = _display_name(path)
    fmt = _write_format(path, name)
    if not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f"jpeg_quality must be 1..100, got {jpeg_quality!r}")
    _check_destination(path, name, overwrite)
    warnings: list[str] = []
    try:
        with LibraryMessages() as lib:
            data = _encode_readable(photo, fmt, int(jpeg_quality), warnings, name)
            warnings.extend(n for n in lib.notes() if n not in warnings)
    except ImageWriteError:
        raise
    except MemoryError as exc:
        raise ImageWriteError(f"{name}: cannot write: not enough memory to encode", path) from exc
    except OSError as exc:
        raise _os_write_error(name, path, exc) from exc
    except (ValueError, TypeError, struct.error, zlib.error, cv2.error) as exc:
        raise ImageWriteError(f"{name}: cannot write: encoding failed ({exc})", path) from exc
    _atomic_write(path, data, overwrite, name)
    return warnings


def _write_format(path: Path, name: str) -> str:
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        what = f"'{path.suffix}'" if path.suffix else "no extension"
        raise ImageWriteError(
            f"{name}: cannot write {what}; supported: {', '.join(SUPPORTED_WRITE_EXTENSIONS)}",
            path,
        )
    return fmt


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


def _atomic_write(path: Path, data: bytes, overwrite: bool, name: str) -> None:
    tmp = temp_path(path)  # ".<name>.rednet-<host>-<pid>-<random>.tmp": swept after a crash
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):  # keep the permissions of a file we replace
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        if overwrite:
            os.replace(tmp, path)
        else:
            _publish_without_clobbering(tmp, path, name)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, ImageWriteError):
            raise _os_write_error(name, path, exc) from exc
        raise


def _publish_without_clobbering(tmp: Path, path: Path, name: str) -> None:
    try:
        os.link(tmp, path)  # fails if `path` appeared meanwhile: never replaces a file
    except FileExistsError as exc:
        raise ImageWriteError(f"{name}: already exists (not overwriting)", path) from exc
    except OSError:
        # Hard links unsupported here (some network and FAT file systems): check, then rename.
        if os.path.lexists(path):
            raise ImageWriteError(f"{name}: already exists (not overwriting)", path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _quantize(values: np.ndarray, bits: int) -> np.ndarray:
    """0..1 floats -> uint8/uint16 with round-half-up, so read/write round trips are exact."""
    top = 255.0 if bits == 8 else 65535.0
    out = np.nan_to_num(  # always a new array: the photo's own pixels are never touched
        np.asarray(values, dtype=np.float32), copy=True, nan=0.0, posinf=1.0, neginf=0.0
    )
    out *= np.float32(top)
    out += np.float32(0.5)
    np.clip(out, 0.0, top, out=out)
    return out.astype(np.uint8 if bits == 8 else np.uint16)


def _layout(photo: Photo, *, bits: int, keep_alpha: bool, force_rgb: bool = False) -> np.ndarray:
    """Interleaved integer samples: HxW (gray), HxWx2 (gray+alpha), HxWx3 or HxWx4."""
    pixels = photo.pixels
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    alpha = photo.alpha
    if alpha is not None and not keep_alpha:
        a = np.clip(np.nan_to_num(alpha.astype(np.float32)), 0.0, 1.0)[:, :, None]
        pixels = pixels * a + (1.0 - a)  # composite over white
        alpha = None
    if force_rgb and pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    planes = pixels if alpha is None else np.concatenate([pixels, alpha[:, :, None]], axis=2)
    out = _quantize(planes, bits)
    return out[:, :, 0] if out.shape[2] == 1 else out


def _icc_for(icc: bytes | None, channels: int, warnings: list[str]) -> bytes | None:
    if not icc:
        return None
    space = bytes(icc[16:20]) if len(icc) >= 20 else b""
    color = channels >= 3
    if (color and space == b"GRAY") or (not color and space == b"RGB "):
        kind = "gray" if space == b"GRAY" else "RGB"
        warnings.append(
            f"the {kind} colour profile does not fit a {'colour' if color else 'gray'} image "
            "and was left out"
        )
        return None
    return bytes(icc)


def _exif_for_write(exif: bytes | None, warnings: list[str]) -> bytes | None:
    exif = _normalize_exif(exif, warnings)
    if exif is None:
        return None
    return _reset_orientation(exif)[0]


def _encode_readable(photo: Photo, fmt: str, quality: int, warnings: list[str], name: str) -> bytes:
    """`_encode`, then the promise that we can read the file back: its header and metadata are
    parsed as `read_photo` will; if they cannot be, the metadata is left out (with a warning)."""
    data = _encode(photo, fmt, quality, warnings, name)
    problem = _unreadable_header(data, fmt)
    if problem is None:
        return data
    if photo.exif is None and photo.icc is None:
        raise ValueError(f"the encoded {fmt} file could not be read back ({problem})")
    warnings.append(f"the EXIF data and colour profile could not be stored in a readable {fmt} file "
                    "and were left out")
    data = _encode(photo.replace(exif=None, icc=None), fmt, quality, [], name)
    problem = _unreadable_header(data, fmt)
    if problem is not None:
        raise ValueError(f"the encoded {fmt} file could not be read back ({problem})")
    return data


def _unreadable_header(data: bytes, fmt: str) -> str | None:
    """Why the header and metadata of an encoded file would not open (None when they do). TIFF is
    ours by hand and may be read by OpenCV: only Pillow-read formats are checked."""
    if fmt not in ("PNG", "JPEG", "WEBP"):
        return None
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            if fmt == "PNG" and im.format != "PNG":
                return "not recognised as PNG"
    except Exception as exc:  # noqa: BLE001 - whatever stops Pillow stops our reader
        return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return None


def _too_large_note(what: str, size: int, fmt_name: str, limit: int) -> str:
    return (f"the {what} is too large for a {fmt_name} file ({format_size(size)}; at most "
            f"{format_size(limit)}) and was left out")


def _encode(photo: Photo, fmt: str, quality: int, warnings: list[str], name: str) -> bytes:
    exif = _exif_for_write(photo.exif, warnings)
    h, w = photo.pixels.shape[:2]
    buf = io.BytesIO()

    if fmt == "PNG":
        if photo.bit_depth == 16:
            arr = _layout(photo, bits=16, keep_alpha=True)
            channels = 1 if arr.ndim == 2 else arr.shape[2]
            return _png_insert_metadata(
                _encode_png16(arr), _png_icc(_icc_for(photo.icc, channels, warnings), warnings), exif
            )
        arr = _layout(photo, bits=8, keep_alpha=True)
        channels = 1 if arr.ndim == 2 else arr.shape[2]
        icc = _png_icc(_icc_for(photo.icc, channels, warnings), warnings)
        Image.fromarray(arr).save(buf, "PNG", **_meta(icc, exif))
        return buf.getvalue()

    if fmt == "TIFF":
        bits = 16 if photo.bit_depth == 16 else 8
        arr = _layout(photo, bits=bits, keep_alpha=True)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if bits == 16 and arr.shape[2] == 2:
            # Gray+alpha at 16 bits is a layout few readers (OpenCV, Pillow) understand: save RGBA.
            arr = np.concatenate([np.repeat(arr[..., :1], 3, axis=2), arr[..., 1:]], axis=2)
            warnings.append("16-bit gray with alpha was saved as 16-bit RGBA")
        return _encode_tiff(arr, _icc_for(photo.icc, arr.shape[2], warnings), exif, warnings)

    if fmt == "JPEG":
        if max(w, h) > _JPEG_MAX_SIDE:
            raise ImageWriteError(
                f"{name}: cannot write: JPEG images are limited to "
                f"{_JPEG_MAX_SIDE}x{_JPEG_MAX_SIDE} pixels"
            )
        arr = _layout(photo, bits=8, keep_alpha=False)
        if exif is not None and len(exif) > _JPEG_MAX_EXIF:
            warnings.append(_too_large_note("EXIF data", len(exif), "JPEG", _JPEG_MAX_EXIF))
            exif = None
        channels = 1 if arr.ndim == 2 else 3
        icc = _icc_for(photo.icc, channels, warnings)
        if icc is not None and len(icc) > _JPEG_MAX_ICC:
            warnings.append(_too_large_note("colour profile", len(icc), "JPEG", _JPEG_MAX_ICC))
            icc = None
        options: dict[str, Any] = {"quality": quality}
        if quality >= 90 and channels == 3:
            options["subsampling"] = 0
        Image.fromarray(arr).save(buf, "JPEG", **options, **_meta(icc, exif))
        return buf.getvalue()

    if fmt == "WEBP":
        if max(w, h) > _WEBP_MAX_SIDE:
            raise ImageWriteError(
                f"{name}: cannot write: WebP images are limited to "
                f"{_WEBP_MAX_SIDE}x{_WEBP_MAX_SIDE} pixels"
            )
        arr = _layout(photo, bits=8, keep_alpha=True, force_rgb=True)
        options = {"lossless": True, "quality": 100, "exact": True} if quality >= 100 else {
            "quality": quality
        }
        Image.fromarray(arr).save(
            buf, "WEBP", method=4, **options, **_meta(_icc_for(photo.icc, 3, warnings), exif)
        )
        return buf.getvalue()

    # BMP
    arr = _layout(photo, bits=8, keep_alpha=False)
    Image.fromarray(arr).save(buf, "BMP")
    return buf.getvalue()


def _png_icc(icc: bytes | None, warnings: list[str]) -> bytes | None:
    if icc is not None and len(icc) > _PNG_MAX_ICC:
        warnings.append(_too_large_note("colour profile", len(icc), "PNG", _PNG_MAX_ICC))
        return None
    return icc


def _meta(icc: bytes | None, exif: bytes | None) -> dict[str, bytes]:
    meta: dict[str, bytes] = {}
    if icc:
        meta["icc_profile"] = icc
    if exif:
        meta["exif"] = exif
    return meta


# --- PNG ----------------------------------------------------------------------------------------
def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(ctype + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


def _encode_png16(arr: np.ndarray) -> bytes:
    """16-bit PNG: OpenCV for gray, RGB and RGBA; our own encoder for gray+alpha."""
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if channels != 2:
        bgr = arr if channels == 1 else np.ascontiguousarray(arr[..., [2, 1, 0, 3][:channels]])
        with library_messages.c_stderr():
            ok, encoded = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
        if not ok:
            raise ValueError("OpenCV could not encode the PNG")
        return encoded.tobytes()
    h, w, _ = arr.shape
    rows = arr.astype(">u2").reshape(h, w * 2).view(np.uint8)  # big-endian samples, 4 bytes/pixel
    filtered = rows.copy()
    filtered[:, 4:] = rows[:, 4:] - rows[:, :-4]  # PNG filter 1 ("Sub"), wrapping in uint8
    scanlines = np.concatenate([np.ones((h, 1), np.uint8), filtered], axis=1)
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 6))
        + _png_chunk(b"IEND", b"")
    )


def _png_insert_metadata(png: bytes, icc: bytes | None, exif: bytes | None) -> bytes:
    """Add iCCP and eXIf chunks right after IHDR (replacing any the encoder wrote)."""
    if not icc and not exif:
        return png
    extra = b""
    if icc:
        extra += _png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(icc))
    if exif:
        extra += _png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    drop = {b"iCCP", b"sRGB", b"eXIf"} if icc else {b"eXIf"}
    parts = [_PNG_SIGNATURE]
    for ctype, body in _iter_png_chunks(png):
        if ctype in drop:
            continue
        parts.append(_png_chunk(ctype, body))
        if ctype == b"IHDR":
            parts.append(extra)
    return b"".join(parts)


# --- TIFF ---------------------------------------------------------------------------------------
def _encode_tiff(
    arr: np.ndarray, icc: bytes | None, exif: bytes | None, warnings: list[str]
) -> bytes:
    """Baseline TIFF: contiguous 8/16-bit samples, Deflate with horizontal predictor, one IFD.

    Written by hand (rather than by Pillow) so that 16-bit colour, alpha, the ICC profile and the
    full EXIF (including its EXIF and GPS sub-directories) all survive together.
    """
    h, w, c = arr.shape
    bits = arr.dtype.itemsize * 8
    diff = arr.copy()
    diff[:, 1:] -= arr[:, :-1]  # predictor 2: differences along each row, per sample, wrapping
    diff = diff.astype("<u2" if bits == 16 else np.uint8, copy=False)
    row_bytes = w * c * arr.dtype.itemsize
    rows_per_strip = max(1, min(h, (256 * 1024) // max(row_bytes, 1)))
    strips = [
        zlib.compress(diff[y : y + rows_per_strip].tobytes(), 6)
        for y in range(0, h, rows_per_strip)
    ]
    offsets, pos = [], 0
    for strip in strips:
        offsets.append(pos)  # relative: Pillow shifts StripOffsets past the directory it writes
        pos += len(strip)

    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    long_, short, undefined = TiffTags.LONG, TiffTags.SHORT, TiffTags.UNDEFINED

    def put(tag: int, value: Any, typ: int) -> None:
        ifd[tag] = value
        ifd.tagtype[tag] = typ

    if exif is not None:
        try:
            src = Image.Exif()
            src.load(exif)
            for tag, value in _filtered_exif(src, orientation_reset=True).items():
                ifd[tag] = value
                if isinstance(value, dict):
                    ifd.tagtype[tag] = long_
        except Exception:  # noqa: BLE001
            warnings.append("the EXIF data could not be converted for TIFF and was left out")
            for tag in list(ifd):
                del ifd[tag]

    put(256, w, long_)
    put(257, h, long_)
    put(258, (bits,) * c, short)
    put(259, 8, short)  # Adobe Deflate
    put(262, 1 if c <= 2 else 2, short)  # BlackIsZero / RGB
    put(273, tuple(offsets), long_)
    put(277, c, short)
    put(278, rows_per_strip, long_)
    put(279, tuple(len(s) for s in strips), long_)
    put(284, 1, short)  # contiguous
    put(317, 2, short)  # horizontal differencing
    put(339, (1,) * c, short)  # unsigned integers
    if c in (2, 4):
        put(338, (2,), short)  # unassociated alpha
    if icc:
        put(_ICC_TIFF_TAG, icc, undefined)
    try:
        directory = ifd.tobytes(8)
    except Exception:  # noqa: BLE001 - unusual EXIF values Pillow cannot serialise
        if exif is None:
            raise
        warnings.append("the EXIF data could not be converted for TIFF and was left out")
        return _encode_tiff(arr, icc, None, warnings)
    return b"II*\x00" + struct.pack("<I", 8) + directory + b"".join(strips)


# ------------------------------------------------------------------------------------------------
# Masks
# ------------------------------------------------------------------------------------------------
def read_mask(
    path: str | os.PathLike[str], size: tuple[int, int] | None = None
) -> np.ndarray:
    """Read an inpainting mask as a bool HxW array (True = fill).

    A pixel is filled when its luminance is >= 128 (of 255). Masks drawn only in the alpha channel
    (the colour is uniform and only alpha varies) use alpha >= 128 instead; other masks with alpha
    are composited over black first. `size=(width, height)` checks the mask against the photo and
    raises `MaskSizeError` on a mismatch; unreadable files raise `ImageReadError`.
    """
    path = Path(path)
    photo = _read_photo(path, "mask")
    if size is not None:
        want_w, want_h = int(size[0]), int(size[1])
        if (photo.width, photo.height) != (want_w, want_h):
            raise MaskSizeError(
                f"{_display_name(path)}: mask is {photo.width}x{photo.height} "
                f"but the photo is {want_w}x{want_h}"
            )
    pixels = photo.pixels
    if photo.is_gray:
        luma = pixels[:, :, 0]
    else:
        luma = pixels @ np.asarray([0.299, 0.587, 0.114], dtype=np.float32)
    if photo.alpha is not None:
        uniform = float(pixels.max() - pixels.min()) < 1.0 / 255.0
        if uniform:
            return photo.alpha * 255.0 >= 127.5
        luma = luma * photo.alpha
    return luma * 255.0 >= 127.5


def write_mask(
    mask: np.ndarray, path: str | os.PathLike[str], *, overwrite: bool = True
) -> None:
    """Write a mask as an 8-bit gray image (255 = fill, 0 = keep), atomically.

    `mask` is HxW (or HxWx1): bools, or numbers where non-zero means fill (floats: >= 0.5). The
    extension must be a lossless format (.png, .tif/.tiff or .bmp); PNG is the usual choice.
    """
    path = Path(path)
    name = _display_name(path)
    fmt = _write_format(path, name)
    if fmt not in ("PNG", "TIFF", "BMP"):
        raise ImageWriteError(
            f"{name}: masks must be saved losslessly (.png, .tif/.tiff or .bmp)", path
        )
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[2] == 1:
        m = m[:, :, 0]
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"a mask must be a non-empty HxW array, got shape {m.shape}")
    if m.dtype == bool:
        fill = m
    elif m.dtype.kind == "f":
        fill = m >= 0.5
    else:
        fill = m != 0
    write_photo(
        Photo(pixels=fill.astype(np.float32)[:, :, None], bit_depth=8),
        path,
        overwrite=overwrite,
    )

"""A `Photo` -> the bytes of a PNG, JPEG, TIFF, WebP or BMP file, in memory.

* 16 bits are kept in PNG and TIFF; alpha in PNG, TIFF and WebP (JPEG and BMP composite it over
  white); EXIF and ICC go into PNG, JPEG, TIFF and WebP.
* What is written reads back: metadata a format (or the common readers of it) cannot hold — a
  colour profile over 1 MB in PNG (Pillow's limit), EXIF over 64 KB or a profile over 16.7 MB in
  JPEG — is left out with a warning, and the encoded header is parsed once more (`encode_readable`).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

import rednet.io.limits  # noqa: F401 - Pillow's size limit raised, so that what we write opens again
from rednet.errors import ImageWriteError
from rednet.io import png
from rednet.io.metadata import exif_for_write, icc_for
from rednet.io.photo import Photo, quantize
from rednet.io.safe_files import format_size
from rednet.io.tiff import encode_tiff

__all__ = ["encode_readable", "encode"]

_JPEG_MAX_SIDE = 65535
_JPEG_MAX_EXIF = 65533 - 2  # one APP1 segment
_JPEG_MAX_ICC = 255 * (65533 - 14)  # at most 255 APP2 segments of "ICC_PROFILE\0" + 2 bytes + data
_WEBP_MAX_SIDE = 16383
# What Pillow (and so our own reader, and many other programs) reads of a PNG colour profile: larger
# ones make the whole file unreadable there, so they are left out of the PNGs we write.
_PNG_MAX_ICC = PngImagePlugin.MAX_TEXT_CHUNK


def encode_readable(
    photo: Photo, fmt: str, quality: int, warnings: list[str], name: str, png_compression: str = "fast"
) -> bytes:
    """`encode`, then the promise that we can read the file back: its header and metadata are
    parsed as `read_photo` will; if they cannot be, the metadata is left out (with a warning)."""
    data = encode(photo, fmt, quality, warnings, name, png_compression)
    problem = _unreadable_header(data, fmt)
    if problem is None:
        return data
    if photo.exif is None and photo.icc is None:
        raise ValueError(f"the encoded {fmt} file could not be read back ({problem})")
    warnings.append(f"the EXIF data and colour profile could not be stored in a readable {fmt} file and were left out")
    data = encode(photo.replace(exif=None, icc=None), fmt, quality, [], name, png_compression)
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
    return (
        f"the {what} is too large for a {fmt_name} file ({format_size(size)}; at most "
        f"{format_size(limit)}) and was left out"
    )


def encode(
    photo: Photo, fmt: str, quality: int, warnings: list[str], name: str, png_compression: str = "fast"
) -> bytes:
    """The file's bytes in `fmt` ("PNG", "JPEG", "TIFF", "WEBP" or "BMP"); notes go to `warnings`.
    `png_compression`: a key of `png.COMPRESSIONS` (PNG only)."""
    exif = exif_for_write(photo.exif, warnings)
    h, w = photo.pixels.shape[:2]
    buf = io.BytesIO()

    if fmt == "PNG":
        return _encode_png(photo, exif, png.COMPRESSIONS[png_compression], warnings)

    if fmt == "TIFF":
        bits = 16 if photo.bit_depth == 16 else 8
        arr = _layout(photo, bits=bits, keep_alpha=True)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if bits == 16 and arr.shape[2] == 2:
            # Gray+alpha at 16 bits is a layout few readers (OpenCV, Pillow) understand: save RGBA.
            arr = np.concatenate([np.repeat(arr[..., :1], 3, axis=2), arr[..., 1:]], axis=2)
            warnings.append("16-bit gray with alpha was saved as 16-bit RGBA")
        return encode_tiff(arr, icc_for(photo.icc, arr.shape[2], warnings), exif, warnings)

    if fmt == "JPEG":
        if max(w, h) > _JPEG_MAX_SIDE:
            raise ImageWriteError(
                f"{name}: cannot write: JPEG images are limited to {_JPEG_MAX_SIDE}x{_JPEG_MAX_SIDE} pixels"
            )
        arr = _layout(photo, bits=8, keep_alpha=False)
        if exif is not None and len(exif) > _JPEG_MAX_EXIF:
            warnings.append(_too_large_note("EXIF data", len(exif), "JPEG", _JPEG_MAX_EXIF))
            exif = None
        channels = 1 if arr.ndim == 2 else 3
        icc = icc_for(photo.icc, channels, warnings)
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
                f"{name}: cannot write: WebP images are limited to {_WEBP_MAX_SIDE}x{_WEBP_MAX_SIDE} pixels"
            )
        arr = _layout(photo, bits=8, keep_alpha=True, force_rgb=True)
        options = {"lossless": True, "quality": 100, "exact": True} if quality >= 100 else {"quality": quality}
        Image.fromarray(arr).save(buf, "WEBP", method=4, **options, **_meta(icc_for(photo.icc, 3, warnings), exif))
        return buf.getvalue()

    # BMP
    arr = _layout(photo, bits=8, keep_alpha=False)
    Image.fromarray(arr).save(buf, "BMP")
    return buf.getvalue()


def _encode_png(photo: Photo, exif: bytes | None, compression: png.Compression, warnings: list[str]) -> bytes:
    bits = 16 if photo.bit_depth == 16 else 8
    arr = _layout(photo, bits=bits, keep_alpha=True)
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    icc = _png_icc(icc_for(photo.icc, channels, warnings), warnings)
    if bits == 16:
        return png.insert_metadata(png.encode_png16(arr, compression.level16), icc, exif)
    buf = io.BytesIO()
    options = {"compress_level": compression.level8, "compress_type": compression.strategy8}
    Image.fromarray(arr).save(buf, "PNG", **options, **_meta(icc, exif))
    return buf.getvalue()


def _layout(photo: Photo, *, bits: int, keep_alpha: bool, force_rgb: bool = False) -> np.ndarray:
    """Interleaved integer samples: HxW (gray), HxWx2 (gray+alpha), HxWx3 or HxWx4. The planes are
    quantized straight into the result: no full-size float copy of the photo on the way."""
    pixels = photo.pixels
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    alpha = photo.alpha
    if alpha is not None and not keep_alpha:
        pixels, alpha = _over_white(pixels, alpha), None
    if force_rgb and pixels.shape[2] == 1:
        pixels = np.broadcast_to(pixels, pixels.shape[:2] + (3,))  # a view: quantize writes the copy
    h, w, c = pixels.shape
    out = np.empty((h, w, c + (alpha is not None)), np.uint8 if bits == 8 else np.uint16)
    quantize(pixels, bits, out=out[:, :, :c])
    if alpha is not None:
        quantize(alpha, bits, out=out[:, :, c])
    return out[:, :, 0] if out.shape[2] == 1 else out


def _over_white(pixels: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The photo composited over white (for formats without alpha); NaN alpha counts as 0."""
    a = alpha.astype(np.float32)  # a copy: the photo's alpha is never touched
    np.fmin(np.fmax(a, np.float32(0.0), out=a), np.float32(1.0), out=a)
    a = a[:, :, None]
    return pixels * a + (1.0 - a)


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

"""Pixels of an opened image file -> float32 planes in 0..1, by Pillow or by OpenCV.

8-bit data is decoded by Pillow; 16-bit (and float) PNG/TIFF by OpenCV, because Pillow truncates
16-bit colour to 8 bits. Palette, 1-bit, CMYK and other modes become gray or RGB (+ alpha) here.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from rednet.errors import ImageReadError
from rednet.io import library_messages, png
from rednet.io.photo import float_to_unit, to_float

try:  # Pillow is normally built with LittleCMS; colour management is optional all the same.
    from PIL import ImageCms
except ImportError:  # pragma: no cover
    ImageCms = None  # type: ignore[assignment]

__all__ = ["needs_opencv", "decode_pillow", "decode_opencv"]


def needs_opencv(im: Image.Image, data: bytes, fmt: str | None) -> bool:
    """16-bit and float PNG/TIFF data is decoded by OpenCV (Pillow truncates 16-bit colour)."""
    if fmt == "PNG":
        return png.is_16bit(data)
    if fmt == "TIFF":
        tags = getattr(im, "tag_v2", {})
        bits = tags.get(258, 1)
        bits = max(bits) if isinstance(bits, tuple) else bits
        sample_format = tags.get(339, 1)
        sample_format = max(sample_format) if isinstance(sample_format, tuple) else sample_format
        return int(bits) > 8 or int(sample_format) == 3
    return False


def decode_pillow(
    im: Image.Image, icc: bytes | None, warnings: list[str], name: str, path: Path
) -> tuple[np.ndarray, np.ndarray | None, int, bytes | None, np.ndarray | None]:
    """(pixels, alpha, bit depth, ICC profile, 8-bit samples or None): the profile is dropped when
    CMYK became sRGB; the samples are the uint8 array the floats came from (see Photo.samples8)."""
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
    samples8 = arr if arr.ndim == 3 else arr[:, :, None]
    if mode in ("L", "RGB"):
        return to_float(arr, 255), None, 8, icc, samples8
    if mode in ("LA", "RGBA"):
        return to_float(arr[..., :-1], 255), to_float(arr[..., -1], 255)[..., 0], 8, icc, samples8
    if mode.startswith("I;16"):
        return to_float(arr.astype(np.uint16), 65535), None, 16, icc, None
    if mode == "I":
        return to_float(np.clip(arr, 0, 65535), 65535), None, 16, icc, None
    # "F": float data, clipped to 0..1
    return float_to_unit(arr), None, 16, icc, None


def _channels_equal(arr: np.ndarray) -> bool:
    return bool(np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2]))


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None, warnings: list[str]) -> tuple[Image.Image, bytes | None]:
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


def decode_opencv(data: bytes, name: str, path: Path, gray_hint: bool) -> tuple[np.ndarray, np.ndarray | None, int]:
    """(pixels, alpha, bit depth) of the whole file, decoded by OpenCV. `gray_hint`: the file says
    it is gray, so of three channels OpenCV returns only the first is kept."""
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
        alpha = None if alpha_raw is None else float_to_unit(alpha_raw)[..., 0]
        return float_to_unit(color), alpha, 16
    elif arr.dtype.kind in "iu":
        scale, bit_depth = np.iinfo(arr.dtype).max, 16
        color = np.clip(color, 0, None)
        alpha_raw = None if alpha_raw is None else np.clip(alpha_raw, 0, None)
    else:
        raise ImageReadError(f"{name}: unsupported sample type {arr.dtype}", path)
    alpha = None if alpha_raw is None else to_float(alpha_raw, scale)[..., 0]
    return to_float(color, scale), alpha, bit_depth

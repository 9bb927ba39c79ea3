"""The metadata a photo carries: EXIF (with its orientation) and the ICC colour profile.

Reading takes them from the file's own structures (PNG chunks, the TIFF directory) or from Pillow;
EXIF is kept as one block ("Exif\\0\\0" + TIFF structure), byte for byte, except that its
orientation is applied to the pixels and reset to 1. Writing checks that what is carried across
still fits the photo (a gray profile on a colour image does not).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from PIL import Image

from rednet.io import png

__all__ = [
    "ICC_TIFF_TAG",
    "png_metadata",
    "tiff_metadata",
    "filtered_exif",
    "normalize_exif",
    "reset_orientation",
    "without_orientation",
    "apply_orientation",
    "upright",
    "icc_for",
    "exif_for_write",
]

_ORIENTATION_TAG = 0x0112
_EXIF_IFD_TAG = 0x8769
_GPS_IFD_TAG = 0x8825
ICC_TIFF_TAG = 34675
# Descriptive IFD0 tags that move between a TIFF's own directory and an EXIF block (everything else
# in a TIFF directory describes the pixel layout and must not be copied).
_TIFF_EXIF_TAGS = (270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 316, 33432)
_MAX_ICC_BYTES = 64 * 1024 * 1024


# --- reading ------------------------------------------------------------------------------------
def png_metadata(data: bytes, warnings: list[str]) -> tuple[bytes | None, bytes | None]:
    """(ICC profile, raw EXIF) from a PNG's iCCP and eXIf chunks."""
    icc = exif = None
    for ctype, body in png.iter_chunks(data):
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


def tiff_metadata(data: bytes, warnings: list[str]) -> tuple[bytes | None, bytes | None]:
    """ICC profile and the descriptive tags (as an EXIF block) of a TIFF's first directory."""
    try:
        src = Image.Exif()
        src.load(data)
    except Exception:  # noqa: BLE001
        return None, None
    icc = src.get(ICC_TIFF_TAG)
    icc = bytes(icc) if isinstance(icc, (bytes, bytearray)) and icc else None
    try:
        exif = filtered_exif(src, orientation_reset=False)
        blob = exif.tobytes() if len(exif) else None
    except Exception:  # noqa: BLE001
        warnings.append("the EXIF data is damaged and was ignored")
        blob = None
    return icc, blob


def filtered_exif(src: Image.Exif, *, orientation_reset: bool) -> Image.Exif:
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


def normalize_exif(raw: bytes | None, warnings: list[str]) -> bytes | None:
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


# --- orientation --------------------------------------------------------------------------------
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


def reset_orientation(exif: bytes) -> tuple[bytes, int]:
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


def without_orientation(tiff: bytes) -> bytes:
    """A TIFF file's bytes with the orientation of its first directory set to 1."""
    return reset_orientation(tiff)[0]


def apply_orientation(
    pixels: np.ndarray, alpha: np.ndarray | None, exif: bytes | None
) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    """Pixels and alpha turned upright as the EXIF orientation says, and the EXIF reset to 1."""
    (pixels, alpha), exif = upright((pixels, alpha), exif)
    return pixels, alpha, exif


def upright(
    arrays: tuple[np.ndarray | None, ...], exif: bytes | None
) -> tuple[tuple[np.ndarray | None, ...], bytes | None]:
    """Arrays of one image (None skipped) turned upright as the EXIF orientation says, and the
    EXIF reset to 1."""
    if exif is None:
        return arrays, exif
    exif, orientation = reset_orientation(exif)
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        arrays = tuple(None if a is None else np.ascontiguousarray(_orient(a, orientation)) for a in arrays)
    return arrays, exif


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


# --- writing ------------------------------------------------------------------------------------
def icc_for(icc: bytes | None, channels: int, warnings: list[str]) -> bytes | None:
    """The profile to write with `channels` samples per pixel: left out (with a warning) when its
    colour space does not match them."""
    if not icc:
        return None
    space = bytes(icc[16:20]) if len(icc) >= 20 else b""
    color = channels >= 3
    if (color and space == b"GRAY") or (not color and space == b"RGB "):
        kind = "gray" if space == b"GRAY" else "RGB"
        warnings.append(
            f"the {kind} colour profile does not fit a {'colour' if color else 'gray'} image and was left out"
        )
        return None
    return bytes(icc)


def exif_for_write(exif: bytes | None, warnings: list[str]) -> bytes | None:
    """The EXIF block to write: normalised, with the orientation reset (the pixels are upright)."""
    exif = normalize_exif(exif, warnings)
    if exif is None:
        return None
    return reset_orientation(exif)[0]

"""Our TIFF encoder, written by hand rather than by Pillow so that 16-bit colour, alpha, the ICC
profile and the full EXIF (including its EXIF and GPS sub-directories) all survive together."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np
from PIL import Image, TiffImagePlugin, TiffTags

from rednet.io.metadata import ICC_TIFF_TAG, filtered_exif

__all__ = ["encode_tiff"]


def encode_tiff(arr: np.ndarray, icc: bytes | None, exif: bytes | None, warnings: list[str]) -> bytes:
    """Baseline TIFF: contiguous 8/16-bit samples, Deflate with horizontal predictor, one IFD.

    `arr` is HxWxC uint8 or uint16 (C = 1..4; 2 and 4 carry unassociated alpha).
    """
    h, w, c = arr.shape
    bits = arr.dtype.itemsize * 8
    diff = arr.copy()
    diff[:, 1:] -= arr[:, :-1]  # predictor 2: differences along each row, per sample, wrapping
    diff = diff.astype("<u2" if bits == 16 else np.uint8, copy=False)
    row_bytes = w * c * arr.dtype.itemsize
    rows_per_strip = max(1, min(h, (256 * 1024) // max(row_bytes, 1)))
    strips = [zlib.compress(diff[y : y + rows_per_strip].tobytes(), 6) for y in range(0, h, rows_per_strip)]
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
            for tag, value in filtered_exif(src, orientation_reset=True).items():
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
        put(ICC_TIFF_TAG, icc, undefined)
    try:
        directory = ifd.tobytes(8)
    except Exception:  # noqa: BLE001 - unusual EXIF values Pillow cannot serialise
        if exif is None:
            raise
        warnings.append("the EXIF data could not be converted for TIFF and was left out")
        return encode_tiff(arr, icc, None, warnings)
    return b"II*\x00" + struct.pack("<I", 8) + directory + b"".join(strips)

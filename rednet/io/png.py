"""The PNG file structure, handled by hand where the libraries fall short.

* `check_complete`: decoders fill in the missing rows of a PNG whose image data ends early without
  a word; we refuse it.
* `encode_png16`: 16-bit gray+alpha, which OpenCV cannot write.
* `insert_metadata`: iCCP and eXIf chunks for the 16-bit PNGs OpenCV encodes without them.
* `COMPRESSIONS`: the zlib settings behind `write_photo(png_compression=...)`, measured in
  docs/bench.md ("Encoding and decoding big photos").
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from rednet.errors import ImageReadError
from rednet.io import library_messages

__all__ = [
    "SIGNATURE",
    "TEXT_CHUNKS",
    "iter_chunks",
    "chunk",
    "without_chunks",
    "is_gray",
    "is_16bit",
    "check_complete",
    "encode_png16",
    "insert_metadata",
    "Compression",
    "COMPRESSIONS",
]

SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Compression:
    """zlib settings of one `png_compression` choice: 8-bit PNGs go through Pillow (zlib-ng), 16-bit
    ones through OpenCV (libpng + zlib), whose speed and ratio per level differ."""

    level8: int
    strategy8: int  # Pillow's compress_type: a zlib strategy (Pillow's own default for PNG is Z_FILTERED)
    level16: int


# On a 12 MP photo (docs/bench.md): 8-bit Z_RLE is 4.8x faster than Pillow's default level 6 for a
# 2.5% larger file (photo data is filtered noise: long matches barely pay); 16-bit level 4 is 2.4x
# faster than 6 for 7% more, where level 1 would add another 21%. Level 9 is the smallest (8-13%
# below "fast"), 20-35x slower.
COMPRESSIONS = {
    "fast": Compression(level8=1, strategy8=zlib.Z_RLE, level16=4),
    "small": Compression(level8=9, strategy8=zlib.Z_FILTERED, level16=9),
}
TEXT_CHUNKS = (b"iCCP", b"tEXt", b"zTXt", b"iTXt")  # what Pillow caps at PngImagePlugin.MAX_TEXT_CHUNK

_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
# Adam7 passes: (first column, first row, column step, row step)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def iter_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(type, body) of each chunk up to IEND; CRCs are not checked."""
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        yield ctype, body
        pos += 12 + length
        if ctype == b"IEND":
            break


def chunk(ctype: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(ctype + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc)


def without_chunks(data: bytes, drop: tuple[bytes, ...]) -> bytes:
    parts = [SIGNATURE]
    for ctype, body in iter_chunks(data):
        if ctype not in drop:
            parts.append(chunk(ctype, body))
    return b"".join(parts)


def is_gray(data: bytes) -> bool:
    return data[12:16] == b"IHDR" and data[25] in (0, 4)


def is_16bit(data: bytes) -> bool:
    return data[12:16] == b"IHDR" and data[24] == 16


def check_complete(data: bytes, name: str, path: Path, max_pixels: int) -> None:
    """Refuse a PNG whose image data ends before its last row, even when the zlib stream is well
    formed (decoders fill the missing rows in without a word). Inflates the IDAT data once, counting
    bytes without keeping them; damage of any other kind is left for the decoder to report."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        return
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    channels = _CHANNELS.get(color_type)
    if channels is None or depth not in (1, 2, 4, 8, 16) or width == 0 or height == 0:
        return
    if width * height > max_pixels:
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
        for ctype, body in iter_chunks(data):
            if ctype != b"IDAT":
                if seen_idat:
                    break  # IDAT chunks are consecutive: the image data is over
                continue
            seen_idat = True
            rest = body
            while rest and produced < expected and not inflater.eof:
                produced += len(inflater.decompress(rest, 1 << 20))
                rest = inflater.unconsumed_tail
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


def encode_png16(arr: np.ndarray, level: int = 6) -> bytes:
    """16-bit PNG at zlib `level`: OpenCV for gray, RGB and RGBA; our own encoder for gray+alpha."""
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    if channels != 2:
        bgr = arr if channels == 1 else np.ascontiguousarray(arr[..., [2, 1, 0, 3][:channels]])
        with library_messages.c_stderr():
            ok, encoded = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, level])
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
        SIGNATURE
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(scanlines.tobytes(), level))
        + chunk(b"IEND", b"")
    )


def insert_metadata(png: bytes, icc: bytes | None, exif: bytes | None) -> bytes:
    """Add iCCP and eXIf chunks right after IHDR (replacing any the encoder wrote)."""
    if not icc and not exif:
        return png
    extra = b""
    if icc:
        extra += chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(icc))
    if exif:
        extra += chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    drop = {b"iCCP", b"sRGB", b"eXIf"} if icc else {b"eXIf"}
    parts = [SIGNATURE]
    for ctype, body in iter_chunks(png):
        if ctype in drop:
            continue
        parts.append(chunk(ctype, body))
        if ctype == b"IHDR":
            parts.append(extra)
    return b"".join(parts)

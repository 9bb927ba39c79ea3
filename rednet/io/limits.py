"""How large a photo may be, and Pillow set up to match.

Importing this module (read.py and encode.py do) keeps Pillow strict about truncated files and
raises its own decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`) to at least `MAX_PIXELS`, so
that photos up to our limit can be decoded, and re-opened after encoding; larger ones are refused by
`read_photo` with its own message.
"""

from __future__ import annotations

from PIL import Image, ImageFile

__all__ = ["MAX_PIXELS"]

MAX_PIXELS = 250_000_000
"""Largest width x height `read_photo` accepts; larger headers are refused before decoding."""

# Keep Pillow strict: a truncated file must fail, not come back padded with grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

"""Which files are photos: the extensions read and written, and the format each one writes.

Reading recognises a file by its content (`read.py`); the extension only decides which files a
folder scan or a file dialog offers, and which format `write_photo` encodes.
"""

from __future__ import annotations

import os
from pathlib import Path

from rednet.errors import ImageWriteError

__all__ = [
    "SUPPORTED_READ_EXTENSIONS",
    "SUPPORTED_WRITE_EXTENSIONS",
    "is_supported_image_path",
    "write_format",
    "display_name",
]

SUPPORTED_READ_EXTENSIONS: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".tif", ".tiff", ".webp", ".bmp", ".gif",
)  # fmt: skip
SUPPORTED_WRITE_EXTENSIONS: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp",
)  # fmt: skip

_WRITE_FORMATS = {  # extension -> Pillow's name of the format
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
}


def is_supported_image_path(path: str | os.PathLike[str]) -> bool:
    """True when the file name has an extension `read_photo` is meant for (case-insensitive)."""
    return Path(path).suffix.lower() in SUPPORTED_READ_EXTENSIONS


def display_name(path: Path) -> str:
    """How a file is named in a one-line message: its name (the whole path when it has none)."""
    return path.name or str(path)


def write_format(path: Path) -> str:
    """The format ("PNG", "JPEG", ...) the extension of `path` asks for; ImageWriteError if none."""
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        what = f"'{path.suffix}'" if path.suffix else "no extension"
        raise ImageWriteError(
            f"{display_name(path)}: cannot write {what}; supported: {', '.join(SUPPORTED_WRITE_EXTENSIONS)}",
            path,
        )
    return fmt

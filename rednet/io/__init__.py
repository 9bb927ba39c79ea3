"""Photos in and out: reading, metadata, writing, masks, and files written atomically.

    from rednet.io import read_photo, write_photo
    photo = read_photo("scan.jpg")            # a Photo: float32 pixels in 0..1, alpha, EXIF, ICC
    write_photo(photo, "scan.png")            # atomic; 16-bit, alpha and metadata kept where they fit

The names below are the public API. The modules behind them, one concept each:

    photo      the Photo dataclass and its pixel formats
    formats    extensions read and written
    limits     MAX_PIXELS, and Pillow set up to match
    read       read_photo: file -> Photo (errors, size checks); decode: the pixels, by Pillow or OpenCV
    metadata   EXIF, orientation and ICC profiles, read and carried across
    write      write_photo: Photo -> file; encode: the bytes of each format; png, tiff: by-hand codecs
    masks      mask files read and written, grown and shrunk
    atomic     files written whole or not at all (temp_files: their temporary names, the sweep)
    safe_files, safe_json   opening what a user named: regular files only, with size limits

Names load on first use, so importing a light module (`rednet.io.safe_json`, `rednet.io.masks`)
does not load OpenCV and Pillow. They are looked up in their module at each use and not kept here,
so `rednet.io.X` is always `rednet.io.<module>.X`: patch a name in its own module.
"""

from __future__ import annotations

import importlib as _importlib

_PUBLIC = {
    # photos
    "Photo": "rednet.io.photo",
    "read_photo": "rednet.io.read",
    "MAX_PIXELS": "rednet.io.limits",
    "write_photo": "rednet.io.write",
    "SUPPORTED_READ_EXTENSIONS": "rednet.io.formats",
    "SUPPORTED_WRITE_EXTENSIONS": "rednet.io.formats",
    "is_supported_image_path": "rednet.io.formats",
    # masks
    "read_mask": "rednet.io.masks",
    "write_mask": "rednet.io.masks",
    # files written atomically
    "atomic_write": "rednet.io.atomic",
    "atomic_write_bytes": "rednet.io.atomic",
    "atomic_write_text": "rednet.io.atomic",
    # errors (defined in rednet.errors, with every other error rednet reports)
    "ImageReadError": "rednet.errors",
    "ImageWriteError": "rednet.errors",
    "MaskSizeError": "rednet.errors",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'rednet.io' has no attribute {name!r}")
    return getattr(_importlib.import_module(module), name)


def __dir__():
    return sorted(set(globals()) | set(__all__))

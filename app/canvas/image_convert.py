"""numpy float images (HxWxC in 0..1) <-> QImage, for display and the clipboard only.

Reading and writing files is `rednet.io`'s job; this module only moves pixels between numpy
arrays and Qt's image type, which is GUI work.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage


def _to_uint8(a: np.ndarray) -> np.ndarray:
    """0..1 floats -> uint8, rounded; one float32 scratch array (a 12 MP photo's display image is
    made as it opens: three temporaries took half a second)."""
    scratch = np.multiply(a, np.float32(255.0), dtype=np.float32)
    scratch += np.float32(0.5)
    np.clip(scratch, 0.0, 255.0, out=scratch)
    return scratch.astype(np.uint8)


def _qimage_of(samples: np.ndarray, fmt: QImage.Format) -> QImage:
    """A QImage owning a copy of uint8 HxW or HxWxC samples laid out as `fmt`."""
    buf = np.ascontiguousarray(samples)
    h, w = buf.shape[:2]
    return QImage(buf.data, w, h, buf.strides[0], fmt).copy()  # detach from the numpy buffer


def _samples_of(image: QImage, channels: int) -> np.ndarray:
    """A read-only HxWxC view on an 8-bit image's bytes (its lines may be padded); valid while the
    image lives."""
    w, h, line = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=line * h).reshape(h, line)
    return rows[:, : w * channels].reshape(h, w, channels)


def pixels_to_qimage(pixels: np.ndarray, alpha: np.ndarray | None = None) -> QImage:
    """A QImage (owning its data) from float pixels HxW, HxWx1 or HxWx3 and an optional HxW alpha."""
    a = np.asarray(pixels)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"cannot display an image of shape {a.shape}")
    if a.ndim == 3 and a.shape[2] == 4:
        a, alpha = a[:, :, :3], a[:, :, 3]
    if alpha is not None:
        rgb = a if a.ndim == 3 else np.repeat(a[:, :, None], 3, axis=2)
        return _qimage_of(np.dstack([_to_uint8(rgb), _to_uint8(np.asarray(alpha))]), QImage.Format.Format_RGBA8888)
    if a.ndim == 2:
        return _qimage_of(_to_uint8(a), QImage.Format.Format_Grayscale8)
    return _qimage_of(_to_uint8(a), QImage.Format.Format_RGB888)


_SAMPLE_FORMATS = {
    1: QImage.Format.Format_Grayscale8,
    2: QImage.Format.Format_RGBA8888,  # gray + alpha: spread to RGBA below
    3: QImage.Format.Format_RGB888,
    4: QImage.Format.Format_RGBA8888,
}


def photo_to_qimage(photo) -> QImage:
    """A display image for a `rednet.io.Photo`: straight from the file's 8-bit samples when it kept
    them (a 12 MP photo shows 0.3 s sooner than through its floats), else from the floats."""
    samples = getattr(photo, "samples8", None)
    if samples is None:
        return pixels_to_qimage(photo.pixels, getattr(photo, "alpha", None))
    channels = samples.shape[2]
    if channels == 2:
        samples = samples[:, :, [0, 0, 0, 1]]
    return _qimage_of(samples, _SAMPLE_FORMATS[channels])


def qimage_to_arrays(image: QImage) -> tuple[np.ndarray, np.ndarray | None]:
    """(pixels float32 HxWx3 or HxWx1 in 0..1, alpha float32 HxW or None) from any QImage."""
    if image.isNull():
        raise ValueError("the image is empty")
    if image.isGrayscale() and not image.hasAlphaChannel():
        img = image.convertToFormat(QImage.Format.Format_Grayscale8)
        channels = 1
    else:
        img = image.convertToFormat(QImage.Format.Format_RGBA8888)
        channels = 4
    data = _samples_of(img, channels).astype(np.float32) / 255.0
    if channels == 1:
        return data, None
    alpha = data[:, :, 3].copy() if image.hasAlphaChannel() else None
    if alpha is not None and np.all(alpha >= 1.0):
        alpha = None
    return np.ascontiguousarray(data[:, :, :3]), alpha


def qimage_to_uint8(image: QImage) -> np.ndarray:
    """HxWx4 uint8 RGBA copy of an image (used by tests and screenshots)."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)  # held: the view below is on its bytes
    return _samples_of(img, 4).copy()


_AREA_CHANNELS = {QImage.Format.Format_RGB888: 3, QImage.Format.Format_Grayscale8: 1}


def smooth_scaled(image: QImage, width: int, height: int) -> QImage:
    """`image` shrunk or grown to width x height with area averaging. Opaque 8-bit images go
    through OpenCV (fitting a 12 MP photo to the window: 0.15 s in Qt, 0.02 s here); images with
    alpha through Qt, which averages them premultiplied."""
    channels = _AREA_CHANNELS.get(image.format())
    if channels is None or image.isNull():
        return image.scaled(
            width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    scaled = cv2.resize(_samples_of(image, channels), (width, height), interpolation=cv2.INTER_AREA)
    return _qimage_of(scaled, image.format())

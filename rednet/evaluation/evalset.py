"""Public evaluation photos: the natural photographs bundled with scikit-image.

Every photo is returned the same way, so every method (RED-Net, BM3D, bicubic, ...) sees the
same 8-bit input: float32 HxWxC in [0, 1] (C = 3 for colour photos, C = 1 for grey ones),
downscaled with Pillow LANCZOS so the long side is at most ``long_side`` (never upscaled, never
cropped: odd sizes stay odd), and quantised to 8-bit values (``x == round(x * 255) / 255``).

All nine photos ship inside the scikit-image wheel (``skimage/data/*.png|jpg``, checked with
scikit-image 0.26); none needs a network download (pooch).
Training data must never contain them (see scripts/make_training_set.py).

scikit-image is a dev-only dependency, so it is imported lazily, inside the loaders.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import numpy as np

EVAL_PHOTOS: tuple[str, ...] = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "motorcycle_left",
    "camera",
    "brick",
    "grass",
    "gravel",
)

_COLOUR = frozenset({"astronaut", "coffee", "chelsea", "rocket", "motorcycle_left"})

_INSTALL_HINT = "the public evaluation photos need scikit-image: pip install scikit-image (part of the dev extra)"


def _check_name(name: str) -> None:
    if name not in EVAL_PHOTOS:
        raise ValueError(f"unknown evaluation photo {name!r}; choose from {', '.join(EVAL_PHOTOS)}")


def is_colour(name: str) -> bool:
    """True for the colour photos (3 channels), False for the grey ones (1 channel)."""
    _check_name(name)
    return name in _COLOUR


@cache
def _raw(name: str) -> np.ndarray:
    """The photo exactly as scikit-image ships it: uint8 HxW or HxWx3 (read-only, cached)."""
    try:
        from skimage import data
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(_INSTALL_HINT) from e
    if name == "motorcycle_left":
        img = data.stereo_motorcycle()[0]
    else:
        img = getattr(data, name)()
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise TypeError(f"scikit-image's {name!r} is {img.dtype}, expected uint8")
    if img.ndim == 3 and img.shape[2] == 4:  # never expected for these photos; drop alpha defensively
        img = img[..., :3]
    if (img.ndim == 3) != is_colour(name):
        raise ValueError(f"scikit-image's {name!r} has shape {img.shape}, not the expected colour/grey")
    img = np.ascontiguousarray(img)
    img.setflags(write=False)
    return img


def _fit_long_side(img: np.ndarray, long_side: int) -> np.ndarray:
    """LANCZOS-downscale uint8 so max(H, W) == long_side; smaller images are returned unchanged."""
    h, w = img.shape[:2]
    if max(h, w) <= long_side:
        return img
    from PIL import Image

    s = long_side / max(h, w)
    size = (long_side, max(1, round(h * s))) if w >= h else (max(1, round(w * s)), long_side)
    return np.asarray(Image.fromarray(img).resize(size, Image.LANCZOS))


def load_eval_photo(name: str, long_side: int = 512) -> np.ndarray:
    """One evaluation photo as float32 HxWxC in [0, 1], long side <= ``long_side``, 8-bit values."""
    _check_name(name)
    if int(long_side) != long_side or long_side < 1:
        raise ValueError(f"long_side must be a positive integer, got {long_side!r}")
    img = _fit_long_side(_raw(name), int(long_side))  # uint8 in, uint8 out: already 8-bit values
    if img.ndim == 2:
        img = img[..., None]
    return img.astype(np.float32) / np.float32(255.0)


def load_eval_set(names: Iterable[str] = EVAL_PHOTOS, long_side: int = 512) -> dict[str, np.ndarray]:
    """{name: photo} for ``names`` (default: all of EVAL_PHOTOS), each as in `load_eval_photo`."""
    return {name: load_eval_photo(name, long_side) for name in names}

"""Seeded corruptions used by training, fine-tuning, tests and evaluation.

Images are float32 HxWxC arrays in 0..1. Every function that draws randomness takes a
`numpy.random.Generator`, so a seed reproduces the same corruption.
"""

from __future__ import annotations

import io
import string

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rednet.io.masks import grow


def quantize8(img: np.ndarray) -> np.ndarray:
    """Round to the 8-bit grid, as a photo saved to disk would be."""
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).astype(np.float32) / 255.0


def to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# --- noise ---------------------------------------------------------------------------------------
def add_gaussian_noise(
    img: np.ndarray, sigma: float, rng: np.random.Generator, clip: bool = True, quantize: bool = True
) -> np.ndarray:
    """Additive white Gaussian noise; `sigma` in 0-255 units. Clipped and 8-bit by default, like a file."""
    noisy = img + rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma / 255.0)
    if quantize:
        return quantize8(noisy)
    return np.clip(noisy, 0.0, 1.0) if clip else noisy.astype(np.float32)


# --- resampling ----------------------------------------------------------------------------------
def bicubic_resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize to (width, height); antialiased when shrinking (as MATLAB's imresize)."""
    w, h = size
    if (img.shape[1], img.shape[0]) == (w, h):
        return img.astype(np.float32, copy=True)
    planes = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(img[..., c], dtype=np.float32), mode="F").resize(
                (w, h), Image.Resampling.BICUBIC
            )
        )
        for c in range(img.shape[2])
    ]
    return np.stack(planes, axis=-1).astype(np.float32)


STRIP_PIXELS = 2_000_000  # an enlargement bigger than this is made in strips, checking for Cancel between


def bicubic_enlarge(img: np.ndarray, size: tuple[int, int], check=None) -> np.ndarray:
    """`bicubic_resize` for enlarging, in strips of output rows when the result is big, calling
    `check()` between them (a 12 MP result takes a second or more in one go). Each strip samples the
    whole photo, so the strips agree with one resize to float rounding (1e-7)."""
    w, h = size
    rows = max(1, STRIP_PIXELS // max(w, 1))
    if check is None or h <= rows or (img.shape[1], img.shape[0]) == (w, h):
        return bicubic_resize(img, size)
    sy = img.shape[0] / h
    out = np.empty((h, w, img.shape[2]), np.float32)
    planes = [
        Image.fromarray(np.ascontiguousarray(img[..., c], dtype=np.float32), mode="F") for c in range(img.shape[2])
    ]
    for y0 in range(0, h, rows):
        check()
        y1 = min(h, y0 + rows)
        box = (0, y0 * sy, img.shape[1], y1 * sy)
        for c, plane in enumerate(planes):
            out[y0:y1, :, c] = np.asarray(plane.resize((w, y1 - y0), Image.Resampling.BICUBIC, box=box))
    return out


def downscaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width / scale)), max(1, round(height / scale))


def bicubic_degrade(img: np.ndarray, scale: float, quantize: bool = True) -> np.ndarray:
    """Bicubic down by `scale` (any value >= 1, non-integer too), then bicubic back up to full size."""
    h, w = img.shape[:2]
    small = bicubic_resize(img, downscaled_size(w, h, scale))
    if quantize:  # the low-resolution photo a user has is an 8-bit file
        small = quantize8(small)
    up = bicubic_resize(small, (w, h))
    return quantize8(up) if quantize else np.clip(up, 0.0, 1.0)


# --- JPEG ----------------------------------------------------------------------------------------
def jpeg_encode(img: np.ndarray, quality: int, subsampling: str = "4:2:0") -> bytes:
    """A JPEG file of `img` (HxWx1 or x3, 0..1): libjpeg through Pillow; colour uses 4:2:0 chroma
    subsampling as cameras do."""
    u8 = to_uint8(img)
    pil = Image.fromarray(u8[..., 0] if u8.shape[2] == 1 else u8)
    buf = io.BytesIO()
    opts = {} if pil.mode == "L" else {"subsampling": subsampling}
    pil.save(buf, format="JPEG", quality=int(quality), **opts)
    return buf.getvalue()


def jpeg_decode(data: bytes, channels: int) -> np.ndarray:
    """A JPEG file's pixels as float32 HxWxC (C = `channels`) in 0..1, decoded by Pillow."""
    with Image.open(io.BytesIO(data)) as im:
        out = np.asarray(im.convert("RGB" if channels == 3 else "L"), dtype=np.float32) / 255.0
    return out[..., None] if out.ndim == 2 else out


def jpeg_degrade(img: np.ndarray, quality: int, subsampling: str = "4:2:0") -> np.ndarray:
    """`img` saved as a JPEG at `quality` and decoded again."""
    return jpeg_decode(jpeg_encode(img, quality, subsampling), img.shape[2])


# --- inpainting masks ----------------------------------------------------------------------------
_WORD_CHARS = string.ascii_letters + string.digits


def _font(size: int) -> ImageFont.ImageFont:
    # Pillow >= 10.1 bundles a scalable font: no system fonts needed.
    return ImageFont.load_default(size=size)


def _random_word(rng: np.random.Generator) -> str:
    n = int(rng.integers(2, 9))
    return "".join(_WORD_CHARS[i] for i in rng.integers(0, len(_WORD_CHARS), n))


def text_mask(
    height: int, width: int, rng: np.random.Generator, size_range=(14, 34), words: int | None = None, dilate: int = 1
) -> np.ndarray:
    """Random words drawn at `size_range` px, dilated by `dilate` px: True = pixels to fill."""
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    count = words if words is not None else max(1, int(width * height / 6000 * rng.uniform(0.3, 1.0)))
    for _ in range(count):
        size = int(rng.integers(size_range[0], size_range[1] + 1))
        x = int(rng.integers(-size, max(1, width - size)))
        y = int(rng.integers(-size // 2, max(1, height - size // 2)))
        draw.text((x, y), _random_word(rng), fill=255, font=_font(size))
    return grow(np.asarray(canvas) > 0, dilate)


def scratch_mask(height: int, width: int, rng: np.random.Generator, count: int | None = None) -> np.ndarray:
    """Thin, long, slightly curved lines, like scratches on a scanned print."""
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(count if count is not None else int(rng.integers(1, 5))):
        pts = _random_path(height, width, rng, steps=int(rng.integers(2, 5)), step=max(width, height) / 2)
        draw.line(pts, fill=255, width=int(rng.integers(1, 4)))
    return np.asarray(canvas) > 0


def stroke_mask(height: int, width: int, rng: np.random.Generator, count: int | None = None) -> np.ndarray:
    """Thick free-hand brush strokes, like a user painting over an object."""
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(count if count is not None else int(rng.integers(1, 4))):
        pts = _random_path(height, width, rng, steps=int(rng.integers(3, 8)), step=max(width, height) / 5)
        r = int(rng.integers(3, max(4, min(height, width) // 10)))
        draw.line(pts, fill=255, width=2 * r)
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(canvas) > 0


def random_mask(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """One of text / scratches / strokes, never empty."""
    kind = rng.choice(3, p=[0.5, 0.25, 0.25])
    makers = (
        lambda: text_mask(height, width, rng, size_range=(10, 34)),
        lambda: scratch_mask(height, width, rng),
        lambda: stroke_mask(height, width, rng),
    )
    mask = makers[kind]()
    if not mask.any():
        mask[height // 2, width // 2] = True
    return mask


def _random_path(height, width, rng, steps, step):
    x, y = rng.uniform(0, width), rng.uniform(0, height)
    pts = [(x, y)]
    angle = rng.uniform(0, 2 * np.pi)
    for _ in range(steps):
        angle += rng.uniform(-0.6, 0.6)
        length = rng.uniform(0.3, 1.0) * step
        x, y = x + length * np.cos(angle), y + length * np.sin(angle)
        pts.append((x, y))
    return pts

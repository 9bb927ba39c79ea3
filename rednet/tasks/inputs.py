"""What the network sees for each task, built the same way for training and for restoring.

- denoise: the noisy photo plus a constant noise-level map (sigma / 255), as in FFDNet, so one
  model covers sigma 0-75 and the user can turn the strength up or down.
- sr: the low-resolution photo bicubic-upscaled to the target size (as in the paper); no map.
- jpeg: the decoded JPEG plus a constant quality map (quality / 100); 0 means "quality unknown",
  which the model is also trained on, for photos that are no longer JPEG files.
- inpaint: the photo with its holes pre-filled by OpenCV's Telea method plus the mask (1 = fill);
  the network refines the fill, and only masked pixels are taken from its output.
"""

from __future__ import annotations

import numpy as np

from rednet.tasks import degradations as deg

SIGMA_MAX = 75.0
SCALE_RANGE = (1.25, 4.0)
QUALITY_RANGE = (5, 90)
UNKNOWN_QUALITY = 0
GRAY_FRACTION = 0.2  # share of denoise/jpeg training patches that are gray photos


def constant_map(like: np.ndarray, value: float) -> np.ndarray:
    return np.full(like.shape[:2] + (1,), value, dtype=np.float32)


def quality_channel_value(quality: int | None) -> float:
    if quality is None or quality == UNKNOWN_QUALITY:
        return 0.0
    return float(np.clip(quality, *QUALITY_RANGE)) / 100.0


def prefill_holes(img: np.ndarray, mask: np.ndarray, radius: int = 5) -> np.ndarray:
    """Fill masked pixels with OpenCV's Telea inpainting: a cheap, smooth first guess."""
    import cv2

    if not mask.any():
        return img.copy()
    u8 = deg.to_uint8(img)
    m8 = mask.astype(np.uint8) * 255
    planes = u8 if u8.shape[2] != 2 else u8[..., :1]
    filled = cv2.inpaint(np.ascontiguousarray(planes), m8, radius, cv2.INPAINT_TELEA)
    filled = filled.reshape(img.shape).astype(np.float32) / 255.0
    return np.where(mask[..., None], filled, img).astype(np.float32)


def network_input(task: str, degraded: np.ndarray, *, sigma: float | None = None,
                  quality: int | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """Stack the degraded photo (HxWx3, already at output size) with its task's condition channel."""
    if task == "denoise":
        return np.concatenate([degraded, constant_map(degraded, (sigma or 0.0) / 255.0)], axis=2)
    if task == "jpeg":
        return np.concatenate([degraded, constant_map(degraded, quality_channel_value(quality))], axis=2)
    if task == "inpaint":
        filled = prefill_holes(degraded, mask)
        return np.concatenate([filled, mask[..., None].astype(np.float32)], axis=2)
    if task == "sr":
        return degraded.astype(np.float32, copy=False)
    raise ValueError(f"unknown task {task!r}")


def training_pair(task: str, clean: np.ndarray, rng: np.random.Generator, patch: int) -> tuple[np.ndarray, np.ndarray]:
    """A random corruption of `clean` (HxWx3, at least patch+16 px each side) for `task`.

    Returns (network input, target), both `patch` x `patch`. Corruption parameters are drawn across
    the task's whole range so one model covers it.
    """
    # Gray photos reach the RGB model as three equal channels with equal noise/artefacts: without
    # such patches it learns to average independent channel noise that gray lacks.
    gray = task in ("denoise", "jpeg") and rng.random() < GRAY_FRACTION
    if gray:
        clean = np.repeat(clean.mean(axis=2, keepdims=True), 3, axis=2)
    if task == "jpeg":
        # Encode a larger crop and cut a random window, so JPEG's 8x8 grid is at a random phase.
        big = clean[: patch + 16, : patch + 16]
        q = int(rng.integers(QUALITY_RANGE[0], QUALITY_RANGE[1] + 1))
        decoded = deg.jpeg_degrade(big[..., :1] if gray else big, q)  # gray JPEGs have no chroma
        decoded = np.repeat(decoded, 3, axis=2) if gray else decoded
        oy, ox = rng.integers(0, 17, 2)
        target = big[oy:oy + patch, ox:ox + patch]
        decoded = decoded[oy:oy + patch, ox:ox + patch]
        known = rng.random() >= 0.2
        return network_input("jpeg", decoded, quality=q if known else None), target
    target = clean[:patch, :patch]
    if task == "denoise":
        sigma = float(rng.uniform(0.0, SIGMA_MAX))
        noisy = deg.add_gaussian_noise(target[..., :1] if gray else target, sigma, rng)
        noisy = np.repeat(noisy, 3, axis=2) if gray else noisy
        return network_input("denoise", noisy, sigma=sigma), target
    if task == "sr":
        scale = float(rng.uniform(*SCALE_RANGE))
        return network_input("sr", deg.bicubic_degrade(target, scale)), target
    if task == "inpaint":
        mask = deg.random_mask(patch, patch, rng)
        holed = np.where(mask[..., None], 0.0, target).astype(np.float32)
        return network_input("inpaint", holed, mask=mask), target
    raise ValueError(f"unknown task {task!r}")

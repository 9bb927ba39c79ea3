"""Training patches: random crops of clean photos, 8-fold flips/rotations, corrupted on the fly."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import tasks as T
from .imageio import ImageReadError, is_supported_image_path, read_photo


class DataError(ValueError):
    """Training data that cannot be used (empty folder, images too small, ...)."""


def find_images(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    return sorted(p for p in folder.rglob("*") if p.is_file() and is_supported_image_path(p))


def load_clean_images(paths: list[Path], min_side: int, skipped: list[str] | None = None) -> list[np.ndarray]:
    """Read photos as uint8 HxWx3 (gray replicated); unreadable or too-small ones are skipped and named."""
    images = []
    for path in paths:
        try:
            px = read_photo(path).pixels
        except ImageReadError as exc:
            if skipped is not None:
                skipped.append(str(exc))
            continue
        if min(px.shape[:2]) < min_side:
            if skipped is not None:
                skipped.append(f"{path.name}: {px.shape[1]}x{px.shape[0]} is smaller than {min_side} px")
            continue
        if px.shape[2] == 1:
            px = np.repeat(px, 3, axis=2)
        images.append((np.clip(px, 0, 1) * 255 + 0.5).astype(np.uint8))
    return images


def load_image_source(source: str | Path, min_side: int) -> list[np.ndarray]:
    """A folder of photos, or a .npy of uint8 crops (N x H x W x 3) packed for a remote machine."""
    source = Path(source)
    if source.suffix == ".npy":
        crops = np.load(source, allow_pickle=False, mmap_mode="r")
        if crops.ndim != 4 or crops.shape[3] != 3 or crops.dtype != np.uint8:
            raise DataError(f"{source}: expected uint8 crops shaped N x H x W x 3, got {crops.dtype} {crops.shape}")
        return [np.asarray(c) for c in crops]
    paths = find_images(source)
    if not paths:
        raise DataError(f"{source}: no images found (looked for png, jpg, tif, webp, bmp)")
    images = load_clean_images(paths, min_side)
    if not images:
        raise DataError(f"{source}: none of the {len(paths)} images is readable and at least {min_side} px")
    return images


def augment(patch: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 flips/rotations of the dihedral group."""
    if k >= 4:
        patch = patch[:, ::-1]
    return np.rot90(patch, k % 4)


class PatchSampler:
    """Draws corrupted/clean patch batches for `task` from a list of uint8 photos."""

    def __init__(self, images: list[np.ndarray], task: str, patch: int, rng: np.random.Generator):
        self.task, self.patch, self.rng = task, patch, rng
        self.crop = patch + 16  # room for JPEG's grid phase
        self.images = [im for im in images if min(im.shape[:2]) >= self.crop]
        if not self.images:
            raise DataError(f"no image is at least {self.crop} px on its short side")
        areas = np.array([im.shape[0] * im.shape[1] for im in self.images], dtype=np.float64)
        self.weights = areas / areas.sum()  # every pixel equally likely

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        im = self.images[self.rng.choice(len(self.images), p=self.weights)]
        y = int(self.rng.integers(0, im.shape[0] - self.crop + 1))
        x = int(self.rng.integers(0, im.shape[1] - self.crop + 1))
        crop = augment(im[y:y + self.crop, x:x + self.crop], int(self.rng.integers(0, 8)))
        clean = np.ascontiguousarray(crop, dtype=np.float32) / 255.0
        return T.training_pair(self.task, clean, self.rng, self.patch)

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        pairs = [self.sample() for _ in range(size)]
        inputs = np.stack([p[0] for p in pairs]).transpose(0, 3, 1, 2)
        targets = np.stack([p[1] for p in pairs]).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(inputs), np.ascontiguousarray(targets)

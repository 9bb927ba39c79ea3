"""Training patches: random crops of clean photos, 8-fold flips/rotations, corrupted on the fly."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rednet.errors import DataError
from rednet.io import ImageReadError, is_supported_image_path, read_photo
from rednet.io.safe_files import FileRefused, format_size, open_regular
from rednet.tasks import get_task


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


def load_image_source(
    source: str | Path, min_side: int, min_images: int = 1, skipped: list[str] | None = None
) -> list[np.ndarray]:
    """A folder of photos, or a .npy of uint8 crops (N x H x W x 3) packed for a remote machine.

    Unreadable or too-small photos are left out and named in `skipped`; fewer than `min_images`
    usable ones is a DataError, raised before anything trains."""
    source = Path(source)
    if source.suffix.lower() == ".npy":
        return [np.asarray(c) for c in load_crop_pack(source)]
    paths = find_images(source)
    if not paths:
        raise DataError(f"{source}: no images found (looked for png, jpg, tif, webp, bmp)")
    skipped = [] if skipped is None else skipped
    images = load_clean_images(paths, min_side, skipped)
    if len(images) < min_images:
        detail = f" (skipped: {'; '.join(skipped[:3])})" if skipped else ""
        noun = "photo" if min_images == 1 else "photos"
        raise DataError(
            f"{source}: need at least {min_images} readable {noun} of at least {min_side} px, "
            f"found {len(images)}{detail}"
        )
    return images


def load_crop_pack(path: str | Path) -> np.ndarray:
    """A .npy of uint8 crops (N x H x W x 3), memory-mapped read-only.

    The header is read and checked before anything else: a regular file only (never a pipe or a
    device), no pickled Python objects (`allow_pickle=False`), and a file at least as long as the
    header claims. Every problem is a DataError with one line naming the file."""
    path = Path(path)
    fmt = np.lib.format
    try:
        with open_regular(path, "crop pack") as fh:
            size = os.fstat(fh.fileno()).st_size
            try:
                version = fmt.read_magic(fh)
                if version == (1, 0):
                    shape, fortran, dtype = fmt.read_array_header_1_0(fh)
                elif version in ((2, 0), (3, 0)):
                    shape, fortran, dtype = fmt.read_array_header_2_0(fh)
                else:
                    raise ValueError(f"unknown .npy format version {version}")
            except (ValueError, SyntaxError, TypeError, EOFError, OverflowError) as exc:
                raise DataError(f"{path}: not a crop pack (.npy header unreadable: {_short(exc)})") from None
            offset = fh.tell()
    except FileRefused as exc:
        raise DataError(f"{path}: {exc.reason}") from None
    if dtype.hasobject:
        raise DataError(f"{path}: holds pickled Python objects, not uint8 crops (not loaded: it could run code)")
    if len(shape) != 4 or shape[3] != 3 or dtype != np.uint8:
        raise DataError(f"{path}: expected uint8 crops shaped N x H x W x 3, got {dtype} {tuple(shape)}")
    n, h, w, _ = (int(v) for v in shape)
    if n == 0 or h == 0 or w == 0:
        raise DataError(f"{path}: holds no crops ({n} x {h} x {w} x 3)")
    expected = n * h * w * 3
    if size - offset < expected:
        have = max(0, size - offset) // (h * w * 3)
        raise DataError(
            f"{path}: the header claims {n} crops of {w}x{h} ({format_size(expected)}) but the file "
            f"holds only {format_size(max(0, size - offset))} ({have} whole crops): truncated?"
        )
    try:
        return np.memmap(
            path, dtype=np.uint8, mode="r", shape=(n, h, w, 3), offset=offset, order="F" if fortran else "C"
        )
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the crop pack ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def texture(crop: np.ndarray) -> float:
    """Mean absolute gradient of a uint8 crop's luma, in 0..1 units (flat sky ~0.002, foliage ~0.05)."""
    luma = crop.astype(np.float32).mean(axis=2) / 255.0
    return float((np.abs(np.diff(luma, axis=0)).mean() + np.abs(np.diff(luma, axis=1)).mean()) / 2)


def augment(patch: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 flips/rotations of the dihedral group."""
    if k >= 4:
        patch = patch[:, ::-1]
    return np.rot90(patch, k % 4)


class PatchSampler:
    """Draws corrupted/clean patch batches for `task` from a list of uint8 photos."""

    def __init__(self, images: list[np.ndarray], task: str, patch: int, rng: np.random.Generator):
        self.task, self.spec, self.patch, self.rng = task, get_task(task), patch, rng
        self.crop = patch + 16  # room for JPEG's grid phase
        self.images = [im for im in images if min(im.shape[:2]) >= self.crop]
        if not self.images:
            raise DataError(f"no image is at least {self.crop} px on its short side")
        areas = np.array([im.shape[0] * im.shape[1] for im in self.images], dtype=np.float64)
        self.weights = areas / areas.sum()  # every pixel equally likely

    # Wallpaper photos are mostly sky and bokeh: two thirds of area-uniform crops have a mean
    # gradient under 4/255, where there is nothing to restore. Keep only some of those.
    FLAT_GRADIENT = 0.015
    FLAT_KEEP = 0.15

    def _draw_crop(self) -> np.ndarray:
        for _ in range(20):
            im = self.images[self.rng.choice(len(self.images), p=self.weights)]
            y = int(self.rng.integers(0, im.shape[0] - self.crop + 1))
            x = int(self.rng.integers(0, im.shape[1] - self.crop + 1))
            crop = im[y : y + self.crop, x : x + self.crop]
            if texture(crop) >= self.FLAT_GRADIENT or self.rng.random() < self.FLAT_KEEP:
                break
        return crop

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        crop = augment(self._draw_crop(), int(self.rng.integers(0, 8)))
        clean = np.ascontiguousarray(crop, dtype=np.float32) / 255.0
        return self.spec.training_pair(clean, self.rng, self.patch)

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        pairs = [self.sample() for _ in range(size)]
        inputs = np.stack([p[0] for p in pairs]).transpose(0, 3, 1, 2)
        targets = np.stack([p[1] for p in pairs]).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(inputs), np.ascontiguousarray(targets)


# --- corrupted/clean pairs (fine-tuning on the user's own material) -------------------------------
def load_pairs(clean_dir: str | Path, corrupted_dir: str | Path, task: str, min_side: int) -> list[tuple]:
    """Pairs (network-ready corrupted image HxWx3, clean HxWx3, condition) matched by file stem.

    For sr the corrupted photo may be smaller: it is bicubic-upscaled to the clean one's size, as at
    restore time. For denoise the noise level is measured from the pair; for jpeg the quality is read
    from the corrupted file when it is a JPEG.
    """
    spec = get_task(task)
    if not spec.learns_from_pairs:
        raise DataError(f"{spec.title} learns from clean photos, not pairs: fine-tune it without --pairs")
    clean_paths = {p.stem: p for p in find_images(clean_dir)}
    corrupted_paths = {p.stem: p for p in find_images(corrupted_dir)}
    if not clean_paths:
        raise DataError(f"{clean_dir}: no images found")
    common = sorted(set(clean_paths) & set(corrupted_paths))
    if not common:
        raise DataError(f"no file in {corrupted_dir} matches a file in {clean_dir} by name")
    pairs, problems = [], []
    for stem in common:
        try:
            clean_photo, bad_photo = read_photo(clean_paths[stem]), read_photo(corrupted_paths[stem])
        except ImageReadError as exc:
            problems.append(str(exc))
            continue
        clean, bad = (np.repeat(p.pixels, 3, axis=2) if p.is_gray else p.pixels for p in (clean_photo, bad_photo))
        if bad.shape != clean.shape:
            fitted = spec.fit_pair(bad, clean)
            if fitted is not None:
                bad = fitted
            else:
                problems.append(
                    f"{stem}: corrupted is {bad.shape[1]}x{bad.shape[0]} but clean is {clean.shape[1]}x{clean.shape[0]}"
                )
                continue
        if min(clean.shape[:2]) < min_side:
            problems.append(f"{stem}: smaller than {min_side} px")
            continue
        cond = spec.pair_options(bad_photo, bad, clean)
        pairs.append((bad.astype(np.float32), clean.astype(np.float32), cond))
    if not pairs:
        raise DataError("no usable pairs: " + "; ".join(problems[:5]))
    if problems and len(problems) > len(pairs):
        raise DataError(f"{len(problems)} of {len(common)} pairs are unusable, e.g. " + "; ".join(problems[:3]))
    return pairs


class PairSampler:
    """Aligned random crops of corrupted/clean pairs, with the same flip/rotation on both."""

    def __init__(self, pairs: list[tuple], task: str, patch: int, rng: np.random.Generator):
        self.pairs, self.task, self.spec, self.patch, self.rng = pairs, task, get_task(task), patch, rng
        areas = np.array([p[1].shape[0] * p[1].shape[1] for p in pairs], dtype=np.float64)
        self.weights = areas / areas.sum()

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        bad, clean, cond = self.pairs[self.rng.choice(len(self.pairs), p=self.weights)]
        y = int(self.rng.integers(0, clean.shape[0] - self.patch + 1))
        x = int(self.rng.integers(0, clean.shape[1] - self.patch + 1))
        k = int(self.rng.integers(0, 8))
        window = (slice(y, y + self.patch), slice(x, x + self.patch))
        bad_crop = np.ascontiguousarray(augment(bad[window], k))
        clean_crop = np.ascontiguousarray(augment(clean[window], k))
        return self.spec.network_input(bad_crop, **cond), clean_crop

    batch = PatchSampler.batch

"""What `rednet bench` runs on: its sizes and settings, the synthetic timing photo, each task's
degraded case of it, and the models (the shipped ones, given ones, or random-init stand-ins)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rednet.tasks import get_task

TIMING_SIZE = (1155, 866)  # 1.0 MP, 4:3
QUICK_SIZE = (160, 120)
MEMORY_MEGAPIXELS = (12.0, 24.0)
QUICK_MEMORY_MEGAPIXELS = (0.03,)
SIGMA, JPEG_QUALITY, SR_SCALE = 25.0, 20, 2


# --- photos --------------------------------------------------------------------------------------
def synthetic_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth photo-like image (gradients, blobs, a few edges), float32 HxWx3 in 0..1, 8-bit values.
    Built plane by plane from a row and a column vector: a few bytes per pixel beyond the result."""
    rng = np.random.default_rng(seed)
    yy = (np.arange(height, dtype=np.float32) / max(height, 1))[:, None]
    xx = (np.arange(width, dtype=np.float32) / max(width, 1))[None, :]
    img = np.empty((height, width, 3), np.float32)
    for c in range(3):
        fx, fy = rng.uniform(2, 9, 2)
        plane = np.sin(xx * np.float32(fx * 6.28) + c) * np.cos(yy * np.float32(fy * 6.28))
        plane *= 0.25
        plane += 0.5
        plane += np.float32(0.15) * ((xx * 7 + yy * 3 + c) % 1.0 > 0.5)
        img[..., c] = plane
        del plane
    np.clip(img, 0, 1, out=img)
    img *= 255
    np.round(img, out=img)
    img /= 255
    return img


def bench_photo(width: int, height: int) -> tuple[np.ndarray, str]:
    """A real photo (scikit-image's motorcycle, resized) when scikit-image is there, else synthetic."""
    try:
        import cv2

        from rednet.evaluation.evalset import load_eval_photo

        img = load_eval_photo("motorcycle_left", long_side=4096)
        img = cv2.resize(
            img, (width, height), interpolation=cv2.INTER_AREA if img.shape[1] > width else cv2.INTER_CUBIC
        )
        return np.clip(np.round(img * 255) / 255, 0, 1).astype(np.float32), "scikit-image motorcycle_left, resized"
    except (ImportError, OSError, ValueError, TypeError):
        return synthetic_photo(height, width), "synthetic"


def small_mask(height: int, width: int) -> np.ndarray:
    """A small inpainting mask: a few text-sized strokes, well under 1 % of the photo."""
    mask = np.zeros((height, width), bool)
    for k in range(3):
        y = int(height * (0.3 + 0.2 * k))
        x0, x1 = int(width * 0.2), int(width * (0.2 + 0.05 + 0.02 * k))
        mask[y : y + max(2, height // 150), x0 : max(x0 + 2, x1)] = True
    return mask


@dataclass
class Case:
    """One task's degraded input for the timing photo and how to score the result."""

    task: str
    degraded: np.ndarray  # what restore() gets (for sr: the low-resolution photo)
    options: dict
    clean: np.ndarray


def task_case(task: str, clean: np.ndarray, seed: int = 0) -> Case:
    """The task's typical degradation of `clean`; a mask is `small_mask` (the time of a small retouch)."""
    spec = get_task(task)
    setting = dict(spec.example)
    if spec.mask_option is not None:
        setting["mask"] = small_mask(*clean.shape[:2])
    d = spec.degrade(clean, np.random.default_rng(seed), **setting)
    return Case(task, d.pixels, d.options, d.clean)


def _as_photo(pixels: np.ndarray):
    from rednet.io import Photo

    return Photo(pixels=pixels, alpha=None, bit_depth=8, format="PNG")


# --- models --------------------------------------------------------------------------------------
@dataclass
class BenchModel:
    loaded: object  # LoadedModel
    path: Path
    source: str  # "shipped", "given" or "random-init"

    @property
    def name(self) -> str:
        return self.loaded.name


def find_models(given, workdir: Path) -> list[BenchModel]:
    """The models to bench: those given ({task: model} or [(task, model), ...], several per task
    allowed), else the shipped ones, else random-init RED20/RED30-64 denoisers."""
    from rednet.models.registry import list_models, load_model
    from rednet.paths import shipped_weights_dir

    if given:
        out = []
        for task, spec in given.items() if isinstance(given, dict) else given:
            loaded = load_model(spec, task=task)
            path = Path(loaded.path)
            shipped = path.resolve().parent == shipped_weights_dir().resolve()
            out.append(BenchModel(loaded, path, "shipped" if shipped else "given"))
        return out
    shipped = [m for m in list_models() if m.source == "shipped"]
    if shipped:
        return [BenchModel(load_model(m.path, task=m.task), m.path, "shipped") for m in shipped]
    return random_models(workdir)


def _trained(bm: BenchModel) -> bool:
    """Whether the model's card says it was trained (`rednet train` writes its data and recipe there)."""
    card = getattr(bm.loaded, "card", None) or {}
    return bm.source != "random-init" and ("training_data" in card or "recipe" in card)


def random_models(workdir: Path, depths=(20, 30), width: int = 64, task: str = "denoise") -> list[BenchModel]:
    import torch

    from rednet.models.registry import build_network, descriptor_for_task, load_model, save_model

    out = []
    for depth in depths:
        torch.manual_seed(depth)
        d = descriptor_for_task(task, depth=depth, width=width)
        path = save_model(
            build_network(d),
            d,
            Path(workdir) / f"random-red{depth}-{width}-{task}.safetensors",
            card={"summary": f"RED{depth}-{width}, random weights (benchmark only)"},
        )
        out.append(BenchModel(load_model(path, task=task), path, "random-init"))
    return out

"""Where the GUI finds its bundled files (icons and sample photos) and how it loads icons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

from rednet.io import is_supported_image_path
from rednet.paths import resources_dir, samples_dir


def icons_dir() -> Path:
    return resources_dir() / "icons"


def is_image_path(path: str | Path) -> bool:
    """Whether drag and drop, paste and the sample menu should offer this file (rednet decides)."""
    return is_supported_image_path(path)


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """An icon from rednet_resources/icons/NAME.svg (an empty icon if the file is missing)."""
    path = icons_dir() / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


APP_ICON = "rednet-studio"  # rednet_resources/icons/rednet-studio.svg, with .png and .ico renderings


@lru_cache(maxsize=None)
def app_icon() -> QIcon:
    """The application icon: the SVG (any size) plus its 256 px PNG rendering (for platforms or
    builds without the SVG icon engine). Empty if neither file is there."""
    result = QIcon()
    for suffix in (".svg", ".png"):
        path = icons_dir() / f"{APP_ICON}{suffix}"
        if path.is_file():
            result.addFile(str(path))
    return result


MASK_SUFFIX = "-mask"  # text-mask.png is the mask of text.png, not a photo
SAMPLE_TASKS = "samples.json"  # {"noisy.png": "denoise", ...}: the task each sample shows off


@dataclass(frozen=True)
class Sample:
    """A bundled sample photo, with the task it is for and, for inpainting, its mask."""

    path: Path
    task: str | None = None
    mask: Path | None = None

    @property
    def title(self) -> str:
        return self.path.name


def sample_photos(folder: Path | None = None) -> list[Sample]:
    """The samples folder's photos (masks are not photos), sorted by name."""
    folder = samples_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    try:
        tasks = json.loads((folder / SAMPLE_TASKS).read_text())
    except (OSError, ValueError):
        tasks = {}
    photos = [p for p in folder.iterdir() if p.is_file() and is_image_path(p)]
    samples = []
    for p in sorted(photos):
        if p.stem.endswith(MASK_SUFFIX):
            continue
        mask = p.with_name(p.stem + MASK_SUFFIX + ".png")
        task = tasks.get(p.name) if isinstance(tasks, dict) else None
        samples.append(Sample(p, task if isinstance(task, str) else None, mask if mask.is_file() else None))
    return samples

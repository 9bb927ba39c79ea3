"""Where the GUI finds its bundled files (icons and sample photos) and how it loads icons."""

from __future__ import annotations

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


def sample_photos(folder: Path | None = None) -> list[Path]:
    """Every image file in the samples folder, sorted by name."""
    folder = samples_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))

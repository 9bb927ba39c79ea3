"""Where shipped resources and user files live: a checkout, an installed wheel or a frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "rednet-studio"
RESOURCES_PACKAGE = "rednet_resources"  # resources/ as package data of an installed wheel


def resources_dir() -> Path:
    """The `resources/` folder (weights, samples, icons), wherever this copy of rednet runs from.

    In order: $REDNET_RESOURCES; a PyInstaller bundle (`sys._MEIPASS/resources`); a checkout
    (`resources/` beside the packages, next to pyproject.toml); an installed wheel, which carries the
    folder as the package `rednet_resources` (found with importlib.resources).
    """
    override = os.environ.get("REDNET_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "resources").is_dir():
        return checkout / "resources"
    installed = _installed_resources()
    return installed if installed is not None else checkout / "resources"


def _installed_resources() -> Path | None:
    """The `rednet_resources` package folder of an installed wheel, or None."""
    from importlib import resources
    from importlib.util import find_spec

    try:
        if find_spec(RESOURCES_PACKAGE) is None:
            return None
        root = resources.files(RESOURCES_PACKAGE)
    except (ImportError, ValueError, TypeError):
        return None
    # Wheels install unpacked, so this is a real folder (weights must be files for safetensors).
    path = Path(str(root))
    return path if path.is_dir() else None


def shipped_weights_dir() -> Path:
    return resources_dir() / "weights"


def samples_dir() -> Path:
    return resources_dir() / "samples"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_models_dir() -> Path:
    return user_data_dir() / "models"


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Files that can be recomputed at any time (e.g. `rednet eval`'s peer scores)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))

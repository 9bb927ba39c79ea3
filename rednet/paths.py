"""Where shipped resources and user files live: a checkout, an installed wheel or a frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "rednet-studio"


def resources_dir() -> Path:
    """The `resources/` folder: beside the packages in a checkout, or inside a PyInstaller bundle."""
    override = os.environ.get("REDNET_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


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

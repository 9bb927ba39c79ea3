"""Where shipped resources and user files live: a checkout, an installed wheel or a frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "rednet-studio"


def resources_dir() -> Path:
    """The shipped resources (weights, samples, icons), wherever this copy of rednet runs from.

    In order: $REDNET_RESOURCES; a PyInstaller bundle (`sys._MEIPASS/resources`); otherwise the
    package `rednet_resources` (the `rednet_resources/` folder of a checkout or of an installed wheel).
    """
    override = os.environ.get("REDNET_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    import rednet_resources

    return Path(rednet_resources.__file__).resolve().parent


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

"""Preferences stored in an INI file under the platformdirs config folder.

`Settings()` opens `user_config_dir("rednet-studio")/settings.ini` with QSettings(IniFormat). A file
that cannot be parsed (binary junk, broken sections) is moved aside to `settings.ini.corrupt` and
the defaults are used; a single value of the wrong type falls back to its default. Either way a
warning is logged and kept in `Settings.warnings` for the window to show.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from rednet.io.safe_files import FileRefused, read_bytes
from rednet.paths import user_config_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    kind: type
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None


# Every preference, with its type and default.
DEVICE = Key("run/device", "auto", str)
TILE = Key("run/tile", 0, int, 0, 4096)  # 0 = automatic
SAVE_JPEG_QUALITY = Key("save/jpeg_quality", 92, int, 1, 100)
# write_photo's png_compression: "fast" (the default there too) or "small" (the smallest file, much slower)
SAVE_PNG_COMPRESSION = Key("save/png_compression", "fast", str, choices=("fast", "small"))
COMPARE_MODE = Key("view/compare_mode", "split", str, choices=("single", "split", "side-by-side"))
MASK_OPACITY = Key("view/mask_opacity", 0.5, float, 0.05, 1.0)
BRUSH_SIZE = Key("mask/brush_size", 24, int, 1, 500)
LAST_DIR = Key("files/last_dir", "", str)
RECENT = Key("files/recent", [], list)
GEOMETRY = Key("window/geometry", QByteArray(), QByteArray)
WINDOW_STATE = Key("window/state", QByteArray(), QByteArray)

ALL_KEYS = (
    DEVICE,
    TILE,
    SAVE_JPEG_QUALITY,
    SAVE_PNG_COMPRESSION,
    COMPARE_MODE,
    MASK_OPACITY,
    BRUSH_SIZE,
    LAST_DIR,
    RECENT,
    GEOMETRY,
    WINDOW_STATE,
)


def config_dir() -> Path:
    """platformdirs.user_config_dir("rednet-studio") (XDG_CONFIG_HOME on Linux)."""
    return user_config_dir()


def settings_path() -> Path:
    return config_dir() / "settings.ini"


def _looks_corrupt(path: Path) -> str | None:
    """Why the file is unusable, or None if it looks like a sane INI file."""
    try:  # regular files only, at most 1 MB: a pipe or a device in its place would hang the start-up
        data = read_bytes(path, "settings")
    except FileRefused as exc:
        return exc.reason
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if b"\x00" in data:
        return "it contains binary data"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "it is not UTF-8 text"
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith((";", "#")):
            continue
        if s.startswith("[") and not s.endswith("]"):
            return f"broken section header {s[:40]!r}"
        if not s.startswith("[") and "=" not in s:
            return f"line without '=': {s[:40]!r}"
    return None


class Settings:
    """Typed access to the INI file; reading never raises."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else settings_path()
        self.warnings: list[str] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # e.g. a file where the folder should be: run on defaults, in memory
            self._warn(
                f"Cannot use the settings folder {self.path.parent} ({exc.strerror or exc}); "
                "using the defaults, and changes will not be kept."
            )
        if self.path.exists():
            reason = _looks_corrupt(self.path)
            if reason is None:
                probe = QSettings(str(self.path), QSettings.Format.IniFormat)
                if probe.status() != QSettings.Status.NoError:
                    reason = "it could not be parsed"
                del probe
            if reason is not None:
                backup = self.path.with_name(self.path.name + ".corrupt")
                try:
                    os.replace(self.path, backup)
                    moved = f"; it was moved to {backup}"
                except OSError:
                    moved = ""
                self._warn(f"The settings file {self.path} is unreadable ({reason}){moved}. Using the defaults.")
        self.qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _warn(self, message: str) -> None:
        log.warning(message)
        self.warnings.append(message)

    # ------------------------------------------------------------------ access
    def get(self, key: Key) -> Any:
        raw = self.qsettings.value(key.name, None)
        if raw is None:
            return _copy_default(key)
        try:
            value = _convert(raw, key)
        except (TypeError, ValueError):
            self._warn(f"Setting {key.name}={raw!r} is invalid; using the default {key.default!r}.")
            self.qsettings.remove(key.name)
            return _copy_default(key)
        return value

    def set(self, key: Key, value: Any) -> None:
        self.qsettings.setValue(key.name, value)

    def sync(self) -> None:
        self.qsettings.sync()

    def reset(self) -> None:
        self.qsettings.clear()
        self.qsettings.sync()


def _copy_default(key: Key) -> Any:
    d = key.default
    if isinstance(d, list):
        return list(d)
    if isinstance(d, QByteArray):
        return QByteArray(d)
    return d


def _convert(raw: Any, key: Key) -> Any:
    if key.kind is bool:
        if isinstance(raw, bool):
            return raw
        s = str(raw).strip().lower()
        if s in ("true", "1", "yes"):
            return True
        if s in ("false", "0", "no"):
            return False
        raise ValueError(raw)
    if key.kind in (int, float):
        value = key.kind(float(raw)) if key.kind is int else float(raw)
        if key.kind is int and float(raw) != int(float(raw)):
            raise ValueError(raw)
        if (key.minimum is not None and value < key.minimum) or (key.maximum is not None and value > key.maximum):
            raise ValueError(raw)
        return value
    if key.kind is str:
        if not isinstance(raw, str):
            raise TypeError(raw)
        if key.choices is not None and raw not in key.choices:
            raise ValueError(raw)
        return raw
    if key.kind is list:
        if isinstance(raw, str):
            return [raw] if raw else []
        if isinstance(raw, (list, tuple)) and all(isinstance(x, str) for x in raw):
            return list(raw)
        raise TypeError(raw)
    if key.kind is QByteArray:
        if isinstance(raw, QByteArray):
            return raw
        if isinstance(raw, (bytes, bytearray)):
            return QByteArray(bytes(raw))
        raise TypeError(raw)
    raise TypeError(key.kind)

"""Fixtures and helpers for the GUI tests. tests/app/conftest.py registers the fixtures for every test
module there; the helpers (smooth_pixels, choose_model, paint, ...) are imported where they are used.

- `app_env`: config, data and cache folders under tmp_path (never the real user's); a resources
  folder with no shipped weights and no samples.
- `dialogs`: every modal dialog in app.dialogs.prompts replaced by a recorder with scripted answers.
- `window`: a shown MainWindow that is closed without prompts at the end.
- `tiny_user_models`: untrained depth-4 RED-Nets saved in the (temporary) user models folder, so they
  appear in the model picker like a user's own models.
- `make_photo`: writes small synthetic photos (64x48 by default) with rednet.io.
- `busy_window`: the `window` with a photo, an unsaved denoised result and a painted mask.
"""

from __future__ import annotations

import errno
import functools
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

W, H = 64, 48


def smooth_pixels(h: int = H, w: int = W, channels: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    planes = []
    for _ in range(channels):
        fx, fy, ph = rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2), rng.uniform(0, 6.28)
        planes.append(0.5 + 0.35 * np.sin(xx * fx + ph) * np.cos(yy * fy))
    return np.clip(np.stack(planes, axis=-1), 0, 1).astype(np.float32)


def exif_bytes(make: str = "RED-Net Test Camera") -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = make  # Make
    exif[0x0131] = "rednet-studio tests"  # Software
    data = exif.tobytes()
    return data if data.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + data


@functools.lru_cache(maxsize=1)
def srgb_icc() -> bytes:
    """An sRGB ICC profile (made once: the header holds its creation time)."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Isolated platformdirs folders, and a resources folder with the real icons but no shipped
    weights and no samples (so tests do not depend on what the core team has shipped yet)."""
    from rednet.paths import resources_dir

    real_icons = resources_dir() / "icons"
    home = tmp_path / "home"
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    resources = tmp_path / "resources"
    (resources / "weights").mkdir(parents=True)
    (resources / "samples").mkdir()
    (resources / "icons").symlink_to(real_icons, target_is_directory=True)
    monkeypatch.setenv("REDNET_RESOURCES", str(resources))
    return home


class DialogRecorder:
    """Stands in for app.dialogs.prompts: records calls, answers from per-function queues."""

    def __init__(self):
        self.calls: list[tuple[str, tuple]] = []
        self.answers: dict[str, list] = {}

    def answer(self, name: str, *values) -> None:
        self.answers.setdefault(name, []).extend(values)

    def named(self, name: str) -> list[tuple]:
        return [args for n, args in self.calls if n == name]

    def _make(self, name: str, default=None, must_answer: bool = False):
        def fn(*args, **kwargs):
            self.calls.append((name, args))
            queue = self.answers.get(name)
            if queue:
                return queue.pop(0)
            if must_answer:
                raise AssertionError(f"unexpected dialog {name}{args[1:]!r}")
            return default

        return fn


@pytest.fixture
def dialogs(monkeypatch):
    import app.dialogs.prompts as d

    rec = DialogRecorder()
    for name, default, must in (
        ("ask_open_path", "", False),
        ("ask_save_path", "", False),
        ("ask_mask_save_path", "", False),
        ("ask_yes_no", False, False),
        ("ask_save_discard_cancel", None, True),
        ("show_error", None, False),
        ("show_warning", None, False),
        ("show_about", None, False),
    ):
        monkeypatch.setattr(d, name, rec._make(name, default, must))
    return rec


@pytest.fixture
def window(qtbot, app_env, dialogs):
    from app.main_window import MainWindow

    w = MainWindow()  # not qtbot.addWidget: pytest-qt would close it before our teardown runs
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.runner.shutdown()
    w.estimator.shutdown()
    if w.doc is not None:
        w.doc.saved_photo = w.doc.current  # no unsaved-result prompt at teardown
    w.close()
    w.deleteLater()
    qtbot.wait(1)


@pytest.fixture
def make_photo(tmp_path):
    """make_photo(name, w=64, h=48, channels=3, bit_depth=8, exif=None, icc=None, quality=95) -> Path."""
    from rednet.io import Photo, write_photo

    def make(
        name: str = "photo.png",
        w: int = W,
        h: int = H,
        channels: int = 3,
        bit_depth: int = 8,
        exif: bytes | None = None,
        icc: bytes | None = None,
        quality: int = 95,
        seed: int = 0,
        folder: Path | None = None,
    ) -> Path:
        path = (folder or tmp_path) / name
        photo = Photo(pixels=smooth_pixels(h, w, channels, seed), bit_depth=bit_depth, exif=exif, icc=icc)
        write_photo(photo, path, jpeg_quality=quality)
        return path

    return make


@pytest.fixture
def tiny_user_models(app_env):
    """{task: path} of tiny untrained models in the user models folder (they show in the picker)."""
    import torch

    from rednet.models.registry import build_network, descriptor_for_task, save_model
    from rednet.paths import user_models_dir
    from rednet.tasks import TASKS

    paths = {}
    for i, task in enumerate(TASKS):
        torch.manual_seed(i)
        d = descriptor_for_task(task, depth=4, width=8)
        paths[task] = save_model(
            build_network(d),
            d,
            user_models_dir() / f"tiny-{task}.safetensors",
            card={"summary": f"tiny test {task} model"},
        )
    return paths


def choose_model(window, path) -> None:
    """Pick a model file in the panel's model picker (it must be listed there)."""
    window.panel.refresh_models()  # what opening the picker does
    combo = window.panel.model_combo
    idx = combo.findData(str(path))
    assert idx >= 0, f"{path} is not in the model picker: {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(idx)


def wait_idle(qtbot, window, timeout: int = 10000) -> None:
    """Wait until the restore runner and the noise estimator are both idle."""
    qtbot.waitUntil(lambda: not window.runner.running and not window.estimator.running, timeout=timeout)


# ------------------------------------------------------------------ driving the window (reliability, autosave)
def use_model(window, monkeypatch, tiny_models) -> None:
    """Restore with the tiny model of whichever task is chosen (they are not in the picker)."""
    monkeypatch.setattr(window.panel, "model", lambda: str(tiny_models[window.panel.task()]))


def run_restore(qtbot, window, task: str = "denoise") -> None:
    window.panel.set_task(task)
    with qtbot.waitSignal(window.runner.done, timeout=30000):
        assert window.start_restore()


def paint(qtbot, window, points, size: int = 6) -> None:
    """A brush stroke through image points, with the mouse on the canvas."""
    window.panel.set_task("inpaint")
    assert window.actions["brush"].isChecked()
    window.mask_panel.set_brush_size(size)
    c = window.compare.canvas
    pts = [c.image_to_widget(QPointF(x, y)).toPoint() for x, y in points]
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(c, p)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=pts[-1])
    assert not window.doc.mask.is_empty()


def wait_autosave(qtbot, window, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: not window.autosave.busy, timeout=timeout)


def autosave_now(qtbot, window) -> None:
    """What the 30 s timer does."""
    window.autosave.timer.timeout.emit()
    wait_autosave(qtbot, window)


def error_calls(dialogs) -> list[tuple]:
    """The error boxes shown so far (through the `dialogs` recorder)."""
    return dialogs.named("show_error")


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).rglob("*") if p.name.startswith(".") or p.suffix == ".tmp")


def session_meta(folder: Path) -> dict:
    """An autosave session folder's session.json."""
    from app.services.autosave_store import SESSION_FILE

    return json.loads((folder / SESSION_FILE).read_text(encoding="utf-8"))


def close_quietly(w) -> None:
    """Close a window the test made itself, without the unsaved-result question."""
    w.runner.shutdown()
    if w.doc is not None:
        w.doc.saved_photo = w.doc.current
    w.close()
    w.deleteLater()


class FailingFile:
    """A file whose write() fails like a full disk (after writing half of the data)."""

    def __init__(self, fh, code: int):
        self.fh, self.code = fh, code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()

    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        raise OSError(self.code, os.strerror(self.code))

    def flush(self):
        self.fh.flush()

    def fileno(self):
        return self.fh.fileno()


def break_writes(monkeypatch, code: int = errno.ENOSPC, at: str = "write") -> None:
    """rednet.io's atomic writer fails: at 'open' (read-only folder) or 'write' (disk full)."""
    import builtins

    def fake_open(path, mode="r", *args, **kwargs):
        if at == "open":
            raise OSError(code, os.strerror(code), str(path))
        return FailingFile(builtins.open(path, mode, *args, **kwargs), code)

    monkeypatch.setattr("rednet.io.atomic.open", fake_open, raising=False)


@pytest.fixture
def busy_window(window, make_photo, tiny_models, qtbot, monkeypatch):
    """A window with a photo, an unsaved denoised result and a painted mask."""
    assert window.open_path(make_photo("current.png"))
    use_model(window, monkeypatch, tiny_models)
    run_restore(qtbot, window)
    paint(qtbot, window, [(8, 8), (30, 20)])
    wait_autosave(qtbot, window)
    assert window.doc.has_unsaved_result and not window.doc.mask.is_empty()
    return window

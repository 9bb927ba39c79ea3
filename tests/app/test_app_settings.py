"""Preferences in an INI file under the platformdirs config folder, the corrupt-file fallback,
remembered window geometry, the Preferences dialog, and the keyboard shortcuts list."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from app.dialogs.preferences import PreferencesDialog
from app.dialogs.shortcuts import SHORTCUTS, ShortcutsDialog, rows
from app.services import settings as S
from rednet.engine.device import available_devices


def test_settings_file_lives_in_the_platformdirs_config_folder(app_env):
    s = S.Settings()
    expected = Path(os.environ["XDG_CONFIG_HOME"]) / "rednet-studio" / "settings.ini"
    assert s.path == expected
    s.set(S.TILE, 256)
    s.set(S.DEVICE, "cpu")
    s.sync()
    text = expected.read_text()
    assert "[run]" in text and "tile=256" in text and "device=cpu" in text
    again = S.Settings()
    assert again.get(S.TILE) == 256 and again.get(S.DEVICE) == "cpu" and again.warnings == []


def test_defaults_without_a_file(app_env):
    s = S.Settings()
    assert s.get(S.DEVICE) == "auto" and s.get(S.TILE) == 0 and s.get(S.RECENT) == []
    assert s.get(S.COMPARE_MODE) == "split"


@pytest.mark.parametrize(
    "junk",
    [
        b"\x00\x01\x02\xff\xfe garbage [[[ ===\n\x00",
        b"[run\ndevice=cpu\n",
        b"\xc3\x28 invalid utf-8 =\n",
        b"[run]\nthis line has no equals sign\n",
    ],
)
def test_a_corrupt_file_falls_back_to_defaults_with_a_warning(app_env, caplog, junk):
    path = S.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junk)
    with caplog.at_level("WARNING"):
        s = S.Settings()
    assert s.get(S.TILE) == 0 and s.get(S.DEVICE) == "auto"
    assert len(s.warnings) == 1 and "Using the defaults" in s.warnings[0]
    assert "settings.ini" in caplog.text
    assert path.with_name("settings.ini.corrupt").read_bytes() == junk
    s.set(S.TILE, 64)
    s.sync()
    assert S.Settings().get(S.TILE) == 64  # a fresh, valid file replaced it


def test_an_invalid_value_falls_back_to_its_default(app_env):
    path = S.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[run]\ntile=banana\ndevice=cpu\n[view]\ncompare_mode=sideways\nmask_opacity=7\n")
    s = S.Settings()
    assert s.get(S.TILE) == 0 and s.get(S.DEVICE) == "cpu"
    assert s.get(S.COMPARE_MODE) == "split" and s.get(S.MASK_OPACITY) == 0.5
    assert len(s.warnings) == 3


def test_window_shows_the_settings_warning(app_env, qtbot, dialogs):
    path = S.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00junk")
    from app.main_window import MainWindow

    w = MainWindow()
    try:
        assert "Using the defaults" in w.statusBar().currentMessage()
    finally:
        w.close()
        w.deleteLater()


def test_window_geometry_is_remembered(app_env, qtbot, dialogs):
    from app.main_window import MainWindow

    w = MainWindow()
    w.show()
    qtbot.waitExposed(w)
    w.resize(700, 520)
    qtbot.waitUntil(lambda: w.size().width() == 700)
    w.history_dock.hide()
    w.close()
    w.deleteLater()
    w2 = MainWindow()
    try:
        w2.show()
        qtbot.waitExposed(w2)
        assert (w2.width(), w2.height()) == (700, 520)
        assert not w2.history_dock.isVisible()
    finally:
        w2.close()
        w2.deleteLater()


def test_preferences_dialog_lists_devices_and_saves(window, qtbot):
    dlg = window.show_preferences()
    qtbot.waitExposed(dlg)
    assert isinstance(dlg, PreferencesDialog) and dlg.isVisible()  # open(): not blocking
    devices = [dlg.device_combo.itemData(i) for i in range(dlg.device_combo.count())]
    assert devices == ["auto", *available_devices()]
    dlg.device_combo.setCurrentIndex(devices.index("cpu"))
    dlg.tile_spin.setValue(128)
    dlg.jpeg_spin.setValue(80)
    dlg.compare_combo.setCurrentIndex(dlg.compare_combo.findData("side-by-side"))
    dlg.opacity_spin.setValue(0.3)
    dlg.png_combo.setCurrentIndex(dlg.png_combo.findData("small"))
    dlg.accept()
    fresh = S.Settings()
    assert fresh.get(S.SAVE_PNG_COMPRESSION) == "small"
    assert fresh.get(S.DEVICE) == "cpu" and fresh.get(S.TILE) == 128
    assert fresh.get(S.SAVE_JPEG_QUALITY) == 80 and fresh.get(S.COMPARE_MODE) == "side-by-side"
    assert window.compare.canvas.mask_opacity == pytest.approx(0.3)


def test_restore_uses_device_and_tile_from_preferences(window, make_photo):
    window.settings.set(S.DEVICE, "cpu")
    window.settings.set(S.TILE, 96)
    window.open_path(make_photo("opts.png"))
    request = window.restore_request()
    assert request.device == "cpu" and request.tile == 96
    kwargs = request.restore_keywords()  # what rednet.engine.restore.restore gets
    assert kwargs["device"] == "cpu" and kwargs["tile"] == 96 and kwargs["sigma"] is None
    window.settings.set(S.TILE, 0)
    assert window.restore_request().tile is None  # automatic


def test_preferences_restore_defaults(window, qtbot):
    window.settings.set(S.TILE, 512)
    dlg = PreferencesDialog(window.settings, window)
    assert dlg.tile_spin.value() == 512
    dlg.restore_defaults()
    assert dlg.tile_spin.value() == 0 and dlg.tile_spin.text() == "Automatic"
    dlg.reject()
    assert window.settings.get(S.TILE) == 512  # cancel keeps the old value


def test_every_action_has_its_shortcut_and_the_list_shows_them(window, qtbot):
    for action_id, (_group, keys, _text) in SHORTCUTS.items():
        a = window.actions[action_id]
        assert [s.toString() for s in a.shortcuts()] == [QKeySequence(k).toString() for k in keys]
    common = (
        "open",
        "save",
        "save_as",
        "undo",
        "redo",
        "zoom_in",
        "zoom_out",
        "zoom_fit",
        "zoom_100",
        "restore",
        "cancel",
        "brush",
        "brush_smaller",
        "brush_bigger",
        "paste",
        "quit",
    )
    assert all(window.actions[c].shortcut().toString() for c in common)
    listed = rows()
    for _action_id, (_group, keys, text) in SHORTCUTS.items():
        if keys:
            assert any(r[2] == text for r in listed), text
    assert any("\\" in r[1] for r in listed) and any("Space" in r[1] for r in listed)


def test_help_shortcuts_opens_the_list(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dlg = window._shortcuts_dialog
    assert isinstance(dlg, ShortcutsDialog) and dlg.isVisible()
    assert dlg.table.rowCount() == len(rows())
    texts = {dlg.table.item(r, 2).text() for r in range(dlg.table.rowCount())}
    assert "Open a photo" in texts and "Flash the original while the key is held" in texts
    dlg.close()


def test_menus_cover_the_actions(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Mask", "Restore", "Tools", "Help"]
    in_menus = set()

    def walk(menu):
        for a in menu.actions():
            if a.menu():
                walk(a.menu())
            else:
                in_menus.add(a)

    for a in window.menuBar().actions():
        walk(a.menu())
    assert all(window.actions[k] in in_menus for k in SHORTCUTS)

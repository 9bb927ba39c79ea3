"""The window's layout survives what users do to it: shrinking it to its minimum and back leaves the
Restore panel whole (not scrolling beside an oversized History), also after a restart."""

from __future__ import annotations

import pytest

from app.services import settings as S
from tests.support.app_fixtures import close_quietly


def panel_fits(window) -> bool:
    scroll = window.restore_dock.widget()
    return not scroll.verticalScrollBar().isVisible() and scroll.verticalScrollBar().maximum() == 0


def shrink_and_restore(window, qtbot) -> None:
    window.resize(1280, 820)
    qtbot.wait(30)
    window.resize(window.minimumSizeHint())
    qtbot.waitUntil(lambda: not panel_fits(window))  # at the minimum the panel has to scroll
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: panel_fits(window))


def test_shrinking_to_the_minimum_and_back_gives_the_panel_its_room_again(window, qtbot):
    window.resize(1280, 820)
    qtbot.waitUntil(lambda: window.history_dock.height() > 0)
    first = window.history_dock.height()
    shrink_and_restore(window, qtbot)
    assert window.history_dock.height() == pytest.approx(first, abs=8)
    assert window.panel.progress.isVisible()
    bottom = window.panel.progress.mapTo(window, window.panel.progress.rect().bottomLeft()).y()
    assert bottom < window.history_dock.geometry().top()  # the progress bar is on screen, above History


def test_a_layout_saved_after_such_a_resize_opens_whole(window, qtbot, app_env):
    from app.main_window import MainWindow

    shrink_and_restore(window, qtbot)
    window.resize(window.minimumSizeHint())  # closed while small: the damage was saved
    qtbot.waitUntil(lambda: not panel_fits(window))
    window.settings.set(S.GEOMETRY, window.saveGeometry())
    window.settings.set(S.WINDOW_STATE, window.saveState())
    window.settings.sync()
    again = MainWindow()
    try:
        again.show()
        qtbot.waitExposed(again)
        again.resize(1280, 820)
        qtbot.waitUntil(lambda: panel_fits(again))
    finally:
        close_quietly(again)


def test_the_taller_inpaint_page_gets_its_room_from_history(window, qtbot):
    from PySide6.QtCore import Qt

    window.resize(1280, 820)
    qtbot.wait(100)  # the docks settle
    chrome = window.restore_dock.height() - window.restore_dock.widget().viewport().height()
    fits_denoise = window.panel.sizeHint().height() + chrome + 4
    docks = [window.restore_dock, window.history_dock]
    total = sum(d.height() for d in docks)
    window.resizeDocks(docks, [fits_denoise, total - fits_denoise], Qt.Orientation.Vertical)  # History dragged up
    qtbot.wait(100)
    assert panel_fits(window)
    window.panel.set_task("inpaint")  # the mask controls make the panel taller
    qtbot.waitUntil(lambda: panel_fits(window))

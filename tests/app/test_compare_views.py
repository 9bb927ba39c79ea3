"""The compare views as a photographer checks them: side by side lines up after an upscale, the zoom
figure is right after a resize, Ctrl+1 keeps the photo centred, a zoomed view keeps its region when
the size changes, and the loupe magnifies Before and After under the pointer."""

from __future__ import annotations

import os
import sys

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from app.canvas.compare import CompareMode, CompareView
from app.canvas.image_convert import qimage_to_uint8

W, H = 64, 48


def halves(w: int, h: int, left: tuple, right: tuple) -> QImage:
    """An image whose left half is one colour and right half another."""
    img = QImage(w, h, QImage.Format.Format_RGB888)
    img.fill(QColor(*left))
    for x in range(w // 2, w):
        for y in range(h):
            img.setPixelColor(x, y, QColor(*right))
    return img


def grab(widget):
    return qimage_to_uint8(widget.grab().toImage())[:, :, :3]


@pytest.fixture
def view(qtbot):
    v = CompareView()
    qtbot.addWidget(v)
    v.resize(600, 300)
    v.show()
    qtbot.waitExposed(v)
    return v


def centre_point(canvas) -> QPointF:
    return canvas.widget_to_image(QPointF(canvas.width() / 2.0, canvas.height() / 2.0))


def test_side_by_side_panes_show_the_same_region_of_an_upscaled_result(view, qtbot):
    original = halves(W, H, (255, 0, 0), (0, 0, 255))
    result = halves(2 * W, 2 * H, (255, 0, 0), (0, 0, 255))
    view.set_images(result, original)
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    qtbot.waitUntil(view.before_canvas.isVisible)
    view.zoom_actual()  # Ctrl+1, then a wheel zoom, as in the walkthrough
    view.canvas.zoom_to(3.0, QPointF(40, 40))
    before, after = view.before_canvas, view.canvas
    assert centre_point(before) == centre_point(after)  # in the result's pixels, both panes
    assert before.effective_zoom() == after.effective_zoom()
    # and they look alike: the colour boundary is at the same place in both panes
    row = before.height() // 2
    left, right = grab(before)[row], grab(after)[row]
    boundary = after.image_to_widget(QPointF(W, 0)).x()
    for x in (int(boundary) - 4, int(boundary) + 4):
        if 0 <= x < min(before.width(), after.width()):
            assert tuple(left[x]) == tuple(right[x])


def test_the_zoom_figure_follows_a_resize_of_a_fitted_view(window, make_photo, qtbot):
    assert window.open_path(make_photo("fit.png", w=800, h=600))
    before = window.zoom_label.text()
    window.resize(700, 500)
    qtbot.waitUntil(lambda: window.zoom_label.text() != before)
    assert window.zoom_label.text() == f"{window.compare.zoom() * 100:.0f}%"
    window.resize(1200, 900)
    qtbot.waitUntil(lambda: window.zoom_label.text() == f"{window.compare.zoom() * 100:.0f}%")


def test_ctrl_1_keeps_a_photo_that_fits_centred(view):
    view.set_images(halves(W, H, (255, 0, 0), (0, 0, 255)))
    c = view.canvas
    view.state.set_view(4.0, QPointF(5, 5))  # zoomed in around a corner first
    view.zoom_actual()
    r = c.image_rect_in_widget()
    assert r.center().x() == pytest.approx(c.width() / 2, abs=1)
    assert r.center().y() == pytest.approx(c.height() / 2, abs=1)


def test_a_zoomed_view_keeps_its_region_when_the_result_grows(view):
    view.set_images(halves(W, H, (255, 0, 0), (0, 0, 255)))
    view.state.set_view(16.0, QPointF(20, 30))
    before = view.canvas.visible_image_rect()
    view.set_images(halves(2 * W, 2 * H, (255, 0, 0), (0, 0, 255)), halves(W, H, (255, 0, 0), (0, 0, 255)))
    after = view.canvas.visible_image_rect()
    assert view.zoom() == pytest.approx(8.0)
    assert after.center().x() == pytest.approx(2 * before.center().x(), abs=1)
    assert after.center().y() == pytest.approx(2 * before.center().y(), abs=1)


def move_mouse(widget, pos: QPoint) -> None:
    ev = QMouseEvent(
        QMouseEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(widget.mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, ev)


def test_the_loupe_shows_before_and_after_magnified_without_changing_the_zoom(view):
    original = halves(W, H, (255, 0, 0), (255, 0, 0))  # red
    result = halves(W, H, (0, 0, 255), (0, 0, 255))  # blue
    view.set_images(result, original)
    view.zoom_fit()
    c = view.canvas
    zoom = c.effective_zoom()
    pointer = c.image_to_widget(QPointF(W / 2, H / 2)).toPoint()
    move_mouse(c, pointer)
    view.set_loupe(True)
    left, right = c.loupe_rects(QPointF(pointer))
    shot = grab(c)
    assert tuple(shot[int(left.center().y()), int(left.center().x()) - 20]) == (255, 0, 0)  # Before
    assert tuple(shot[int(right.center().y()), int(right.center().x()) + 20]) == (0, 0, 255)  # After
    assert c.loupe_zoom() >= 2.0 and c.effective_zoom() == zoom
    view.set_loupe(False)
    assert tuple(grab(c)[int(left.center().y()), int(left.center().x()) - 20]) != (255, 0, 0)


def test_the_loupe_action_is_in_the_view_menu_and_toggles_with_l(window, make_photo, qtbot):
    window.open_path(make_photo("loupe.png"))
    action = window.actions["loupe"]
    assert action in window.menus["View"].actions() and action.isEnabled()
    window.activateWindow()
    window.compare.canvas.setFocus()
    qtbot.keyClick(window.compare.canvas, Qt.Key.Key_L)
    assert action.isChecked() and window.compare.canvas.loupe and window.compare.before_canvas.loupe
    qtbot.keyClick(window.compare.canvas, Qt.Key.Key_L)
    assert not window.compare.canvas.loupe


def test_the_before_pane_s_loupe_pairs_the_original_with_the_result(view, qtbot):
    view.set_images(halves(W, H, (0, 0, 255), (0, 0, 255)), halves(W, H, (255, 0, 0), (255, 0, 0)))
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    qtbot.waitUntil(view.before_canvas.isVisible)
    c = view.before_canvas
    pointer = c.image_to_widget(QPointF(W / 2, H / 2)).toPoint()
    move_mouse(c, pointer)
    view.set_loupe(True)
    left, right = c.loupe_rects(QPointF(pointer))
    shot = grab(c)
    assert tuple(shot[int(left.center().y()), int(left.center().x()) - 20]) == (255, 0, 0)
    assert tuple(shot[int(right.center().y()), int(right.center().x()) + 20]) == (0, 0, 255)


def test_x11_draws_without_shared_memory_unless_the_user_chose(monkeypatch):
    """Qt's MIT-SHM backing store showed stale, wrongly zoomed pixels in the photo's area under Xvfb
    while Help > Shortcuts was open over the window (the canvas itself painted the right ones)."""
    from app.main import x11_defaults

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("QT_XCB_NO_MITSHM", raising=False)
    x11_defaults()
    assert os.environ["QT_XCB_NO_MITSHM"] == "1"
    monkeypatch.setenv("QT_XCB_NO_MITSHM", "0")
    x11_defaults()
    assert os.environ["QT_XCB_NO_MITSHM"] == "0"

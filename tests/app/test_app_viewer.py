"""The viewer and the compare modes, driven through real widgets (offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.canvas.compare import CompareMode, CompareView
from app.canvas.image_convert import pixels_to_qimage, qimage_to_uint8

W, H = 64, 48


def solid(color: tuple[int, int, int], w: int = W, h: int = H) -> QImage:
    img = QImage(w, h, QImage.Format.Format_RGB888)
    img.fill(QColor(*color))
    return img


def noise_image(seed: int = 0, w: int = W, h: int = H) -> tuple[QImage, np.ndarray]:
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return pixels_to_qimage(levels.astype(np.float32) / 255.0), levels


def grab(widget) -> np.ndarray:
    return qimage_to_uint8(widget.grab().toImage())[:, :, :3]


def wheel(widget, pos: QPointF, delta: int) -> None:
    ev = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, ev)


@pytest.fixture
def view(qtbot):
    v = CompareView()
    qtbot.addWidget(v)
    v.resize(400, 300)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_100_percent_is_pixel_exact(view):
    img, levels = noise_image()
    view.set_images(img, img)
    view.zoom_actual()
    assert view.zoom() == 1.0
    o = view.canvas.origin()
    ox, oy = int(o.x()), int(o.y())
    assert (ox, oy) == (o.x(), o.y())  # whole-pixel origin
    shot = grab(view.canvas)
    assert np.array_equal(shot[oy : oy + H, ox : ox + W], levels)


def test_zoomed_in_is_nearest_neighbour(view):
    img, levels = noise_image(1)
    view.set_images(img, img)
    view.canvas.zoom_to(8.0)  # larger than the view, so it can pan
    shot = grab(view.canvas)
    c = view.canvas
    for x, y in ((10, 7), (33, 20), (50, 40)):
        p = c.image_to_widget(QPointF(x + 0.5, y + 0.5))
        assert np.array_equal(shot[int(p.y()), int(p.x())], levels[y, x])


def test_wheel_zooms_around_the_pointer(view):
    img, _ = noise_image()
    view.set_images(img, img)
    view.state.set_view(8.0, QPointF(W / 2, H / 2))  # larger than the view: the pointer's point stays
    c = view.canvas
    anchor = QPointF(150, 120)
    under = c.widget_to_image(anchor)
    wheel(c, anchor, 120)
    assert view.zoom() > 8.8
    after = c.widget_to_image(anchor)
    assert abs(after.x() - under.x()) < 1.0 and abs(after.y() - under.y()) < 1.0
    wheel(c, anchor, -2400)
    assert view.zoom() < 1.0


def test_fit_and_100_and_zoom_steps(view):
    img, _ = noise_image()
    view.set_images(img, img)
    view.zoom_fit()
    fit = view.zoom()
    r = view.canvas.image_rect_in_widget()
    assert r.width() <= view.canvas.width() and r.height() <= view.canvas.height()
    assert r.width() >= view.canvas.width() - 20 or r.height() >= view.canvas.height() - 20
    view.zoom_actual()
    assert view.zoom() == 1.0
    view.zoom_in()
    assert view.zoom() == 1.5
    view.zoom_out()
    view.zoom_out()
    assert view.zoom() == pytest.approx(2 / 3)
    view.zoom_fit()
    assert view.zoom() == pytest.approx(fit)


def test_drag_pans(view, qtbot):
    img, _ = noise_image()
    view.set_images(img, img)
    view.canvas.zoom_to(8.0)  # larger than the view, so it can pan
    c = view.canvas
    before = c.image_to_widget(QPointF(20, 20))
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(c, QPoint(230, 170))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(230, 170))
    after = c.image_to_widget(QPointF(20, 20))
    assert (after.x() - before.x(), after.y() - before.y()) == pytest.approx((30, 20), abs=1)


def test_space_drag_pans_even_with_the_brush(view, qtbot):
    img, _ = noise_image()
    view.set_images(img, img)
    view.canvas.zoom_to(8.0)  # larger than the view, so it can pan
    view.set_brush_enabled(True)
    strokes = []
    view.stroke_started.connect(strokes.append)
    c = view.canvas
    before = c.image_to_widget(QPointF(20, 20))
    view.set_space_pressed(True)
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(c, QPoint(180, 140))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(180, 140))
    view.set_space_pressed(False)
    after = c.image_to_widget(QPointF(20, 20))
    assert strokes == []
    assert (after.x() - before.x(), after.y() - before.y()) == pytest.approx((-20, -10), abs=1)


def test_split_view_shows_before_left_and_after_right_and_the_divider_drags(view, qtbot):
    view.set_images(solid((0, 0, 255)), solid((255, 0, 0)))  # result blue, original red
    view.set_mode(CompareMode.SPLIT)
    view.state.set_view(8.0, QPointF(W / 2, H / 2))  # the photo fills the view
    c = view.canvas
    shot = grab(c)
    y = c.height() // 2 + 40
    assert tuple(shot[y, 20]) == (255, 0, 0)
    assert tuple(shot[y, c.width() - 20]) == (0, 0, 255)
    x0 = int(c.divider_x())
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(x0, y))
    qtbot.mouseMove(c, QPoint(100, y))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(100, y))
    assert c.divider == pytest.approx(100 / c.width(), abs=0.01)
    shot = grab(c)
    assert tuple(shot[y, 90]) == (255, 0, 0) and tuple(shot[y, 120]) == (0, 0, 255)


def test_side_by_side_panes_share_zoom_and_pan(view, qtbot):
    img, _ = noise_image()
    view.set_images(img, img)
    view.set_mode(CompareMode.SIDE_BY_SIDE)
    qtbot.waitUntil(lambda: view.before_canvas.isVisible())
    left, right = view.before_canvas, view.canvas
    assert left.width() == pytest.approx(right.width(), abs=2)
    wheel(right, QPointF(60, 80), 240)
    assert left.effective_zoom() == right.effective_zoom() > 1.0
    qtbot.mousePress(left, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(left, QPoint(70, 90))
    qtbot.mouseRelease(left, Qt.MouseButton.LeftButton, pos=QPoint(70, 90))
    p = QPointF(17, 9)
    assert left.image_to_widget(p) == right.image_to_widget(p)
    view.set_mode(CompareMode.SINGLE)
    assert not view.before_canvas.isVisible()


def test_flash_shows_the_original(view):
    view.set_images(solid((0, 0, 255)), solid((255, 0, 0)))
    view.state.set_view(8.0, QPointF(W / 2, H / 2))
    c = view.canvas
    mid = (c.height() // 2 + 30, c.width() // 2)
    assert tuple(grab(c)[mid]) == (0, 0, 255)
    view.set_flash(True)
    assert tuple(grab(c)[mid]) == (255, 0, 0)
    view.set_flash(False)
    assert tuple(grab(c)[mid]) == (0, 0, 255)


def test_before_is_stretched_over_a_larger_result(view):
    """After upscaling, the original is shown at the result's size so the halves line up."""
    view.set_images(solid((0, 0, 255), 2 * W, 2 * H), solid((255, 0, 0)))
    view.set_mode(CompareMode.SPLIT)
    view.zoom_fit()
    c = view.canvas
    r = c.image_rect_in_widget()
    shot = grab(c)
    y = int(r.center().y()) + 30
    assert tuple(shot[y, int(r.left()) + 3]) == (255, 0, 0)
    assert tuple(shot[y, int(r.right()) - 3]) == (0, 0, 255)


# ---------------------------------------------------------------------------------- in the window
def test_window_keys_zoom_flash_and_modes(window, make_photo, qtbot):
    path = make_photo("keys.png")
    assert window.open_path(path)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    canvas = window.compare.canvas
    canvas.setFocus()
    assert window.size_label.text().startswith(f"{W} × {H} px")
    qtbot.keyClick(canvas, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.compare.zoom() == 1.0 and window.zoom_label.text() == "100%"
    qtbot.keyClick(canvas, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.compare.zoom() == 1.5 and window.zoom_label.text() == "150%"
    qtbot.keyClick(canvas, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.compare.zoom() == 1.0
    qtbot.keyClick(canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.compare.state.fit

    qtbot.keyClick(canvas, Qt.Key.Key_2)
    assert window.compare.mode is CompareMode.SPLIT and window.actions["mode_split"].isChecked()
    qtbot.keyClick(canvas, Qt.Key.Key_3)
    assert window.compare.mode is CompareMode.SIDE_BY_SIDE
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    assert window.compare.mode is CompareMode.SINGLE

    qtbot.keyPress(canvas, Qt.Key.Key_Backslash)
    assert window.compare.flashing and canvas.flash_before
    qtbot.keyRelease(canvas, Qt.Key.Key_Backslash)
    assert not window.compare.flashing

    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    assert canvas.space_pressed
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert not canvas.space_pressed


def test_status_bar_shows_the_cursor_position(window, make_photo, qtbot):
    window.open_path(make_photo("cursor.png"))
    c = window.compare.canvas
    window.compare.zoom_actual()
    p = c.image_to_widget(QPointF(10.5, 20.5))
    qtbot.mouseMove(c, QPoint(int(p.x()), int(p.y())))
    assert window.cursor_label.text() == "x 10, y 20"

"""The mask brush: painting and erasing with the mouse, undo/redo, brush size, whole-mask edits and
PNG import/export, driven through the window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from app.canvas.image_convert import qimage_to_uint8
from app.canvas.mask_layer import MaskLayer
from rednet.io import read_mask, write_mask

W, H = 64, 48


@pytest.fixture
def painting(window, make_photo, qtbot):
    """A window with a photo open at 400%, the inpaint task and the brush on, brush 8 px."""
    assert window.open_path(make_photo("mask.png"))
    window.panel.set_task("inpaint")
    assert window.actions["brush"].isChecked()
    window.mask_panel.set_brush_size(8)
    window.compare.canvas.zoom_to(4.0)
    return window


def widget_point(window, x: float, y: float) -> QPoint:
    p = window.compare.canvas.image_to_widget(QPointF(x, y))
    return QPoint(round(p.x()), round(p.y()))


def drag(qtbot, window, points, button=Qt.MouseButton.LeftButton) -> None:
    c = window.compare.canvas
    qtbot.mousePress(c, button, pos=widget_point(window, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(c, widget_point(window, *p))
    qtbot.mouseRelease(c, button, pos=widget_point(window, *points[-1]))


def test_paint_a_stroke_then_undo_and_redo_it(painting, qtbot):
    w = painting
    mask = w.doc.mask
    assert mask.is_empty()
    drag(qtbot, w, [(10, 24), (20, 24), (30, 24)])
    painted = mask.to_array()
    assert painted[24, 10:31].all()  # the whole line
    assert painted[24 - 3, 20] and not painted[24 - 6, 20]  # about 8 px wide
    assert not painted[5, 50]
    assert w.doc.undo_stack.count() == 1 and w.doc.undo_stack.undoText() == "Brush stroke"
    assert "empty" not in w.mask_panel.coverage_label.text()

    w.actions["undo"].trigger()
    assert mask.is_empty()
    w.actions["redo"].trigger()
    assert np.array_equal(mask.to_array(), painted)


def test_erase_and_keyboard_undo(painting, qtbot):
    w = painting
    drag(qtbot, w, [(10, 24), (50, 24)])
    full = w.doc.mask.to_array()
    w.actions["erase"].setChecked(True)
    drag(qtbot, w, [(30, 24), (30, 25)])
    erased = w.doc.mask.to_array()
    assert not erased[24, 30] and erased[24, 12] and erased[24, 48]
    assert w.doc.undo_stack.undoText() == "Erase"
    w.activateWindow()
    w.compare.canvas.setFocus()
    qtbot.keyClick(w.compare.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(w.doc.mask.to_array(), full)
    qtbot.keyClick(
        w.compare.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert np.array_equal(w.doc.mask.to_array(), erased)


def test_a_click_paints_a_dot(painting, qtbot):
    w = painting
    c = w.compare.canvas
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=widget_point(w, 32, 20))
    m = w.doc.mask.to_array()
    assert m[20, 32] and m.sum() < 80


def test_brush_size_keys_slider_and_cursor(painting, qtbot):
    w = painting
    c = w.compare.canvas
    w.activateWindow()
    c.setFocus()
    qtbot.keyClick(c, Qt.Key.Key_BracketRight)
    assert w.mask_panel.brush_size() == 10
    qtbot.keyClick(c, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(c, Qt.Key.Key_BracketLeft)
    assert w.mask_panel.brush_size() == 6
    w.mask_panel.size_slider.setValue(20)
    assert w.mask_panel.brush_size() == 20 and c.brush_size == 20
    # The round cursor is the brush at the current zoom.
    assert c.brush_radius_px() == pytest.approx(20 * 4.0 / 2)
    w.compare.zoom_actual()
    assert c.brush_radius_px() == pytest.approx(10)
    # It is painted where the pointer is.
    w.compare.canvas.state.set_view(1.0, QPointF(-200, -200))  # the photo out of the way
    qtbot.mouseMove(c, QPoint(150, 100))
    lum = qimage_to_uint8(c.grab().toImage())[:, :, :3].max(axis=2).astype(int)
    background = lum[5, 5]
    for dy, dx in ((0, 10), (0, -10), (10, 0), (-10, 0)):  # the ring at 10 px from the pointer
        assert lum[100 + dy - 1 : 100 + dy + 2, 150 + dx - 1 : 150 + dx + 2].max() > background + 60
    for dy, dx in ((0, 15), (0, -15), (15, 0), (0, 5)):  # and nothing just outside or inside it
        assert lum[100 + dy, 150 + dx] <= background + 5
    from app.services import settings as S

    assert w.settings.get(S.BRUSH_SIZE) == 20


def test_overlay_is_translucent(painting, qtbot):
    w = painting
    c = w.compare.canvas
    p = widget_point(w, 32.5, 24.5)
    base = qimage_to_uint8(c.grab().toImage())[p.y(), p.x(), :3].astype(int)
    drag(qtbot, w, [(28, 24), (36, 24)])
    c.set_brush_enabled(False)  # keep the cursor ring out of the picture
    over = qimage_to_uint8(c.grab().toImage())[p.y(), p.x(), :3].astype(int)
    red = np.array([255, 52, 92])
    expected = base * 0.5 + red * 0.5
    assert np.abs(over - expected).max() <= 3
    w.actions["show_mask"].setChecked(False)
    hidden = qimage_to_uint8(c.grab().toImage())[p.y(), p.x(), :3].astype(int)
    assert np.array_equal(hidden, base)


def test_clear_invert_grow_shrink_each_undoable(painting, qtbot):
    w = painting
    drag(qtbot, w, [(20, 20), (40, 20)])
    m0 = w.doc.mask.to_array()
    w.actions["mask_grow"].trigger()
    grown = w.doc.mask.to_array()
    assert grown.sum() > m0.sum() and grown[m0].all()
    w.actions["mask_shrink"].trigger()
    w.actions["mask_shrink"].trigger()
    shrunk = w.doc.mask.to_array()
    assert shrunk.sum() < m0.sum() and m0[shrunk].all()
    w.actions["mask_invert"].trigger()
    assert np.array_equal(w.doc.mask.to_array(), ~shrunk)
    w.actions["mask_clear"].trigger()
    assert w.doc.mask.is_empty()
    texts = [w.doc.undo_stack.text(i) for i in range(w.doc.undo_stack.count())]
    assert texts == [
        "Brush stroke",
        "Grow mask 2 px",
        "Shrink mask 2 px",
        "Shrink mask 2 px",
        "Invert mask",
        "Clear mask",
    ]
    for _ in range(5):
        w.actions["undo"].trigger()
    assert np.array_equal(w.doc.mask.to_array(), m0)


def test_export_and_import_the_mask_as_png(painting, qtbot, dialogs, tmp_path):
    w = painting
    drag(qtbot, w, [(5, 5), (25, 30)])
    painted = w.doc.mask.to_array()
    out = tmp_path / "exported-mask.png"
    dialogs.answer("ask_mask_save_path", str(out))
    w.actions["mask_export"].trigger()
    assert np.array_equal(read_mask(out, size=(W, H)), painted)

    other = np.zeros((H, W), bool)
    other[30:40, 40:60] = True
    src = tmp_path / "import-me.png"
    write_mask(other, src)
    dialogs.answer("ask_open_path", str(src))
    w.actions["mask_import"].trigger()
    assert np.array_equal(w.doc.mask.to_array(), other)
    assert w.doc.undo_stack.undoText() == "Import mask import-me.png"
    w.actions["undo"].trigger()
    assert np.array_equal(w.doc.mask.to_array(), painted)


def test_importing_a_mask_of_the_wrong_size_shows_the_reason(painting, dialogs, tmp_path):
    src = tmp_path / "small-mask.png"
    write_mask(np.ones((10, 10), bool), src)
    dialogs.answer("ask_open_path", str(src))
    painting.actions["mask_import"].trigger()
    (args,) = dialogs.named("show_error")
    assert "10x10" in args[2] and f"{W}x{H}" in args[2]
    assert painting.doc.mask.is_empty()


def test_strokes_in_side_by_side_paint_the_same_mask(painting, qtbot):
    w = painting
    w.set_compare_mode("side-by-side")
    qtbot.waitUntil(lambda: w.compare.before_canvas.isVisible())
    left = w.compare.before_canvas
    p0 = left.image_to_widget(QPointF(10, 10))
    p1 = left.image_to_widget(QPointF(14, 10))
    qtbot.mousePress(left, Qt.MouseButton.LeftButton, pos=p0.toPoint())
    qtbot.mouseMove(left, p1.toPoint())
    qtbot.mouseRelease(left, Qt.MouseButton.LeftButton, pos=p1.toPoint())
    assert w.doc.mask.to_array()[10, 10:15].all()


def test_mask_layer_round_trips_arrays():
    layer = MaskLayer(W, H)
    m = np.zeros((H, W), bool)
    m[3:9, 5:40] = True
    layer.set_array(m)
    assert np.array_equal(layer.to_array(), m)
    assert layer.coverage() == pytest.approx(m.mean())

"""Mask brush controls for the inpaint task: tool toggles, brush size, and whole-mask edits.

The buttons show the window's QActions (so menus, shortcuts and buttons stay in step)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.canvas.mask_layer import MAX_BRUSH, MIN_BRUSH

SLIDER_MAX = 300  # the spin box goes higher


class MaskPanel(QWidget):
    brush_size_changed = Signal(int)

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None):
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(6)

        tools = QHBoxLayout()
        for name in ("brush", "erase", "show_mask"):
            tools.addWidget(self._button(actions[name], text_beside=True))
        tools.addStretch(1)
        v.addLayout(tools)

        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Size", self))
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setRange(MIN_BRUSH, SLIDER_MAX)
        self.size_spin = QSpinBox(self)
        self.size_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.size_spin.setSuffix(" px")
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size_spin)
        v.addLayout(size_row)
        self.size_slider.valueChanged.connect(self._slider_moved)
        self.size_spin.valueChanged.connect(self._spin_changed)

        grid = QGridLayout()
        grid.setSpacing(4)
        for i, name in enumerate(
            ("mask_clear", "mask_invert", "mask_grow", "mask_shrink", "mask_import", "mask_export")
        ):
            grid.addWidget(self._button(actions[name], text_beside=True), i // 2, i % 2)
        v.addLayout(grid)
        self.coverage_label = QLabel("Mask: empty", self)
        self.coverage_label.setObjectName("hint")
        v.addWidget(self.coverage_label)

    def _button(self, action: QAction, text_beside: bool = False) -> QToolButton:
        b = QToolButton(self)
        b.setDefaultAction(action)
        b.setIconSize(QSize(18, 18))
        b.setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon if text_beside else Qt.ToolButtonStyle.ToolButtonIconOnly
        )
        b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return b

    def brush_size(self) -> int:
        return self.size_spin.value()

    def set_brush_size(self, size: int) -> None:
        self.size_spin.setValue(int(size))

    def _slider_moved(self, value: int) -> None:
        if self.size_spin.value() != value and not (value == SLIDER_MAX and self.size_spin.value() > SLIDER_MAX):
            self.size_spin.setValue(value)

    def _spin_changed(self, value: int) -> None:
        self.size_slider.blockSignals(True)
        self.size_slider.setValue(min(value, SLIDER_MAX))
        self.size_slider.blockSignals(False)
        self.brush_size_changed.emit(value)

    def set_coverage(self, fraction: float) -> None:
        self.coverage_label.setText("Mask: empty" if fraction <= 0 else f"Mask: {fraction * 100:.1f}% of the photo")

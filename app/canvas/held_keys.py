"""The compare view's held keys, wherever the focus is in its window: hold backslash to flash the
original, hold Space to pan with the left button. An application-wide event filter, because the keys
go to whichever widget has the focus."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLineEdit, QWidget

from app.canvas.compare import CompareView


class HeldKeys(QObject):
    def __init__(self, window: QWidget, compare: CompareView, has_photo: Callable[[], bool]):
        super().__init__(window)
        self.window, self.compare, self.has_photo = window, compare, has_photo

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        et = event.type()
        if (
            et in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            and isinstance(obj, QWidget)
            and obj.window() is self.window
            and not event.isAutoRepeat()
        ):
            key = event.key()
            down = et == QEvent.Type.KeyPress
            if key == Qt.Key.Key_Backslash and not isinstance(obj, QLineEdit):
                self.compare.set_flash(down and self.has_photo())
                return True
            if key == Qt.Key.Key_Space and (obj in self.compare.canvases() or obj is self.compare):
                self.compare.set_space_pressed(down)
                return True
        elif et == QEvent.Type.WindowDeactivate and obj is self.window:
            self.compare.set_flash(False)
            self.compare.set_space_pressed(False)
        return False

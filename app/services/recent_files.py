"""The Open Recent list: the last 10 photos, newest first, kept in the settings file."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from app.services import settings as S

MAX_RECENT = 10


class RecentFiles(QObject):
    changed = Signal()
    open_requested = Signal(str)

    def __init__(self, settings: S.Settings, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self._paths: list[str] = [p for p in settings.get(S.RECENT) if p][:MAX_RECENT]

    @property
    def paths(self) -> list[str]:
        return list(self._paths)

    def add(self, path: str | os.PathLike) -> None:
        p = str(Path(path).resolve())
        self._paths = [p] + [q for q in self._paths if q != p]
        del self._paths[MAX_RECENT:]
        self._save()

    def remove(self, path: str) -> None:
        self._paths = [q for q in self._paths if q != path]
        self._save()

    def clear(self) -> None:
        self._paths = []
        self._save()

    def _save(self) -> None:
        self.settings.set(S.RECENT, self._paths)
        self.settings.sync()
        self.changed.emit()

    def fill_menu(self, menu: QMenu) -> None:
        """Rebuild `menu` with one entry per file (numbered 1-9, 0 for accelerators)."""
        menu.clear()
        if not self._paths:
            a = menu.addAction("No recent photos")
            a.setEnabled(False)
            return
        for i, p in enumerate(self._paths):
            num = (i + 1) % 10
            a = QAction(f"&{num}  {Path(p).name}", menu)
            a.setToolTip(p)
            a.setStatusTip(p)
            a.setData(p)
            a.triggered.connect(lambda _=False, path=p: self.open_requested.emit(path))
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction("Clear Recent", self.clear)

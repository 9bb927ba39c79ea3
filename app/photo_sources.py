"""Where a photo comes from: a file (File > Open, Open Recent, a sample, the command line, a drop) or
image data (the clipboard, a dropped image).

A file is read first: a broken one shows its reason and leaves the open photo (and any unsaved result)
alone, without asking about saving it first. A readable photo is handed over with `opened`, once the
window's `confirm_discard` agreed to give up an unsaved result; the window opens it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QMimeData, QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QWidget

from app.canvas.image_convert import qimage_to_arrays
from app.dialogs import prompts as dialogs
from app.resources import is_image_path
from app.services import settings as S
from app.services.recent_files import RecentFiles
from rednet import io as rio
from rednet.errors import ImageReadError


def image_files(mime: QMimeData) -> list[str]:
    """The local photo files in dropped or pasted data."""
    urls = mime.urls() if mime.hasUrls() else []
    return [u.toLocalFile() for u in urls if u.isLocalFile() and is_image_path(u.toLocalFile())]


class PhotoSources(QObject):
    opened = Signal(object, object)  # the Photo, its file (None for image data)
    message = Signal(str, int)  # a line for the status bar, how long to show it (ms)

    def __init__(
        self,
        parent: QWidget,
        settings: S.Settings,
        recent: RecentFiles,
        *,
        busy: Callable[[], bool],
        confirm_discard: Callable[[], bool],
    ):
        super().__init__(parent)
        self._parent = parent
        self.settings, self.recent = settings, recent
        self._busy, self._confirm_discard = busy, confirm_discard

    def open_dialog(self) -> None:
        path = dialogs.ask_open_path(self._parent, self.settings.get(S.LAST_DIR))
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, read: Callable[[Path], rio.Photo] | None = None) -> bool:
        """Open a photo file; `read` (default `rednet.io.read_photo`) is how it is read."""
        if self._busy():
            self.message.emit("Wait for the running restore to finish, or cancel it.", 6000)
            return False
        path = Path(path)
        try:
            photo = (read or rio.read_photo)(path)
        except (ImageReadError, OSError, ValueError) as exc:
            dialogs.show_error(self._parent, "Cannot open photo", str(exc))
            if str(path.resolve()) in self.recent.paths and not path.exists():
                self.recent.remove(str(path.resolve()))
            return False
        if not self._confirm_discard():
            return False
        self.opened.emit(photo, path)
        self.recent.add(path)
        self.settings.set(S.LAST_DIR, str(path.resolve().parent))
        for w in photo.warnings:
            self.message.emit(w, 10000)
        return True

    def paste(self) -> bool:
        data = QGuiApplication.clipboard().mimeData()
        if data is None:
            return False
        files = image_files(data)
        if files:
            return self.open_path(files[0])
        if data.hasImage():
            image = QGuiApplication.clipboard().image()
            if not image.isNull():
                return self.open_image(image, "Pasted photo")
        self.message.emit("The clipboard holds no photo.", 6000)
        return False

    def open_image(self, image: QImage, name: str = "Pasted photo") -> bool:
        """Open an in-memory image (clipboard, dropped image data) as a new 8-bit photo."""
        if self._busy() or not self._confirm_discard():
            return False
        try:
            pixels, alpha = qimage_to_arrays(image)
        except ValueError as exc:
            dialogs.show_error(self._parent, "Cannot paste", str(exc))
            return False
        photo = rio.Photo(pixels=pixels, alpha=alpha, bit_depth=8)  # no file: no metadata, format or path
        self.opened.emit(photo, None)
        self.message.emit(f"{name}: {photo.width} × {photo.height} px", 6000)
        return True

    # ------------------------------------------------------------------ drag and drop
    @staticmethod
    def accepts(mime: QMimeData) -> bool:
        """Whether a drag carries something to open (a photo file or image data)."""
        return bool(image_files(mime)) or mime.hasImage()

    def drop(self, mime: QMimeData) -> None:
        """Open what was dropped, after the drop finishes (so a dialog never runs inside the drag's
        event loop)."""
        files = image_files(mime)
        if files:
            QTimer.singleShot(0, lambda: self.open_path(files[0]))
        elif mime.hasImage():
            image = QImage(mime.imageData())
            QTimer.singleShot(0, lambda: self.open_image(image, "Dropped image"))

"""The RED-Net Studio main window: menus, toolbar, the compare view, the task panel and history.

It owns one Document at a time and only *calls* `rednet` (read/write photos and masks, restore,
estimate the noise level, list models); long calls run on the worker Runner.
"""

from __future__ import annotations

import errno
import os
import time
import weakref
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QToolBar,
    QUndoView,
    QWidget,
)

from rednet.io import imageio
from rednet.engine import restore as core_restore
from rednet.progress import Progress

from app import APP_NAME

from app.dialogs import prompts as dialogs
from app.services import settings as S
from app.actions import MODE_ACTIONS, create_actions
from app.services.autosave import Autosaver
from app.canvas.compare import CompareMode, CompareView
from app.document.document import Document
from app.canvas.image_convert import photo_to_qimage, qimage_to_arrays
from app.panels.mask_panel import MaskPanel
from app.canvas.mask_tool import MaskTool
from app.dialogs.preferences import PreferencesDialog
from app.services.recent_files import RecentFiles
from app.resources import icon, is_image_path, sample_photos
from app.services.runner import Runner, plain
from app.dialogs.shortcuts import ShortcutsDialog
from app.panels.task_panel import TASK_TITLES, TaskPanel, step_label

SAVE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


def save_error_message(path: Path, exc: BaseException) -> str:
    """One clear line for a failed save: the file, what went wrong and what to do about it."""
    text = str(exc).strip()
    code = getattr(exc, "errno", None)
    if not isinstance(exc, imageio.ImageWriteError) and isinstance(exc, OSError):
        text = f"{path.name}: cannot write: {os.strerror(code) if code else (text or type(exc).__name__)}"
    elif path.name not in text:
        text = f"{path.name}: {text}"
    if code == errno.ENOSPC:
        text += ". The disk is full: free some space or save to another drive."
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        text += f". {path.parent} cannot be written to: choose another folder."
    return text + "\nNothing was written; the photo is still open here."


def restore_for_display(photo, task: str, *, state, **options):
    """Worker-thread job: `rednet.engine.restore.restore`, plus the result's display image (QImage is safe
    to build off the GUI thread), so a large result costs the event loop nothing."""
    result = core_restore.restore(photo, task, state=state, **options)
    return result, photo_to_qimage(result)


class MainWindow(QMainWindow):
    def __init__(self, settings: S.Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings if settings is not None else S.Settings()
        self.doc: Document | None = None
        self._display = weakref.WeakKeyDictionary()  # Photo -> its display QImage
        self._run: dict | None = None
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icon("rednet-studio"))
        self.setAcceptDrops(True)
        self.setObjectName("MainWindow")

        self.runner = Runner(self)
        self.estimator = Runner(self)
        self.autosave = Autosaver(self)
        self._recovery_offered = False
        self.recent = RecentFiles(self.settings, self)
        self.compare = CompareView(self)
        self.setCentralWidget(self.compare)

        self.actions: dict[str, QAction] = create_actions(self)
        self.mask_tool = MaskTool(self)
        self.mask_panel = MaskPanel(self.actions, self)
        self.panel = TaskPanel(self.mask_panel, self)
        self._create_docks()
        self._create_menus()
        self._create_toolbar()
        self._create_status_bar()
        self._connect()
        self._load_preferences()

        self.resize(1280, 820)
        geometry = self.settings.get(S.GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self.settings.get(S.WINDOW_STATE)
        if not state.isEmpty():
            self.restoreState(state)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.update_actions()
        for message in self.settings.warnings:
            self.statusBar().showMessage(message, 15000)

    # ================================================================== construction
    def _create_docks(self) -> None:
        scroll = QScrollArea(self)
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        dock = QDockWidget("Restore", self)
        dock.setObjectName("restoreDock")
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setMinimumWidth(320)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.history = QUndoView(self)
        self.history.setEmptyLabel("Original")
        hdock = QDockWidget("History", self)
        hdock.setObjectName("historyDock")
        hdock.setWidget(self.history)
        hdock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                          | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, hdock)
        self.resizeDocks([dock, hdock], [640, 130], Qt.Orientation.Vertical)
        self.restore_dock, self.history_dock = dock, hdock

    def _create_menus(self) -> None:
        a = self.actions
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(a["open"])
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(lambda: self.recent.fill_menu(self.recent_menu))
        self.recent.fill_menu(self.recent_menu)
        m.addAction(a["paste"])
        m.addSeparator()
        m.addAction(a["save"])
        m.addAction(a["save_as"])
        m.addSeparator()
        m.addAction(a["preferences"])
        m.addSeparator()
        m.addAction(a["quit"])

        m = mb.addMenu("&Edit")
        for key in ("undo", "redo", None, "revert"):
            m.addSeparator() if key is None else m.addAction(a[key])

        m = mb.addMenu("&View")
        for key in ("zoom_in", "zoom_out", "zoom_fit", "zoom_100", None, "mode_single", "mode_split",
                    "mode_side", None, "show_mask"):
            m.addSeparator() if key is None else m.addAction(a[key])
        m.addSeparator()
        m.addAction(self.restore_dock.toggleViewAction())
        m.addAction(self.history_dock.toggleViewAction())

        m = mb.addMenu("&Mask")
        for key in ("brush", "erase", "brush_smaller", "brush_bigger", None, "mask_clear", "mask_invert",
                    "mask_grow", "mask_shrink", None, "mask_import", "mask_export"):
            m.addSeparator() if key is None else m.addAction(a[key])

        m = mb.addMenu("&Restore")
        for key in ("restore", "cancel", None, "task_denoise", "task_sr", "task_jpeg", "task_inpaint"):
            m.addSeparator() if key is None else m.addAction(a[key])

        m = mb.addMenu("&Tools")
        self.batch_action = m.addAction("&Batch Restore…", self.show_batch_dialog)
        self.batch_action.setObjectName("action_batch")
        self.finetune_action = m.addAction("&Fine-tune a Model…", self.show_finetune_dialog)
        self.finetune_action.setObjectName("action_finetune")

        m = mb.addMenu("&Help")
        self.samples_menu = m.addMenu("Open &Sample")
        self.samples_menu.aboutToShow.connect(self._fill_samples_menu)
        self._fill_samples_menu()
        m.addAction(a["shortcuts"])
        m.addSeparator()
        m.addAction(a["about"])

    def _fill_samples_menu(self) -> None:
        menu = self.samples_menu
        menu.clear()
        samples = sample_photos()
        if not samples:
            menu.addAction("No sample photos installed").setEnabled(False)
        for p in samples:
            act = menu.addAction(p.name)
            act.setData(str(p))
            act.triggered.connect(lambda _=False, path=str(p): self.open_path(path))

    def _create_toolbar(self) -> None:
        a = self.actions
        tb = QToolBar("Tools", self)
        tb.setObjectName("mainToolBar")
        tb.setMovable(False)
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for key in ("open", "save", None, "undo", "redo", None, "zoom_out", "zoom_in", "zoom_fit",
                    "zoom_100", None, "mode_single", "mode_split", "mode_side", None, "brush", "erase",
                    "show_mask"):
            tb.addSeparator() if key is None else tb.addAction(a[key])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb

    def _create_status_bar(self) -> None:
        sb = self.statusBar()
        self.cursor_label = QLabel("", self)
        self.size_label = QLabel("No photo", self)
        self.zoom_label = QLabel("", self)
        for w in (self.cursor_label, self.size_label, self.zoom_label):
            w.setObjectName("statusValue")
            sb.addPermanentWidget(w)
        self.zoom_label.setMinimumWidth(56)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _connect(self) -> None:
        a = self.actions
        a["open"].triggered.connect(self.open_dialog)
        a["paste"].triggered.connect(self.paste)
        a["save"].triggered.connect(self.save)
        a["save_as"].triggered.connect(self.save_as)
        a["preferences"].triggered.connect(self.show_preferences)
        a["quit"].triggered.connect(self.close)
        a["undo"].triggered.connect(self.undo)
        a["redo"].triggered.connect(self.redo)
        a["revert"].triggered.connect(self.revert_to_original)
        a["zoom_in"].triggered.connect(self.compare.zoom_in)
        a["zoom_out"].triggered.connect(self.compare.zoom_out)
        a["zoom_fit"].triggered.connect(self.compare.zoom_fit)
        a["zoom_100"].triggered.connect(self.compare.zoom_actual)
        for key, mode in MODE_ACTIONS.items():
            a[key].triggered.connect(lambda _=False, m=mode: self.set_compare_mode(m))
        a["show_mask"].toggled.connect(self.compare.set_mask_visible)
        a["brush"].toggled.connect(self._brush_toggled)
        a["erase"].toggled.connect(self._erase_toggled)
        tool = self.mask_tool
        a["brush_smaller"].triggered.connect(lambda: tool.step_brush_size(-1))
        a["brush_bigger"].triggered.connect(lambda: tool.step_brush_size(+1))
        a["mask_clear"].triggered.connect(tool.clear)
        a["mask_invert"].triggered.connect(tool.invert)
        a["mask_grow"].triggered.connect(lambda: tool.grow())
        a["mask_shrink"].triggered.connect(lambda: tool.shrink())
        a["mask_import"].triggered.connect(tool.import_png)
        a["mask_export"].triggered.connect(tool.export_png)
        a["restore"].triggered.connect(self.start_restore)
        a["cancel"].triggered.connect(self.cancel_restore)
        for task in TASK_TITLES:
            a[f"task_{task}"].triggered.connect(lambda _=False, t=task: self.panel.set_task(t))
        a["shortcuts"].triggered.connect(self.show_shortcuts)
        a["about"].triggered.connect(self.show_about)

        self.recent.open_requested.connect(self.open_path)
        self.panel.restore_requested.connect(self.start_restore)
        self.panel.cancel_requested.connect(self.cancel_restore)
        self.panel.task_changed.connect(self._task_changed)
        self.mask_panel.brush_size_changed.connect(self.mask_tool.brush_size_changed)

        self.compare.view_changed.connect(self._update_zoom_label)
        self.compare.cursor_moved.connect(self._update_cursor_label)
        self.compare.stroke_started.connect(self.mask_tool.stroke_started)
        self.compare.stroke_moved.connect(self.mask_tool.stroke_moved)
        self.compare.stroke_finished.connect(self.mask_tool.stroke_finished)

        self.runner.progress.connect(self._run_progress)
        self.runner.finished.connect(self._run_finished)
        self.runner.failed.connect(self._run_failed)
        self.runner.cancelled.connect(self._run_cancelled)
        self.runner.done.connect(self._run_done)
        self.estimator.finished.connect(self._estimate_ready)
        self.estimator.failed.connect(lambda exc: self.panel.set_sigma_estimate(None))

    def _load_preferences(self) -> None:
        self.mask_panel.set_brush_size(self.settings.get(S.BRUSH_SIZE))
        self.compare.set_brush_size(self.mask_panel.brush_size())
        self.compare.set_mask_opacity(self.settings.get(S.MASK_OPACITY))

    # ================================================================== state helpers
    @property
    def running(self) -> bool:
        return self.runner.running

    def update_actions(self) -> None:
        a = self.actions
        has_doc = self.doc is not None
        busy = self.running
        stack = self.doc.undo_stack if has_doc else None
        for key in ("open", "paste"):
            a[key].setEnabled(not busy)
        for key in ("save", "save_as"):
            a[key].setEnabled(has_doc and not busy)
        a["undo"].setEnabled(bool(stack and stack.canUndo()) and not busy and not self.mask_tool.stroking)
        a["redo"].setEnabled(bool(stack and stack.canRedo()) and not busy and not self.mask_tool.stroking)
        a["undo"].setText(f"&Undo {stack.undoText()}" if stack and stack.canUndo() else "&Undo")
        a["redo"].setText(f"&Redo {stack.redoText()}" if stack and stack.canRedo() else "&Redo")
        a["revert"].setEnabled(has_doc and not busy and self.doc.has_result)
        for key in ("zoom_in", "zoom_out", "zoom_fit", "zoom_100"):
            a[key].setEnabled(has_doc)
        for key in ("brush", "erase", "brush_smaller", "brush_bigger", "mask_clear", "mask_invert",
                    "mask_grow", "mask_shrink", "mask_import", "mask_export"):
            a[key].setEnabled(has_doc and not busy)
        a["restore"].setEnabled(has_doc and not busy)
        a["cancel"].setEnabled(busy)
        for task in TASK_TITLES:
            a[f"task_{task}"].setEnabled(not busy)
        self.history.setEnabled(not busy)
        self.compare.set_brush_enabled(a["brush"].isChecked() and has_doc and not busy)
        if has_doc:
            self.mask_panel.set_coverage(self.doc.mask.coverage())

    def _status(self, message: str, timeout_ms: int = 6000) -> None:
        self.statusBar().showMessage(message, timeout_ms)

    def _update_title(self) -> None:
        if self.doc is None:
            self.setWindowTitle(APP_NAME)
            self.setWindowModified(False)
            return
        self.setWindowTitle(f"{self.doc.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.doc.has_unsaved_result)

    def _update_size_label(self) -> None:
        if self.doc is None:
            self.size_label.setText("No photo")
            return
        p = self.doc.current
        kind = "gray" if p.is_gray else "RGB"
        if p.alpha is not None:
            kind += "A"
        parts = [f"{p.width} × {p.height} px", f"{p.bit_depth}-bit {kind}"]
        if p.format:
            parts.append(p.format + (f" q{p.jpeg_quality}" if p.jpeg_quality else ""))
        self.size_label.setText("  ·  ".join(parts))

    def _update_zoom_label(self) -> None:
        self.zoom_label.setText(f"{self.compare.zoom() * 100:.0f}%" if self.compare.has_image() else "")

    def _update_cursor_label(self, pos: QPointF | None) -> None:
        self.cursor_label.setText("" if pos is None else f"x {int(pos.x())}, y {int(pos.y())}")

    # ================================================================== opening
    def confirm_discard(self) -> bool:
        """True when there is no unsaved result, or the user saved or discarded it."""
        if self.doc is None or not self.doc.has_unsaved_result:
            return True
        answer = dialogs.ask_save_discard_cancel(
            self, f"The restored photo “{self.doc.display_name}” has not been saved.")
        if answer == "save":
            return self.save()
        return answer == "discard"

    def open_dialog(self) -> None:
        path = dialogs.ask_open_path(self, self.settings.get(S.LAST_DIR))
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        if self.running:
            self._status("Wait for the running restore to finish, or cancel it.")
            return False
        path = Path(path)
        # Read first: a broken file shows its reason and leaves the open photo (and any unsaved
        # result) alone, without asking about saving it first.
        try:
            photo = imageio.read_photo(path)
        except (imageio.ImageReadError, OSError, ValueError) as exc:
            dialogs.show_error(self, "Cannot open photo", str(exc))
            if str(path.resolve()) in self.recent.paths and not path.exists():
                self.recent.remove(str(path.resolve()))
            return False
        if not self.confirm_discard():
            return False
        self.set_photo(photo, path)
        self.recent.add(path)
        self.settings.set(S.LAST_DIR, str(path.resolve().parent))
        for w in photo.warnings:
            self._status(w, 10000)
        return True

    def paste(self) -> bool:
        data = QGuiApplication.clipboard().mimeData()
        if data is None:
            return False
        if data.hasUrls():
            files = [u.toLocalFile() for u in data.urls() if u.isLocalFile() and is_image_path(u.toLocalFile())]
            if files:
                return self.open_path(files[0])
        if data.hasImage():
            image = QGuiApplication.clipboard().image()
            if not image.isNull():
                return self.open_image(image, "Pasted photo")
        self._status("The clipboard holds no photo.")
        return False

    def open_image(self, image: QImage, name: str = "Pasted photo") -> bool:
        """Open an in-memory image (clipboard, dropped image data) as a new 8-bit photo."""
        if self.running or not self.confirm_discard():
            return False
        try:
            pixels, alpha = qimage_to_arrays(image)
        except ValueError as exc:
            dialogs.show_error(self, "Cannot paste", str(exc))
            return False
        photo = imageio.Photo(pixels=pixels, alpha=alpha, bit_depth=8, exif=None, icc=None, format=None,
                              jpeg_quality=None, path=None)
        self.set_photo(photo, None)
        self._status(f"{name}: {photo.width} × {photo.height} px")
        return True

    def set_photo(self, photo, path: str | Path | None, *, name: str | None = None, unsaved: bool = False) -> None:
        """Show a freshly opened photo (discarding the previous document)."""
        old = self.doc
        self.doc = Document(photo, path, self, name=name, unsaved=unsaved)
        self.autosave.attach(self.doc)
        self.doc.result_changed.connect(self._result_changed)
        self.doc.mask.changed.connect(self._mask_changed)
        self.doc.undo_stack.indexChanged.connect(self._undo_index_changed)
        self.history.setStack(self.doc.undo_stack)
        if old is not None:
            old.deleteLater()
        self._display = weakref.WeakKeyDictionary()
        self.compare.set_mode(CompareMode.SINGLE)
        self.actions["mode_single"].setChecked(True)
        self.compare.zoom_fit()
        self._result_changed()
        self.compare.canvas.setFocus()

    # ================================================================== drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        md = event.mimeData()
        if (md.hasUrls() and any(u.isLocalFile() and is_image_path(u.toLocalFile()) for u in md.urls())) \
                or md.hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        md = event.mimeData()
        files = [u.toLocalFile() for u in md.urls() if u.isLocalFile() and is_image_path(u.toLocalFile())] \
            if md.hasUrls() else []
        event.acceptProposedAction()
        # Open after the drop finishes, so a dialog never runs inside the drag's event loop.
        if files:
            QTimer.singleShot(0, lambda: self.open_path(files[0]))
        elif md.hasImage():
            image = QImage(md.imageData())
            QTimer.singleShot(0, lambda: self.open_image(image, "Dropped image"))

    # ================================================================== document display
    def _result_changed(self) -> None:
        doc = self.doc
        if doc is None:
            return
        old_size = self.compare.canvas.image_size()
        self.compare.set_images(self.display_image(doc.current), self.display_image(doc.original))
        self.compare.set_mask_image(doc.mask.image)
        if old_size != self.compare.canvas.image_size():
            self.compare.zoom_fit()
        self.panel.set_photo(doc.current)
        self.panel.set_steps(doc.steps)
        self._start_estimate()
        self._update_title()
        self._update_size_label()
        self._update_zoom_label()
        self.update_actions()

    def display_image(self, photo) -> QImage:
        """The QImage shown for a photo (converted once, kept while the photo lives)."""
        image = self._display.get(photo)
        if image is None:
            image = photo_to_qimage(photo)
            self._display[photo] = image
        return image

    def _undo_index_changed(self, _index: int) -> None:
        self.update_actions()

    def _mask_changed(self, rect: QRect | None) -> None:
        if self.doc is None:
            return
        if rect is None:
            self.compare.set_mask_image(self.doc.mask.image)
        else:
            self.compare.mask_changed(rect)
        if not self.mask_tool.stroking:
            self.mask_panel.set_coverage(self.doc.mask.coverage())

    def _start_estimate(self) -> None:
        if self.doc is None:
            return
        self.estimator.start(plain(core_restore.estimate_sigma), self.doc.current.pixels)

    def _estimate_ready(self, sigma: float) -> None:
        self.panel.set_sigma_estimate(float(sigma))

    # ================================================================== view
    def set_compare_mode(self, mode: CompareMode | str) -> None:
        mode = CompareMode(mode)
        self.compare.set_mode(mode)
        for key, m in MODE_ACTIONS.items():
            if m is mode:
                self.actions[key].setChecked(True)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        """Hold backslash to flash the original; hold Space to pan with the left button."""
        et = event.type()
        if et in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(obj, QWidget) \
                and obj.window() is self and not event.isAutoRepeat():
            key = event.key()
            down = et == QEvent.Type.KeyPress
            if key == Qt.Key.Key_Backslash and not isinstance(obj, QLineEdit):
                self.compare.set_flash(down and self.doc is not None)
                return True
            if key == Qt.Key.Key_Space and (obj in self.compare.canvases() or obj is self.compare):
                self.compare.set_space_pressed(down)
                return True
        elif et == QEvent.Type.WindowDeactivate and obj is self:
            self.compare.set_flash(False)
            self.compare.set_space_pressed(False)
        return False

    # ================================================================== mask
    def _task_changed(self, task: str) -> None:
        self.actions["brush"].setChecked(task == "inpaint")

    def _brush_toggled(self, on: bool) -> None:
        self.update_actions()
        if on and self.panel.task() != "inpaint":
            self.panel.set_task("inpaint")

    def _erase_toggled(self, on: bool) -> None:
        if on and not self.actions["brush"].isChecked():
            self.actions["brush"].setChecked(True)

    # ================================================================== undo
    def undo(self) -> None:
        if self.doc is not None and not self.running and not self.mask_tool.stroking:
            self.doc.undo_stack.undo()

    def redo(self) -> None:
        if self.doc is not None and not self.running and not self.mask_tool.stroking:
            self.doc.undo_stack.redo()

    def revert_to_original(self) -> None:
        if self.doc is not None and not self.running:
            self.doc.revert_to_original()

    # ================================================================== running
    def restore_options(self) -> tuple[str, dict, dict]:
        """(task, the task's options, every keyword for rednet.engine.restore.restore)."""
        task = self.panel.task()
        options = self.panel.options()
        tile = self.settings.get(S.TILE)
        kwargs = dict(options, model=self.panel.model(), device=self.settings.get(S.DEVICE),
                      tile=tile if tile > 0 else None, ensemble=self.panel.ensemble())
        if task == "inpaint":
            kwargs["mask"] = self.doc.mask.to_array().copy()
        return task, options, kwargs

    def start_restore(self) -> bool:
        if self.doc is None or self.running:
            return False
        task, options, kwargs = self.restore_options()
        if task == "inpaint" and not kwargs["mask"].any():
            self.panel.finish_progress("Paint over the areas to fill first (B for the brush).", False)
            self._status("The mask is empty: paint over the areas to fill, then press Restore.")
            self.actions["brush"].setChecked(True)
            return False
        self._run = {"doc": self.doc, "input": self.doc.current, "task": task, "options": options,
                     "label": step_label(task, options), "t0": time.monotonic()}
        self.runner.start(restore_for_display, self.doc.current, task, **kwargs)
        self.panel.set_running(True)
        self.update_actions()
        self._status(f"{TASK_TITLES[task]}: running…", 0)
        return True

    def cancel_restore(self) -> None:
        if self.running:
            self.runner.cancel()
            self.panel.progress_label.setText("Cancelling…")

    def _run_progress(self, p: Progress) -> None:
        self.panel.show_progress(p)

    def _run_finished(self, result) -> None:
        photo, image = result
        self._display[photo] = image
        run = self._run
        if run is None or run["doc"] is not self.doc or run["input"] is not self.doc.current:
            return
        seconds = time.monotonic() - run["t0"]
        if run["task"] == "denoise" and run["options"].get("sigma") is None and self.panel.sigma_estimate is not None:
            run["label"] = f"Denoise σ {self.panel.sigma_estimate:.1f} (auto)"  # the estimate of the input
        self.doc.apply_result(photo, run["label"], clear_mask=run["task"] == "inpaint")
        self.autosave.restore_finished()
        self.panel.finish_progress(f"{run['label']} done in {seconds:.1f} s", True)
        notes = [w for w in photo.warnings if w not in run["input"].warnings]
        self._status(f"{run['label']} done in {seconds:.1f} s" + (f" — {'; '.join(notes)}" if notes else ""))
        if self.compare.mode is CompareMode.SINGLE:
            self.set_compare_mode(self.settings.get(S.COMPARE_MODE))

    def _run_failed(self, exc: BaseException) -> None:
        label = self._run["label"] if self._run else "Restore"
        reason = str(exc).strip() or type(exc).__name__
        self.panel.finish_progress(f"Failed: {reason.splitlines()[0]}", False)
        self._status(f"{label} failed", 10000)
        dialogs.show_error(self, f"{label} failed", reason, self.runner.last_traceback)

    def _run_cancelled(self) -> None:
        self.panel.finish_progress("Cancelled — the photo is unchanged", False)
        self._status("Cancelled — the photo is unchanged")

    def _run_done(self) -> None:
        self._run = None
        self.panel.set_running(False)
        self.update_actions()

    # ================================================================== saving
    def suggested_save_path(self) -> Path:
        doc = self.doc
        if doc.save_path is not None:
            return doc.save_path
        if doc.source_path is not None:
            suffix = doc.source_path.suffix.lower()
            suffix = suffix if suffix in SAVE_SUFFIXES else ".png"
            stem = doc.source_path.stem + ("-restored" if doc.has_result else "")
            return doc.source_path.with_name(stem + suffix)
        folder = Path(self.settings.get(S.LAST_DIR) or Path.home())
        return folder / (doc.name or "pasted-photo.png")

    def save(self) -> bool:
        if self.doc is None or self.running:
            return False
        if self.doc.save_path is not None:
            return self.write_to(self.doc.save_path)
        return self.save_as()

    def save_as(self) -> bool:
        if self.doc is None or self.running:
            return False
        path = dialogs.ask_save_path(self, str(self.suggested_save_path()))
        if not path:
            return False
        path = Path(path)
        if self.doc.source_path is not None and path.resolve() == self.doc.source_path:
            if not dialogs.ask_yes_no(self, "Overwrite the original?",
                                      f"“{path.name}” is the original photo. Replace it with the "
                                      "restored version? The original cannot be recovered."):
                self._status("Not saved: the original was kept.")
                return False
        return self.write_to(path)

    def write_to(self, path: str | Path) -> bool:
        path = Path(path)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            warnings = imageio.write_photo(self.doc.current, path,
                                           jpeg_quality=self.settings.get(S.SAVE_JPEG_QUALITY), overwrite=True)
        except (imageio.ImageWriteError, OSError, ValueError) as exc:
            QApplication.restoreOverrideCursor()
            dialogs.show_error(self, "Cannot save photo", save_error_message(path, exc))
            return False
        QApplication.restoreOverrideCursor()
        self.doc.mark_saved(path)
        self.autosave.document_saved()
        self.settings.set(S.LAST_DIR, str(path.resolve().parent))
        self._update_title()
        self._status(f"Saved {path}" + (f" — {'; '.join(warnings)}" if warnings else ""), 10000)
        return True

    # ================================================================== dialogs
    def show_preferences(self) -> PreferencesDialog:
        dlg = PreferencesDialog(self.settings, self)
        dlg.accepted.connect(self._preferences_changed)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()  # window-modal, does not block the caller
        self._preferences_dialog = dlg
        return dlg

    def _preferences_changed(self) -> None:
        self.compare.set_mask_opacity(self.settings.get(S.MASK_OPACITY))
        self._status("Preferences saved")

    def show_shortcuts(self) -> ShortcutsDialog:
        dlg = ShortcutsDialog(self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()  # non-modal: it can stay open beside the photo
        self._shortcuts_dialog = dlg
        return dlg

    def show_batch_dialog(self):
        """Tools > Batch Restore: a non-modal window (kept, so a running batch can be watched again)."""
        from app.tools.batch_panel import BatchDialog

        if getattr(self, "_batch_dialog", None) is None:
            self._batch_dialog = BatchDialog(self, self.settings)
        self._batch_dialog.show()
        self._batch_dialog.raise_()
        self._batch_dialog.activateWindow()
        return self._batch_dialog

    def show_finetune_dialog(self):
        """Tools > Fine-tune a Model: a non-modal window; a new model is chosen in the task panel."""
        from app.tools.finetune_panel import FinetuneDialog

        if getattr(self, "_finetune_dialog", None) is None:
            self._finetune_dialog = FinetuneDialog(self, self.settings, task_panel=self.panel)
        self._finetune_dialog.show()
        self._finetune_dialog.raise_()
        self._finetune_dialog.activateWindow()
        return self._finetune_dialog

    def show_about(self) -> None:
        from rednet import __version__

        dialogs.show_about(self, f"About {APP_NAME}",
                           f"<b>{APP_NAME}</b> {__version__}<br>Photo restoration with RED-Net: "
                           "denoising, super-resolution, JPEG clean-up and inpainting.")

    # ================================================================== showing and closing
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._recovery_offered:
            self._recovery_offered = True
            # After the window is up: offer work an earlier session lost in a crash or kill.
            QTimer.singleShot(0, self.autosave.offer_recovery)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.confirm_discard():
            event.ignore()
            return
        self.runner.shutdown()
        self.estimator.shutdown()
        for tool in (getattr(self, "_batch_dialog", None), getattr(self, "_finetune_dialog", None)):
            if tool is not None:
                tool.shutdown()  # cancel a batch or a fine-tune (it keeps a checkpoint) and wait
        self.autosave.shutdown(clear=True)  # a clean close: the unsaved-result question was answered
        self.settings.set(S.GEOMETRY, self.saveGeometry())
        self.settings.set(S.WINDOW_STATE, self.saveState())
        self.settings.sync()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        event.accept()

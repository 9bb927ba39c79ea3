"""The RED-Net Studio main window: menus, toolbar, the compare view, the task panel and history.

It composes the parts — the compare view, the task and mask panels, the mask tool, the autosaver,
the restore controller and the tool windows — giving each what it needs and wiring their signals; the
parts never call the window. It owns one Document at a time and only *calls* `rednet` (read/write
photos, restore, estimate the noise level); long calls run on the worker Runners.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QPointF, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from app import APP_NAME
from app.actions import MODE_ACTIONS, create_actions, update_action_states
from app.canvas.compare import CompareMode, CompareView
from app.canvas.held_keys import HeldKeys
from app.canvas.image_convert import photo_to_qimage
from app.canvas.result_preview import ResultPreview
from app.dialogs import prompts as dialogs
from app.dialogs import recovery
from app.dialogs.preferences import PreferencesDialog
from app.dialogs.shortcuts import ShortcutsDialog, task_action
from app.document.document import Document
from app.panels.mask_panel import MaskPanel
from app.panels.task_panel import TaskPanel
from app.photo_sources import PhotoSources
from app.resources import icon, sample_photos
from app.services import settings as S
from app.services.autosave import NOTICE_MS, Autosaver
from app.services.autosave_store import Recovery
from app.services.messages import save_error_message
from app.services.recent_files import RecentFiles
from app.services.restore_controller import RestoreController, RestoreRequest
from app.services.runner import Runner, plain
from app.tools.mask_tool import MaskTool
from app.window_layout import (
    add_recent_menu,
    add_samples_menu,
    balance_docks,
    build_docks,
    build_menus,
    build_status_fields,
    build_toolbar,
    describe_photo,
)
from rednet import io as rio
from rednet.engine import restore as core_restore
from rednet.errors import ImageWriteError, RednetError
from rednet.tasks import TASK_NAMES, TASKS, get_task, suggested_task

MASK_TASK = next((t.name for t in TASKS.values() if t.mask_option is not None), None)  # the brush's task


class MainWindow(QMainWindow):
    def __init__(self, settings: S.Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings if settings is not None else S.Settings()
        self.doc: Document | None = None
        self._display = weakref.WeakKeyDictionary()  # Photo -> its display QImage
        self._tools: dict[str, QWidget] = {}  # the tool windows opened so far, by action id
        self._preview: ResultPreview | None = None  # the result so far, while a progressive restore runs
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icon("rednet-studio"))
        self.setAcceptDrops(True)
        self.setObjectName("MainWindow")

        self.runner = Runner(self)
        self.restorer = RestoreController(self.runner, self)
        self.estimator = Runner(self)
        self.autosave = Autosaver(self)
        self._recovery_offered = False
        self.recent = RecentFiles(self.settings, self)
        self.sources = PhotoSources(
            self, self.settings, self.recent, busy=lambda: self.running, confirm_discard=self.confirm_discard
        )
        self.compare = CompareView(self)
        self.setCentralWidget(self.compare)

        self.actions: dict[str, QAction] = create_actions(self)
        self.batch_action, self.finetune_action = self.actions["batch"], self.actions["finetune"]
        self.mask_tool = MaskTool(self.settings, self, document=lambda: self.doc, busy=lambda: self.running)
        self.mask_panel = MaskPanel(self.actions, self)
        self.panel = TaskPanel(self.mask_panel, self)
        self.restore_dock, self.history_dock, self.history = build_docks(self, self.panel)
        docks = (self.restore_dock, self.history_dock)
        self.menus = build_menus(
            self,
            self.actions,
            {
                "recent": lambda menu: setattr(self, "recent_menu", add_recent_menu(menu, self.recent)),
                "samples": lambda menu: setattr(
                    self, "samples_menu", add_samples_menu(menu, sample_photos, self.open_sample)
                ),
                "docks": lambda menu: [menu.addAction(d.toggleViewAction()) for d in docks],
            },
        )
        self.toolbar = build_toolbar(self, self.actions)
        self.cursor_label, self.size_label, self.zoom_label = build_status_fields(self)
        self._connect()
        self._load_preferences()

        self.resize(1280, 820)
        geometry = self.settings.get(S.GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self.settings.get(S.WINDOW_STATE)
        if not state.isEmpty():
            self.restoreState(state)
        self.held_keys = HeldKeys(self, self.compare, lambda: self.doc is not None)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.held_keys)
        self.update_actions()
        for message in self.settings.warnings:
            self.statusBar().showMessage(message, 15000)

    # ================================================================== construction
    def _connect(self) -> None:
        a = self.actions
        for key, slot in (
            ("open", self.sources.open_dialog),
            ("paste", self.paste),
            ("save", self.save),
            ("save_as", self.save_as),
            ("preferences", self.show_preferences),
            ("quit", self.close),
            ("undo", self.undo),
            ("redo", self.redo),
            ("revert", self.revert_to_original),
            ("zoom_in", self.compare.zoom_in),
            ("zoom_out", self.compare.zoom_out),
            ("zoom_fit", self.compare.zoom_fit),
            ("zoom_100", self.compare.zoom_actual),
            ("restore", self.start_restore),
            ("cancel", self.cancel_restore),
            ("shortcuts", self.show_shortcuts),
            ("about", self.show_about),
            ("batch", self.show_batch_dialog),
            ("finetune", self.show_finetune_dialog),
        ):
            a[key].triggered.connect(slot)
        for key, mode in MODE_ACTIONS.items():
            a[key].triggered.connect(lambda _=False, m=mode: self.set_compare_mode(m))
        for task in TASK_NAMES:
            a[task_action(task)].triggered.connect(lambda _=False, t=task: self.panel.set_task(t))
        a["show_mask"].toggled.connect(self.compare.set_mask_visible)
        a["loupe"].toggled.connect(self.compare.set_loupe)
        a["brush"].toggled.connect(self._brush_toggled)
        a["erase"].toggled.connect(self._erase_toggled)

        tool = self.mask_tool
        for key, command in tool.commands().items():
            a[key].triggered.connect(command)
        tool.stroke_done.connect(self.update_actions)
        tool.brush_wanted.connect(lambda: a["brush"].setChecked(True))
        tool.brush_size_wanted.connect(self.mask_panel.set_brush_size)
        tool.message.connect(lambda text: self._status(text))
        self.mask_panel.brush_size_changed.connect(tool.set_brush_size)
        self.mask_panel.brush_size_changed.connect(self.compare.set_brush_size)
        self.compare.stroke_started.connect(tool.stroke_started)
        self.compare.stroke_moved.connect(tool.stroke_moved)
        self.compare.stroke_finished.connect(tool.stroke_finished)

        self.recent.open_requested.connect(self.open_path)
        self.sources.opened.connect(lambda photo, path: self.set_photo(photo, path))
        self.sources.message.connect(self._status)
        self.panel.restore_requested.connect(self.start_restore)
        self.panel.cancel_requested.connect(self.cancel_restore)
        self.panel.task_changed.connect(self._task_changed)
        self.compare.view_changed.connect(self._update_zoom_label)
        self.compare.view_changed.connect(lambda: self.restorer.set_view(self.compare.visible_box()))
        self.compare.cursor_moved.connect(self._update_cursor_label)

        self.restorer.progress.connect(self.panel.show_progress)
        self.restorer.tile_ready.connect(self._tile_ready)
        self.restorer.finished.connect(self._restore_finished)
        self.restorer.failed.connect(self._restore_failed)
        self.restorer.cancelled.connect(self._restore_cancelled)
        self.restorer.done.connect(self._restore_done)
        self.estimator.finished.connect(self._estimate_ready)
        self.estimator.failed.connect(lambda exc: self.panel.set_sigma_estimate(None))
        self.autosave.notice.connect(lambda text: self._status(text, NOTICE_MS))

    def _load_preferences(self) -> None:
        self.mask_panel.set_brush_size(self.settings.get(S.BRUSH_SIZE))
        self.compare.set_brush_size(self.mask_panel.brush_size())
        self.compare.set_mask_opacity(self.settings.get(S.MASK_OPACITY))

    # ================================================================== state helpers
    @property
    def running(self) -> bool:
        return self.runner.running

    def update_actions(self) -> None:
        has_doc, busy = self.doc is not None, self.running
        update_action_states(
            self.actions,
            has_photo=has_doc,
            busy=busy,
            has_result=has_doc and self.doc.has_result,
            stack=self.doc.undo_stack if has_doc else None,
            stroking=self.mask_tool.stroking,
        )
        a = self.actions
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
        self.size_label.setText(describe_photo(self.doc.current))

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
            self, f"The restored photo “{self.doc.display_name}” has not been saved."
        )
        if answer == "save":
            return self.save()
        return answer == "discard"

    def open_path(self, path: str | Path, read=None) -> bool:
        """Open a photo file (`read`: how to read it, default `rednet.io.read_photo`)."""
        return self.sources.open_path(path, read)

    def open_sample(self, sample) -> bool:
        """Open a bundled sample ready for the task it shows off (with its mask, for inpainting)."""
        if not self.open_path(sample.path):
            return False
        if sample.task in TASKS:
            self.panel.set_task(sample.task)
        if sample.mask is not None:
            self.mask_tool.load(sample.mask)
        return True

    def paste(self) -> bool:
        return self.sources.paste()

    def open_image(self, image: QImage, name: str = "Pasted photo") -> bool:
        return self.sources.open_image(image, name)

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
        self.panel.reset_progress()
        self.statusBar().clearMessage()  # the last photo's "done in 3.2 s" is not about this one
        self.panel.suggest(*(suggested_task(photo) or (None, "")))
        self.compare.canvas.setFocus()

    def open_recovered(self, rec: Recovery) -> bool:
        """Open work recovered after a crash (app.dialogs.recovery): the source photo with the saved
        result and mask on top, or the saved result alone. False when the user kept what was open."""
        if not self.confirm_discard():
            return False
        if rec.base is not None:
            self.set_photo(rec.base, rec.source)
            if rec.result is not None:
                self.doc.apply_recovered(rec.result, rec.steps)
        else:
            stem = Path(rec.orphan.name).stem or "photo"
            self.set_photo(rec.result, None, name=f"{stem}-recovered.png", unsaved=True)
            if rec.source is not None and rec.source.parent.is_dir():
                self.settings.set(S.LAST_DIR, str(rec.source.parent))
        if rec.mask is not None and not self.doc.set_mask(rec.mask):
            rec.notes.append(
                f"the mask ({rec.mask.shape[1]}x{rec.mask.shape[0]}) does not fit the "
                f"{self.doc.mask.width}x{self.doc.mask.height} photo and was left out"
            )
        self.update_actions()
        message = f"Recovered unsaved work for {rec.orphan.name} from {rec.orphan.when}"
        self._status(message + (f" — {'; '.join(rec.notes)}" if rec.notes else ""), 20000)
        return True

    # ================================================================== drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self.sources.accepts(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        # always a copy: a file manager told "moved" may delete the user's original
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.sources.drop(event.mimeData())

    # ================================================================== document display
    def _result_changed(self) -> None:
        doc = self.doc
        if doc is None:
            return
        self._show_document()
        self.panel.set_photo(doc.current)
        self.panel.set_steps(doc.steps)
        self._start_estimate()
        self._update_title()
        self._update_size_label()
        self._update_zoom_label()
        self.update_actions()

    def _show_document(self) -> None:
        """The document's result and original in the compare view (a zoomed-in view keeps its region
        when an upscale or its undo changes the size), with its mask."""
        self._preview = None
        self.compare.set_images(self.display_image(self.doc.current), self.display_image(self.doc.original))
        self.compare.set_mask_image(self.doc.mask.image)

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

    # ================================================================== mask
    def _task_changed(self, task: str) -> None:
        self.actions["brush"].setChecked(get_task(task).mask_option is not None)
        QTimer.singleShot(0, self._balance_docks)  # the mask controls make the panel taller

    def _brush_toggled(self, on: bool) -> None:
        self.mask_tool.set_mode(on, self.actions["erase"].isChecked())
        self.update_actions()
        if on and get_task(self.panel.task()).mask_option is None and MASK_TASK is not None:
            self.panel.set_task(MASK_TASK)

    def _erase_toggled(self, on: bool) -> None:
        self.mask_tool.set_mode(self.actions["brush"].isChecked(), on)
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

    # ================================================================== restoring
    def restore_request(self) -> RestoreRequest | None:
        """What Restore would run now: the panel's task, options and model, the preferences' device
        and tile size, and the document's mask for a task that takes one (None without a photo)."""
        if self.doc is None:
            return None
        task = get_task(self.panel.task())
        tile = self.settings.get(S.TILE)
        mask = self.doc.mask.to_array().copy() if task.mask_option is not None else None
        return RestoreRequest(
            self.doc,
            self.doc.current,
            task,
            self.panel.options(),
            model=self.panel.model(),
            device=self.settings.get(S.DEVICE),
            tile=tile if tile > 0 else None,
            ensemble=self.panel.ensemble(),
            mask=mask,
        )

    def start_restore(self) -> bool:
        if self.doc is None or self.running:
            return False
        request = self.restore_request()
        if request.needs_mask:
            self.panel.finish_progress("Paint over the areas to fill first (B for the brush).", False)
            self._status("The mask is empty: paint over the areas to fill, then press Restore.")
            self.actions["brush"].setChecked(True)
            return False
        if request.progressive:  # the After view shows each tile as it lands, those in view first
            w, h = core_restore.output_size(request.photo, request.task.name, request.options.get("scale"))
            self._preview = ResultPreview(self.display_image(request.photo), QSize(w, h))
            self.compare.set_images(self._preview.image, self.display_image(self.doc.original))
        self.restorer.start(request, view=self.compare.visible_box())
        self.panel.set_running(True)
        self.update_actions()
        self._status(f"{request.task.title}: running…", 0)
        return True

    def cancel_restore(self) -> None:
        if self.running:
            self.restorer.cancel()
            self.panel.progress_label.setText("Cancelling…")

    def _tile_ready(self, request: RestoreRequest, box, tile: QImage) -> None:
        if self._preview is not None and request.doc is self.doc:
            self.compare.update_result_region(self._preview.paint(box, tile))

    def _restore_finished(self, request: RestoreRequest, photo, image: QImage, seconds: float) -> None:
        self._display[photo] = image
        if request.doc is not self.doc or request.photo is not self.doc.current:
            return  # another photo is open now
        label = request.label_with(self.panel.estimates())  # the estimates are of the input
        self.doc.apply_result(photo, label, clear_mask=request.task.mask_option is not None, task=request.task.name)
        self.autosave.restore_finished()
        self.panel.finish_progress(f"{label} done in {seconds:.1f} s", True)
        notes = [w for w in photo.warnings if w not in request.photo.warnings]
        self._status(f"{label} done in {seconds:.1f} s" + (f" — {'; '.join(notes)}" if notes else ""))
        if self.compare.mode is CompareMode.SINGLE:
            self.set_compare_mode(self.settings.get(S.COMPARE_MODE))

    def _restore_failed(self, request: RestoreRequest | None, exc: BaseException, details: str) -> None:
        self._drop_preview()
        label = request.label if request is not None else "Restore"
        reason = str(exc).strip() or type(exc).__name__
        self.panel.finish_progress(f"Failed: {reason.splitlines()[0]}", False)
        self._status(f"{label} failed", 10000)
        dialogs.show_error(self, f"{label} failed", reason, details)

    def _restore_cancelled(self, _request) -> None:
        self._drop_preview()
        self.panel.finish_progress("Cancelled — the photo is unchanged", False)
        self._status("Cancelled — the photo is unchanged")

    def _drop_preview(self) -> None:
        """A progressive run ended without a result: show the photo as it was."""
        if self._preview is not None and self.doc is not None:
            self._show_document()
        self._preview = None

    def _restore_done(self) -> None:
        self.panel.set_running(False)
        self.update_actions()

    # ================================================================== saving
    def suggested_save_path(self) -> Path:
        return self.doc.suggested_save_path(Path(self.settings.get(S.LAST_DIR) or Path.home()))

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
            if not dialogs.ask_yes_no(
                self,
                "Overwrite the original?",
                f"“{path.name}” is the original photo. Replace it with the "
                "restored version? The original cannot be recovered.",
            ):
                self._status("Not saved: the original was kept.")
                return False
        return self.write_to(path)

    def write_to(self, path: str | Path) -> bool:
        path = Path(path)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            warnings = rio.write_photo(
                self.doc.current,
                path,
                jpeg_quality=self.settings.get(S.SAVE_JPEG_QUALITY),
                png_compression=self.settings.get(S.SAVE_PNG_COMPRESSION),
                overwrite=True,
            )
        except (ImageWriteError, OSError, ValueError) as exc:
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

    # ================================================================== dialogs and tool windows
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

    def _show_tool(self, key: str, make) -> QWidget:
        """A tool window, made on first use and kept (so a running batch or fine-tune can be watched
        again), shown and raised."""
        tool = self._tools.get(key)
        if tool is None:
            tool = self._tools[key] = make()
        tool.show()
        tool.raise_()
        tool.activateWindow()
        return tool

    def show_batch_dialog(self):
        """Tools > Batch Restore: a non-modal window."""
        from app.tools.batch_window import BatchDialog

        def make():
            dlg = BatchDialog(self, self.settings)
            dlg.review_requested.connect(self.review_batch_result)
            return dlg

        return self._show_tool("batch", make)

    def review_batch_result(self, source: Path, result: Path) -> bool:
        """A batch result row was double-clicked: the photo with that result on it, compared."""
        if self.running or not self.open_path(source):
            return False
        try:
            restored = rio.read_photo(result)
        except (RednetError, OSError) as exc:
            dialogs.show_error(self, "Cannot open the result", str(exc))
            return False
        self.doc.apply_result(restored, f"Batch result {Path(result).name}")
        self.doc.mark_saved(result)  # it is a file already: Save writes there, closing asks nothing
        self.set_compare_mode(self.settings.get(S.COMPARE_MODE))
        self.raise_()
        self.activateWindow()
        return True

    def show_finetune_dialog(self):
        """Tools > Fine-tune a Model: a non-modal window; a new model is chosen in the task panel."""
        from app.tools.finetune_window import FinetuneDialog

        def make():
            dlg = FinetuneDialog(self, self.settings)
            dlg.model_created.connect(self._use_finetuned_model)
            dlg.model_replaced.connect(self.panel.model_replaced)
            return dlg

        return self._show_tool("finetune", make)

    def _use_finetuned_model(self, path, task: str) -> None:
        """A fine-tune finished: choose its model, and say so (a silent switch would surprise)."""
        name, title = Path(path).stem, get_task(task).title
        if self.panel.select_model(task, path):
            self._status(
                f"Now restoring with “{name}” for {title}; the Restore panel's Model list switches back", 20000
            )
        else:
            self._status(f"“{name}” is saved: choose it in the Restore panel's Model list once this run is done", 20000)

    def tool(self, key: str) -> QWidget | None:
        """The tool window of action `key` ("batch", "finetune"), once it was opened."""
        return self._tools.get(key)

    def show_about(self) -> None:
        from rednet import __version__

        tasks = ", ".join(t.title for t in TASKS.values())
        dialogs.show_about(
            self, f"About {APP_NAME}", f"<b>{APP_NAME}</b> {__version__}<br>Photo restoration with RED-Net: {tasks}."
        )

    # ================================================================== showing and closing
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        QTimer.singleShot(0, self._balance_docks)  # once the docks have their new sizes

    def _balance_docks(self) -> None:
        balance_docks(self, self.restore_dock, self.history_dock)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        QTimer.singleShot(0, self._balance_docks)  # a layout saved by an older version may be off
        if not self._recovery_offered:
            self._recovery_offered = True
            # After the window is up: offer work an earlier session lost in a crash or kill.
            QTimer.singleShot(0, lambda: recovery.offer_recovery(self, self.autosave, self.open_recovered))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.running and not dialogs.ask_yes_no(
            self, "Stop restoring and quit?", "A restore is running. Stop it (the photo stays as it was) and quit?"
        ):
            event.ignore()
            return
        if not self.confirm_discard():
            event.ignore()
            return
        self.runner.shutdown()  # cancels: the network stops within a layer
        self.estimator.shutdown()
        for tool in self._tools.values():
            tool.shutdown()  # cancel a batch or a fine-tune (it keeps a checkpoint) and wait
        self.autosave.shutdown(clear=True)  # a clean close: the unsaved-result question was answered
        self.settings.set(S.GEOMETRY, self.saveGeometry())
        self.settings.set(S.WINDOW_STATE, self.saveState())
        self.settings.sync()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.held_keys)
        event.accept()

"""Tools > Batch Restore: restore every photo in a folder with `rednet.engine.batch.run_batch`.

A non-modal window: the main window stays usable while a batch runs. The job is checked with
`validate_job` before it starts (a UsageError is shown inline, under the Start button, worded with the
window's label of the option it is about); the run goes on the worker `Runner`, and each file's result
comes back from the worker's `on_file` callback over a queued signal. The last restored file is shown
as a thumbnail (read back from the written file on a second small worker, so the GUI thread never
decodes photos), and every file is listed in a results table that can be saved as CSV
(`BatchReport.write_csv`). Double-clicking a restored file's row emits `review_requested` (the main window
opens the photo with its result to compare).

Cancel stops within one tile; files already written are complete (the core writes atomically) and
nothing partial is left behind. The folder, file and CSV pickers are app.dialogs.prompts functions,
so tests can monkeypatch them.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.canvas.image_convert import pixels_to_qimage
from app.dialogs import prompts
from app.resources import icon
from app.services import settings as S
from app.services.messages import error_text, sentence
from app.services.runner import Runner, plain
from app.tools.batch_results import THUMB_SIZE, BatchResults
from app.widgets.forms import OptionField, align_form_labels, browse_row, inline_error_label, section
from app.widgets.model_picker import ModelComboBox, fill_model_combo
from rednet import io as rio
from rednet.engine.batch import BatchJob, BatchReport, FileResult, run_batch, validate_job
from rednet.errors import ModelError, UsageError
from rednet.progress import Progress
from rednet.tasks import TASK_NAMES, TASKS, get_task

FORMATS = (("same", "Same as input"), ("png", "PNG"), ("jpg", "JPEG"), ("tif", "TIFF"), ("webp", "WebP"))
IF_EXISTS_CHOICES = (("skip", "Skip the photo"), ("overwrite", "Overwrite"), ("fail", "Report as failed"))

BATCH_INPUT = S.Key("batch/input_dir", "", str)
BATCH_OUTPUT = S.Key("batch/output_dir", "", str)
BATCH_RECURSIVE = S.Key("batch/recursive", True, bool)
BATCH_TEMPLATE = S.Key("batch/name_template", "{stem}", str)
BATCH_FORMAT = S.Key("batch/format", "same", str, choices=tuple(f for f, _ in FORMATS))
BATCH_IF_EXISTS = S.Key("batch/if_exists", "skip", str, choices=tuple(c for c, _ in IF_EXISTS_CHOICES))


# ------------------------------------------------------------------------------------ worker side
def run_batch_job(job: BatchJob, *, state, on_file=None) -> BatchReport:
    """Worker-thread job for the Runner."""
    return run_batch(job, state, on_file=on_file)


def make_thumbnail(path: str | Path, max_w: int = THUMB_SIZE.width(), max_h: int = THUMB_SIZE.height()) -> QImage:
    """A small QImage of a written output (read with rednet.io; run on a worker thread)."""
    photo = rio.read_photo(path)
    # Skip pixels down to about twice the box (cheap on big photos), then scale smoothly to fit it.
    step = max(1, int(max(photo.width / max_w, photo.height / max_h) // 2))
    small = np.ascontiguousarray(photo.pixels[::step, ::step])
    alpha = photo.alpha[::step, ::step] if photo.alpha is not None else None
    return pixels_to_qimage(small, alpha).scaled(
        max_w, max_h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


class _FileRelay(QObject):
    """Emitted on the worker thread (from run_batch's on_file); delivered queued on the GUI thread."""

    file_done = Signal(int, object)  # run number, FileResult


class BatchDialog(QDialog):
    """Tools > Batch Restore…: folders, task, model, output naming; Start / Cancel; results."""

    batch_finished = Signal(object)  # the BatchReport (also for a cancelled run)
    review_requested = Signal(object, object)  # a restored file's row was double-clicked: (source, result) Paths

    def __init__(self, parent: QWidget | None = None, settings: S.Settings | None = None):
        super().__init__(parent)
        self.setObjectName("batchDialog")
        self.setWindowTitle("Batch Restore")
        self.setModal(False)
        self.setWindowFlag(Qt.WindowType.WindowContextHelpButtonHint, False)
        self.settings = settings
        self.runner = Runner(self)
        self.thumbs = Runner(self)
        self.relay = _FileRelay(self)
        self.relay.file_done.connect(self._file_done, Qt.ConnectionType.QueuedConnection)
        self.results: list[FileResult] = []
        self.report: BatchReport | None = None
        self._run_no = 0
        self._job: BatchJob | None = None
        self._t0 = 0.0
        self.fields: dict[str, dict[str, OptionField]] = {}  # task -> option name -> field
        self.mask_edits: dict[str, QLineEdit] = {}  # task -> its mask file (tasks that take a mask)

        outer = QHBoxLayout(self)
        outer.setContentsMargins(14, 12, 14, 12)
        outer.setSpacing(18)
        outer.addLayout(self._settings_column(), 5)
        self.results_view = BatchResults(self)
        self.results_view.save_requested.connect(self.save_report)
        self.results_view.review_requested.connect(self.review_requested)
        outer.addWidget(self.results_view, 6)

        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self.runner.done.connect(self._done)
        self.thumbs.finished.connect(self._thumbnail_ready)
        self._load_settings()
        self._set_running(False)
        align_form_labels(self)
        for b in self.findChildren(QPushButton):  # Enter in a field must not start a run
            b.setAutoDefault(False)
        self.resize(980, 640)

    # ================================================================== construction
    def _settings_column(self) -> QVBoxLayout:
        col = QVBoxLayout()
        col.setSpacing(6)
        col.addWidget(section("Folders"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.input_edit = QLineEdit(self)
        self.input_edit.setPlaceholderText("Folder with the photos to restore")
        self.input_button = QToolButton(self)
        self.input_button.setText("Browse…")
        self.output_edit = QLineEdit(self)
        self.output_edit.setPlaceholderText("Where the restored photos go")
        self.output_button = QToolButton(self)
        self.output_button.setText("Browse…")
        form.addRow("Input", browse_row(self.input_edit, self.input_button))
        form.addRow("Output", browse_row(self.output_edit, self.output_button))
        self.recursive_check = QCheckBox("Include subfolders (the folder tree is kept)", self)
        form.addRow("", self.recursive_check)
        self.pattern_edit = QLineEdit(self)
        self.pattern_edit.setPlaceholderText("All photos — or a pattern such as *.jpg")
        form.addRow("Files", self.pattern_edit)
        col.addLayout(form)

        col.addWidget(section("Task"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.task_combo = QComboBox(self)
        for t in TASKS.values():
            self.task_combo.addItem(icon(f"task-{t.name}"), t.title, t.name)
        form.addRow("Task", self.task_combo)
        self.options_stack = QStackedWidget(self)
        for name in TASK_NAMES:
            self.options_stack.addWidget(self._options_page(name))
        form.addRow(self.options_stack)
        self.model_combo = ModelComboBox(self)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(14)
        form.addRow("Model", self.model_combo)
        col.addLayout(form)

        col.addWidget(section("Output files"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.format_combo = QComboBox(self)
        for key, text in FORMATS:
            self.format_combo.addItem(text, key)
        self.jpeg_quality_spin = QSpinBox(self)
        self.jpeg_quality_spin.setRange(1, 100)
        self.jpeg_quality_spin.setValue(95)
        self.jpeg_quality_spin.setPrefix("quality ")
        self.jpeg_quality_spin.setToolTip("Quality of JPEG and WebP outputs")
        row = QHBoxLayout()
        row.addWidget(self.format_combo, 1)
        row.addWidget(self.jpeg_quality_spin)
        form.addRow("Format", row)
        self.template_edit = QLineEdit(self)
        self.template_edit.setToolTip(
            "The output file name without extension: {stem} is the photo's name, {task} the task, {ext} its extension"
        )
        form.addRow("Name", self.template_edit)
        self.name_preview = QLabel(self)
        self.name_preview.setObjectName("hint")
        form.addRow("", self.name_preview)
        self.exists_combo = QComboBox(self)
        for key, text in IF_EXISTS_CHOICES:
            self.exists_combo.addItem(text, key)
        form.addRow("If it exists", self.exists_combo)
        col.addLayout(form)
        col.addStretch(1)

        row = QHBoxLayout()
        self.start_button = QPushButton(icon("restore"), "Start", self)
        self.start_button.setObjectName("restoreButton")
        self.start_button.setMinimumHeight(34)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel", self)
        self.cancel_button.setMinimumHeight(34)
        self.start_button.setToolTip("Restore every photo of the input folder into the output folder")
        self.cancel_button.setToolTip(
            "Stop now (within a fraction of a second); finished files stay, nothing partial is written"
        )
        row.addWidget(self.start_button, 2)
        row.addWidget(self.cancel_button, 1)
        col.addLayout(row)
        self.error_label = inline_error_label(self)
        col.addWidget(self.error_label)

        self.input_button.clicked.connect(self.browse_input)
        self.output_button.clicked.connect(self.browse_output)
        self.task_combo.currentIndexChanged.connect(self._task_changed)
        self.model_combo.about_to_show.connect(self.refresh_models)
        self.format_combo.currentIndexChanged.connect(self._update_name_preview)
        self.template_edit.textChanged.connect(self._update_name_preview)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self._clear_error_on_edit()
        return col

    def _clear_error_on_edit(self) -> None:
        """An error is about the fields as they were: editing any of them takes it away."""
        for edit in (
            self.input_edit,
            self.output_edit,
            self.pattern_edit,
            self.template_edit,
            *self.mask_edits.values(),
        ):
            edit.textChanged.connect(self.clear_error)
        for combo in (self.task_combo, self.model_combo, self.format_combo, self.exists_combo):
            combo.currentIndexChanged.connect(self.clear_error)
        self.recursive_check.toggled.connect(self.clear_error)

    def _options_page(self, task_name: str) -> QWidget:
        """One task's options: a compact field per numeric option, a mask file for a task that takes one."""
        task = get_task(task_name)
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        fields = {}
        for option in task.numeric_options:
            fields[option.name] = OptionField(option, page, compact=True)
            fields[option.name].add_rows(form)
        self.fields[task.name] = fields
        if task.mask_option is not None:
            edit = QLineEdit(page)
            edit.setPlaceholderText(f"One {task.mask_option.title.lower()} for every photo (white = fill)")
            button = QToolButton(page)
            button.setText("Browse…")
            button.clicked.connect(lambda _=False, e=edit: self.browse_mask(e))
            form.addRow(task.mask_option.title, browse_row(edit, button))
            self.mask_edits[task.name] = edit
        return page

    # ================================================================== settings
    def _load_settings(self) -> None:
        s = self.settings
        get = s.get if s is not None else (lambda key: key.default)
        self.input_edit.setText(get(BATCH_INPUT))
        self.output_edit.setText(get(BATCH_OUTPUT))
        self.recursive_check.setChecked(get(BATCH_RECURSIVE))
        self.template_edit.setText(get(BATCH_TEMPLATE))
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(get(BATCH_FORMAT))))
        self.exists_combo.setCurrentIndex(max(0, self.exists_combo.findData(get(BATCH_IF_EXISTS))))
        if s is not None:
            self.jpeg_quality_spin.setValue(s.get(S.SAVE_JPEG_QUALITY))
        self._task_changed()

    def _save_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        s.set(BATCH_INPUT, self.input_edit.text().strip())
        s.set(BATCH_OUTPUT, self.output_edit.text().strip())
        s.set(BATCH_RECURSIVE, self.recursive_check.isChecked())
        s.set(BATCH_TEMPLATE, self.template_edit.text())
        s.set(BATCH_FORMAT, self.format_combo.currentData())
        s.set(BATCH_IF_EXISTS, self.exists_combo.currentData())

    # ================================================================== fields
    def task(self) -> str:
        return self.task_combo.currentData()

    def set_task(self, task: str) -> None:
        self.task_combo.setCurrentIndex(TASK_NAMES.index(task))

    def field(self, name: str, task: str | None = None) -> OptionField:
        """The field of option `name` of `task` (the chosen one by default)."""
        return self.fields[task or self.task()][name]

    def options(self) -> dict:
        """The chosen task's options for the BatchJob (None: chosen per photo)."""
        return {name: f.value() for name, f in self.fields[self.task()].items()}

    def _task_changed(self, *_args) -> None:
        i = TASK_NAMES.index(self.task())
        self.options_stack.setCurrentIndex(i)
        for j in range(self.options_stack.count()):
            policy = QSizePolicy.Policy.Preferred if j == i else QSizePolicy.Policy.Ignored
            self.options_stack.widget(j).setSizePolicy(QSizePolicy.Policy.Preferred, policy)
        self.options_stack.adjustSize()
        self.refresh_models()
        self._update_name_preview()

    def refresh_models(self) -> None:
        fill_model_combo(self.model_combo, self.task())

    def choose_model(self, path: str | Path) -> bool:
        self.refresh_models()
        idx = self.model_combo.findData(str(path))
        if idx >= 0:
            self.model_combo.setCurrentIndex(idx)
        return idx >= 0

    def _update_name_preview(self, *_args) -> None:
        template = self.template_edit.text()
        fmt = self.format_combo.currentData()
        self.jpeg_quality_spin.setEnabled(fmt in ("jpg", "webp", "same"))
        try:
            stem = template.format(stem="photo", task=self.task(), ext="jpg")
        except (KeyError, IndexError, ValueError):
            self.name_preview.setText("Fields: {stem} {task} {ext}")
            return
        suffix = ".jpg" if fmt == "same" else "." + fmt
        self.name_preview.setText(f"photo.jpg → {stem}{suffix}")

    def browse_input(self) -> None:
        path = prompts.ask_folder(self, "Folder with the Photos to Restore", self.input_edit.text())
        if path:
            self.input_edit.setText(path)
            if not self.output_edit.text().strip():
                self.output_edit.setText(str(Path(path).with_name(Path(path).name + "-restored")))

    def browse_output(self) -> None:
        path = prompts.ask_folder(
            self, "Folder for the Restored Photos", self.output_edit.text() or self.input_edit.text()
        )
        if path:
            self.output_edit.setText(path)

    def browse_mask(self, edit: QLineEdit) -> None:
        path = prompts.ask_open_file(
            self, "Mask for Every Photo", edit.text() or self.input_edit.text(), prompts.IMAGE_FILTER
        )
        if path:
            edit.setText(path)

    def build_job(self) -> BatchJob:
        """The BatchJob the fields describe; UsageError for a missing folder (before validate_job)."""
        src, dst = self.input_edit.text().strip(), self.output_edit.text().strip()
        if not src:
            raise UsageError("Choose the input folder: the folder with the photos to restore.")
        if not dst:
            raise UsageError("Choose the output folder: where the restored photos go.")
        task = self.task()
        mask_edit = self.mask_edits.get(task)
        mask = (mask_edit.text().strip() or None) if mask_edit is not None else None
        device, tile = "auto", None
        if self.settings is not None:
            device = self.settings.get(S.DEVICE)
            tile = self.settings.get(S.TILE) or None
        return BatchJob(
            input_dir=Path(src).expanduser(),
            output_dir=Path(dst).expanduser(),
            task=task,
            **self.options(),
            mask=mask,
            model=self.model_combo.currentData(),
            device=device,
            tile=tile,
            recursive=self.recursive_check.isChecked(),
            pattern=self.pattern_edit.text().strip() or None,
            output_format=self.format_combo.currentData(),
            name_template=self.template_edit.text(),
            if_exists=self.exists_combo.currentData(),
            jpeg_quality=int(self.jpeg_quality_spin.value()),
            png_compression=self.settings.get(S.SAVE_PNG_COMPRESSION)
            if self.settings is not None
            else S.SAVE_PNG_COMPRESSION.default,
        )

    # ================================================================== running
    @property
    def running(self) -> bool:
        return self.runner.running

    def show_error(self, message: str) -> None:
        self.error_label.setText(sentence(message))
        self.error_label.show()

    def clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    def start(self) -> bool:
        if self.running:
            return False
        self.clear_error()
        try:
            job = self.build_job()
            validate_job(job)
        except (UsageError, ModelError) as exc:
            self.show_error(error_text(exc, self.task()))
            return False
        self._save_settings()
        self._job = job
        self._run_no += 1
        self.results = []
        self.report = None
        self._t0 = time.monotonic()
        self.results_view.begin()
        run_no, emit = self._run_no, self.relay.file_done.emit
        self.runner.start(run_batch_job, job, on_file=lambda result: emit(run_no, result))
        self._set_running(True)
        return True

    def cancel(self) -> None:
        if self.running:
            self.runner.cancel()
            self.results_view.cancelling()
            self.cancel_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        for w in (
            self.input_edit,
            self.input_button,
            self.output_edit,
            self.output_button,
            self.recursive_check,
            self.pattern_edit,
            self.task_combo,
            self.options_stack,
            self.model_combo,
            self.format_combo,
            self.jpeg_quality_spin,
            self.template_edit,
            self.exists_combo,
        ):
            w.setEnabled(not running)
        if not running:
            for fields in self.fields.values():
                for f in fields.values():
                    f.refresh_enabled()
            self._update_name_preview()
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.results_view.save_report_button.setEnabled(not running and self.report is not None)

    def _progress(self, p: Progress) -> None:
        self.results_view.show_progress(p)

    def _file_done(self, run_no: int, result: FileResult) -> None:
        if run_no != self._run_no:
            return
        self.results.append(result)
        self.results_view.add(result, self._rel(result.src))
        if result.status == "ok" and result.dst is not None:
            self.thumbs.start(plain(make_thumbnail), str(result.dst))
            self._thumb_path = result.dst

    def _thumbnail_ready(self, image: QImage) -> None:
        self.results_view.show_thumbnail(image, getattr(self, "_thumb_path", None))

    def _rel(self, path: Path) -> str:
        job = self._job
        try:
            return Path(path).relative_to(job.input_dir).as_posix() if job else Path(path).name
        except ValueError:
            return Path(path).name

    def _finished(self, report: BatchReport) -> None:
        self.report = report
        self.results_view.finish(report, recursive=bool(self._job and self._job.recursive))
        self.batch_finished.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self.results_view.stopped()
        job = self._job
        if isinstance(exc, (UsageError, ModelError)):
            self.show_error(
                error_text(exc, job.task if job else None, model_chosen=job is None or job.model is not None)
            )
        else:
            self.show_error(f"The batch stopped: {error_text(exc)}")
        if self.results:
            self.report = BatchReport(
                results=list(self.results),
                total=self.results_view.total or len(self.results),
                elapsed_s=time.monotonic() - self._t0,
            )

    def _cancelled(self) -> None:
        # The Runner drops the return value of a cancelled run, so the report is rebuilt from the
        # files that came back through on_file (every file written before the cancel is among them).
        report = BatchReport(
            results=list(self.results),
            total=max(self.results_view.total, len(self.results)),
            elapsed_s=time.monotonic() - self._t0,
            cancelled=True,
        )
        self.report = report
        self.results_view.cancelled(report)
        self.batch_finished.emit(report)

    def _done(self) -> None:
        self._set_running(False)

    def save_report(self) -> bool:
        if self.report is None:
            return False
        folder = self._job.output_dir if self._job is not None and self._job.output_dir.is_dir() else Path.home()
        path = prompts.ask_csv_path(self, str(folder / "batch-report.csv"))
        if not path:
            return False
        try:
            self.report.write_csv(path)
        except OSError as exc:
            self.show_error(f"Could not save the report: {exc.strerror or exc}")
            return False
        self.clear_error()
        self.results_view.report_label.setText(f"Report saved to {path}")
        return True

    # ================================================================== lifetime
    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel and wait (the main window calls this when it closes)."""
        self.runner.shutdown(timeout_ms)
        self.thumbs.shutdown(timeout_ms)

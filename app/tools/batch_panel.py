"""Tools > Batch Restore: restore every photo in a folder with `rednet.engine.batch.run_batch`.

A non-modal window: the main window stays usable while a batch runs. The job is checked with
`validate_job` before it starts (a UsageError is shown inline, under the Start button); the run
goes on the worker `Runner`, and each file's result comes back from the worker's `on_file` callback
over a queued signal. The last restored file is shown as a thumbnail (read back from the written file
with `rednet.io.imageio.read_photo` on a second small worker, so the GUI thread never decodes photos),
and every file is listed in a results table that can be saved as CSV (`BatchReport.write_csv`).

Cancel stops within one tile; files already written are complete (the core writes atomically) and
nothing partial is left behind.

The modal dialogs are module functions (`ask_folder`, `ask_open_file`, `ask_csv_path`) so tests can
monkeypatch them.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rednet.models import registry
from rednet.engine.batch import EXISTS_REASON, BatchJob, BatchReport, FileResult, run_batch, validate_job
from rednet.io.imageio import SUPPORTED_READ_EXTENSIONS, read_photo
from rednet.progress import Progress
from rednet.models.registry import ModelError
from rednet.engine.restore import UsageError

from app.services import settings as S
from app.canvas.image_convert import pixels_to_qimage
from app.resources import icon
from app.services.runner import Runner, plain
from app.panels.task_panel import QUALITY_RANGE, SCALE_RANGE, SIGMA_MAX, TASK_TITLES, TASKS, ModelComboBox, format_eta

THUMB_SIZE = QSize(220, 150)
FORMATS = (("same", "Same as input"), ("png", "PNG"), ("jpg", "JPEG"), ("tif", "TIFF"), ("webp", "WebP"))
IF_EXISTS_CHOICES = (("skip", "Skip the photo"), ("overwrite", "Overwrite"), ("fail", "Report as failed"))

BATCH_INPUT = S.Key("batch/input_dir", "", str)
BATCH_OUTPUT = S.Key("batch/output_dir", "", str)
BATCH_RECURSIVE = S.Key("batch/recursive", True, bool)
BATCH_TEMPLATE = S.Key("batch/name_template", "{stem}", str)
BATCH_FORMAT = S.Key("batch/format", "same", str, choices=tuple(f for f, _ in FORMATS))
BATCH_IF_EXISTS = S.Key("batch/if_exists", "skip", str, choices=tuple(c for c, _ in IF_EXISTS_CHOICES))

_PROGRESS_RE = re.compile(r"^file (\d+) of (\d+): (.+?)(?: \((.*)\))?$")

# The core's messages name the CLI's flags; in the window the same settings have labels.
_GUI_WORDS = (
    (EXISTS_REASON, "output exists (choose Skip or Overwrite for existing files)"),
    ("--mask MASK.png", "a mask file"),
    ("--output-quality", "Output quality"),
    ("--sigma", "Noise level σ"),
    ("--scale", "Scale"),
    ("--quality", "JPEG quality"),
    ("--format", "Format"),
    ("--name", "Name"),
    ("--tile", "Tile size (Preferences)"),
    ("; pass --model", "; choose a model"),
)


def gui_message(text: str) -> str:
    """A core error message with the CLI's flag names replaced by the window's labels."""
    text = str(text).strip() or "unknown error"
    for cli, gui in _GUI_WORDS:
        text = text.replace(cli, gui)
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------------ dialogs
def ask_folder(parent: QWidget | None, title: str, directory: str = "") -> str:
    return QFileDialog.getExistingDirectory(parent, title, directory)


def ask_open_file(parent: QWidget | None, title: str, directory: str = "", filters: str = "") -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, filters)
    return path


def ask_csv_path(parent: QWidget | None, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save Batch Report", suggested, "CSV (*.csv)")
    if path and not path.lower().endswith(".csv"):
        path += ".csv"
    return path


# ------------------------------------------------------------------------------------ worker side
def run_batch_job(job: BatchJob, *, state, on_file=None) -> BatchReport:
    """Worker-thread job for the Runner."""
    return run_batch(job, state, on_file=on_file)


def make_thumbnail(path: str | Path, max_w: int = THUMB_SIZE.width(), max_h: int = THUMB_SIZE.height()) -> QImage:
    """A small QImage of a written output (read with rednet.io.imageio; run on a worker thread)."""
    photo = read_photo(path)
    # Skip pixels down to about twice the box (cheap on big photos), then scale smoothly to fit it.
    step = max(1, int(max(photo.width / max_w, photo.height / max_h) // 2))
    small = np.ascontiguousarray(photo.pixels[::step, ::step])
    alpha = photo.alpha[::step, ::step] if photo.alpha is not None else None
    return pixels_to_qimage(small, alpha).scaled(max_w, max_h, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation)


class _FileRelay(QObject):
    """Emitted on the worker thread (from run_batch's on_file); delivered queued on the GUI thread."""

    file_done = Signal(int, object)  # run number, FileResult


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionHeader")
    return label


def _inline_error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("inlineError")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("QLabel#inlineError { color: #ffb3b3; background: #3d2427; border: 1px solid #6b2f36;"
                        " border-radius: 4px; padding: 6px 8px; }")
    label.hide()
    return label


def align_form_labels(widget: QWidget) -> None:
    """Give every QFormLayout label under `widget` the same width, so stacked forms line up."""
    labels = []
    for form in widget.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(item.widget(), QLabel):
                labels.append(item.widget())
    if labels:
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)


def _auto_or_value(parent: QWidget, auto_text: str, value_range, value: int):
    """A checked "automatic" box beside a spin box that is enabled only when the box is cleared."""
    auto = QCheckBox(auto_text, parent)
    auto.setChecked(True)
    spin = QSpinBox(parent)
    spin.setRange(*value_range)
    spin.setValue(value)
    spin.setEnabled(False)
    auto.toggled.connect(lambda on: spin.setEnabled(not on))
    row = QHBoxLayout()
    row.addWidget(auto, 1)
    row.addWidget(spin)
    return auto, spin, row


def _browse_row(edit: QLineEdit, button: QToolButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setSpacing(4)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


def fill_model_combo(combo: QComboBox, task: str, *, include_default: bool = False) -> list:
    """Fill a model picker with `registry.list_models(task)` (shipped default first); keeps the
    current choice when it is still listed. Returns the ModelInfo list (in combo order)."""
    previous = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    try:
        models = registry.list_models(task)
    except Exception:  # noqa: BLE001 - an unreadable folder must not break the panel
        models = []
    models.sort(key=lambda m: (m.source != "shipped", m.name != task, m.name))
    for m in models:
        label = f"{m.name}  ({'default' if m.source == 'shipped' and m.name == task else m.source})"
        combo.addItem(label, str(m.path))
        combo.setItemData(combo.count() - 1, f"{m.summary}\n{m.path}", Qt.ItemDataRole.ToolTipRole)
    if not models:
        combo.addItem(f"No {TASK_TITLES[task].lower()} model installed", None)
    idx = combo.findData(previous) if previous else -1
    combo.setCurrentIndex(max(idx, 0))
    combo.blockSignals(False)
    return models


class BatchDialog(QDialog):
    """Tools > Batch Restore…: folders, task, model, output naming; Start / Cancel; results."""

    batch_finished = Signal(object)  # the BatchReport (also for a cancelled run)

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
        self._total = 0
        self._t0 = 0.0

        outer = QHBoxLayout(self)
        outer.setContentsMargins(14, 12, 14, 12)
        outer.setSpacing(18)
        outer.addLayout(self._settings_column(), 5)
        outer.addLayout(self._progress_column(), 6)

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
        col.addWidget(_section("Folders"))
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
        form.addRow("Input", _browse_row(self.input_edit, self.input_button))
        form.addRow("Output", _browse_row(self.output_edit, self.output_button))
        self.recursive_check = QCheckBox("Include subfolders (the folder tree is kept)", self)
        form.addRow("", self.recursive_check)
        self.pattern_edit = QLineEdit(self)
        self.pattern_edit.setPlaceholderText("All photos — or a pattern such as *.jpg")
        form.addRow("Files", self.pattern_edit)
        col.addLayout(form)

        col.addWidget(_section("Task"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.task_combo = QComboBox(self)
        for t in TASKS:
            self.task_combo.addItem(icon(f"task-{t}"), TASK_TITLES[t], t)
        form.addRow("Task", self.task_combo)
        self.options_stack = QStackedWidget(self)
        self.options_stack.addWidget(self._denoise_options())
        self.options_stack.addWidget(self._sr_options())
        self.options_stack.addWidget(self._jpeg_options())
        self.options_stack.addWidget(self._inpaint_options())
        form.addRow(self.options_stack)
        self.model_combo = ModelComboBox(self)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(14)
        form.addRow("Model", self.model_combo)
        col.addLayout(form)

        col.addWidget(_section("Output files"))
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
        self.template_edit.setToolTip("The output file name without extension: {stem} is the photo's name, "
                                      "{task} the task, {ext} its extension")
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
        self.cancel_button.setToolTip("Stop after the current tile; finished files stay, nothing partial is written")
        row.addWidget(self.start_button, 2)
        row.addWidget(self.cancel_button, 1)
        col.addLayout(row)
        self.error_label = _inline_error_label(self)
        col.addWidget(self.error_label)

        self.input_button.clicked.connect(self.browse_input)
        self.output_button.clicked.connect(self.browse_output)
        self.task_combo.currentIndexChanged.connect(self._task_changed)
        self.model_combo.about_to_show.connect(self.refresh_models)
        self.format_combo.currentIndexChanged.connect(self._update_name_preview)
        self.template_edit.textChanged.connect(self._update_name_preview)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        return col

    def _denoise_options(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.sigma_auto, self.sigma_spin, row = _auto_or_value(page, "Estimate per photo", (0, int(SIGMA_MAX)), 25)
        form.addRow("Noise level σ", row)
        return page

    def _sr_options(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.scale_spin = QDoubleSpinBox(page)
        self.scale_spin.setRange(*SCALE_RANGE)
        self.scale_spin.setSingleStep(0.25)
        self.scale_spin.setValue(2.0)
        self.scale_spin.setPrefix("× ")
        form.addRow("Scale", self.scale_spin)
        return page

    def _jpeg_options(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.quality_auto, self.quality_spin, row = _auto_or_value(page, "From each file", QUALITY_RANGE, 30)
        form.addRow("Quality", row)
        return page

    def _inpaint_options(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.mask_edit = QLineEdit(page)
        self.mask_edit.setPlaceholderText("One mask for every photo (white = fill)")
        self.mask_button = QToolButton(page)
        self.mask_button.setText("Browse…")
        self.mask_button.clicked.connect(self.browse_mask)
        form.addRow("Mask", _browse_row(self.mask_edit, self.mask_button))
        return page

    def _progress_column(self) -> QVBoxLayout:
        col = QVBoxLayout()
        col.setSpacing(6)
        col.addWidget(_section("Progress"))
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")
        col.addWidget(self.progress)
        self.current_label = QLabel("Ready", self)
        self.current_label.setObjectName("value")
        self.current_label.setWordWrap(True)
        col.addWidget(self.current_label)
        self.eta_label = QLabel("", self)
        self.eta_label.setObjectName("hint")
        col.addWidget(self.eta_label)

        row = QHBoxLayout()
        row.setSpacing(12)
        self.thumbnail = QLabel(self)
        self.thumbnail.setObjectName("batchThumbnail")
        self.thumbnail.setFixedSize(THUMB_SIZE.width() + 8, THUMB_SIZE.height() + 8)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setStyleSheet("QLabel#batchThumbnail { background: #1e1e21; border: 1px solid #3a3a3e;"
                                     " border-radius: 4px; color: #77777c; }")
        self.thumbnail.setText("Last result")
        row.addWidget(self.thumbnail)
        info = QVBoxLayout()
        self.thumb_caption = QLabel("", self)
        self.thumb_caption.setObjectName("value")
        self.thumb_caption.setWordWrap(True)
        self.counts_label = QLabel("", self)
        self.counts_label.setObjectName("hint")
        self.counts_label.setWordWrap(True)
        info.addWidget(self.thumb_caption)
        info.addWidget(self.counts_label)
        info.addStretch(1)
        row.addLayout(info, 1)
        col.addLayout(row)

        col.addWidget(_section("Results"))
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["File", "Status", "Reason"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        self.table.setColumnWidth(0, 200)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        col.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.failures_only = QCheckBox("Failures only", self)
        self.failures_only.toggled.connect(self._apply_filter)
        self.save_report_button = QPushButton("Save Report…", self)
        self.save_report_button.setToolTip("Save every file's result (input, output, status, reason, seconds) as CSV")
        self.save_report_button.clicked.connect(self.save_report)
        row.addWidget(self.failures_only)
        row.addStretch(1)
        row.addWidget(self.save_report_button)
        col.addLayout(row)
        self.report_label = QLabel("", self)
        self.report_label.setObjectName("hint")
        self.report_label.setWordWrap(True)
        col.addWidget(self.report_label)
        return col

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
        self.task_combo.setCurrentIndex(TASKS.index(task))

    def _task_changed(self, *_args) -> None:
        i = TASKS.index(self.task())
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
        path = ask_folder(self, "Folder with the Photos to Restore", self.input_edit.text())
        if path:
            self.input_edit.setText(path)
            if not self.output_edit.text().strip():
                self.output_edit.setText(str(Path(path).with_name(Path(path).name + "-restored")))

    def browse_output(self) -> None:
        path = ask_folder(self, "Folder for the Restored Photos", self.output_edit.text() or self.input_edit.text())
        if path:
            self.output_edit.setText(path)

    def browse_mask(self) -> None:
        filters = "Images (" + " ".join("*" + e for e in SUPPORTED_READ_EXTENSIONS) + ")"
        path = ask_open_file(self, "Mask for Every Photo", self.mask_edit.text() or self.input_edit.text(), filters)
        if path:
            self.mask_edit.setText(path)

    def build_job(self) -> BatchJob:
        """The BatchJob the fields describe; UsageError for a missing folder (before validate_job)."""
        src, dst = self.input_edit.text().strip(), self.output_edit.text().strip()
        if not src:
            raise UsageError("Choose the input folder: the folder with the photos to restore.")
        if not dst:
            raise UsageError("Choose the output folder: where the restored photos go.")
        task = self.task()
        mask = (self.mask_edit.text().strip() or None) if task == "inpaint" else None
        device, tile = "auto", None
        if self.settings is not None:
            device = self.settings.get(S.DEVICE)
            tile = self.settings.get(S.TILE) or None
        return BatchJob(
            input_dir=Path(src).expanduser(), output_dir=Path(dst).expanduser(), task=task,
            sigma=None if task != "denoise" or self.sigma_auto.isChecked() else float(self.sigma_spin.value()),
            scale=float(self.scale_spin.value()) if task == "sr" else None,
            quality=None if task != "jpeg" or self.quality_auto.isChecked() else int(self.quality_spin.value()),
            mask=mask, model=self.model_combo.currentData(), device=device, tile=tile,
            recursive=self.recursive_check.isChecked(), pattern=self.pattern_edit.text().strip() or None,
            output_format=self.format_combo.currentData(), name_template=self.template_edit.text(),
            if_exists=self.exists_combo.currentData(), jpeg_quality=int(self.jpeg_quality_spin.value()))

    # ================================================================== running
    @property
    def running(self) -> bool:
        return self.runner.running

    def show_error(self, message: str) -> None:
        self.error_label.setText(gui_message(message))
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
            self.show_error(str(exc))
            return False
        self._save_settings()
        self._job = job
        self._run_no += 1
        self.results = []
        self.report = None
        self._total = 0
        self._t0 = time.monotonic()
        self.table.setRowCount(0)
        self.thumbnail.clear()
        self.thumbnail.setText("Last result")
        self.thumb_caption.clear()
        self.report_label.clear()
        self._update_counts()
        run_no, emit = self._run_no, self.relay.file_done.emit
        self.runner.start(run_batch_job, job, on_file=lambda result: emit(run_no, result))
        self._set_running(True)
        self.current_label.setText("Listing the photos…")
        self.eta_label.setText("")
        return True

    def cancel(self) -> None:
        if self.running:
            self.runner.cancel()
            self.current_label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        for w in (self.input_edit, self.input_button, self.output_edit, self.output_button, self.recursive_check,
                  self.pattern_edit, self.task_combo, self.options_stack, self.model_combo, self.format_combo,
                  self.jpeg_quality_spin, self.template_edit, self.exists_combo):
            w.setEnabled(not running)
        if not running:
            self.sigma_spin.setEnabled(not self.sigma_auto.isChecked())
            self.quality_spin.setEnabled(not self.quality_auto.isChecked())
            self._update_name_preview()
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.save_report_button.setEnabled(not running and self.report is not None)
        if running:
            self.progress.setValue(0)
            self.progress.setFormat("Starting…")

    def _progress(self, p: Progress) -> None:
        self.progress.setValue(int(round(p.fraction * 1000)))
        m = _PROGRESS_RE.match(p.message or "")
        if m:
            i, n, name, detail = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
            self._total = n
            self.progress.setFormat(f"File {i} of {n}")
            detail = "" if detail in (None, "tile 1 of 1") else f" — {detail}"
            self.current_label.setText(f"Restoring {name}{detail}")
        elif p.message:
            self.current_label.setText(p.message[:1].upper() + p.message[1:])
        self.eta_label.setText(format_eta(p.eta_s) if p.fraction < 1 else "")

    def _file_done(self, run_no: int, result: FileResult) -> None:
        if run_no != self._run_no:
            return
        self.results.append(result)
        self._add_row(result)
        self._update_counts()
        if self._total and len(self.results) < self._total:  # before the next file's progress arrives
            self.progress.setFormat(f"File {len(self.results) + 1} of {self._total}")
        if result.status == "ok" and result.dst is not None:
            self.thumbs.start(plain(make_thumbnail), str(result.dst))
            self._thumb_path = result.dst

    def _thumbnail_ready(self, image: QImage) -> None:
        self.thumbnail.setPixmap(QPixmap.fromImage(image))
        path = getattr(self, "_thumb_path", None)
        if path is not None:
            self.thumb_caption.setText(f"{Path(path).name}\n{image.width()} × {image.height()} preview")

    def _rel(self, path: Path) -> str:
        job = self._job
        try:
            return Path(path).relative_to(job.input_dir).as_posix() if job else Path(path).name
        except ValueError:
            return Path(path).name

    def _add_row(self, r: FileResult) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        status_text = {"ok": "Restored", "failed": "Failed", "skipped": "Skipped"}.get(r.status, r.status)
        reason = gui_message(r.reason) if r.reason else (f"{r.seconds:.1f} s" if r.status == "ok" else "")
        items = [QTableWidgetItem(self._rel(r.src)), QTableWidgetItem(status_text), QTableWidgetItem(reason)]
        items[0].setToolTip(f"{r.src}\n→ {r.dst}" if r.dst else str(r.src))
        items[2].setToolTip("\n".join([reason, *r.warnings]).strip())
        colour = {"failed": QColor(255, 140, 140), "skipped": QColor(170, 170, 176)}.get(r.status)
        for col, item in enumerate(items):
            if colour is not None:
                item.setForeground(colour)
            self.table.setItem(row, col, item)
        self.table.setRowHidden(row, self.failures_only.isChecked() and r.status != "failed")
        if not self.failures_only.isChecked() or r.status == "failed":
            self.table.scrollToItem(items[0])

    def _apply_filter(self, on: bool) -> None:
        for row, r in enumerate(self.results):
            self.table.setRowHidden(row, on and r.status != "failed")
        self.table.scrollToTop()

    def failed_rows(self) -> list[tuple[str, str]]:
        """(file, reason) of every failed row of the table."""
        return [(self.table.item(i, 0).text(), self.table.item(i, 2).text()) for i in range(self.table.rowCount())
                if self.table.item(i, 1).text() == "Failed"]

    def _update_counts(self) -> None:
        c = {"ok": 0, "failed": 0, "skipped": 0}
        for r in self.results:
            c[r.status] = c.get(r.status, 0) + 1
        total = f" of {self._total}" if self._total else ""
        self.counts_label.setText(f"{len(self.results)}{total} done: {c['ok']} restored, "
                                  f"{c['skipped']} skipped, {c['failed']} failed")

    def _finished(self, report: BatchReport) -> None:
        self.report = report
        self._total = report.total
        c = report.counts
        self.progress.setValue(1000)
        self.progress.setFormat(f"{report.total} of {report.total}" if report.total else "No photos")
        if report.total == 0:
            self.current_label.setText("No photos found in the input folder"
                                       + ("" if self._job and self._job.recursive else
                                          " (turn on “Include subfolders” to look deeper)"))
        else:
            self.current_label.setText(f"Done: {c['ok']} restored, {c['skipped']} skipped, {c['failed']} failed "
                                       f"in {report.elapsed_s:.1f} s")
        if c["failed"]:
            self.failures_only.setChecked(True)
        self._update_counts()
        self.batch_finished.emit(report)

    def _failed(self, exc: BaseException) -> None:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.current_label.setText("Not started" if not self.results else "Stopped")
        if isinstance(exc, (UsageError, ModelError)):
            self.show_error(reason)
        else:
            self.show_error(f"The batch stopped: {reason}")
        if self.results:
            self.report = BatchReport(results=list(self.results), total=self._total or len(self.results),
                                      elapsed_s=time.monotonic() - self._t0)

    def _cancelled(self) -> None:
        # The Runner drops the return value of a cancelled run, so the report is rebuilt from the
        # files that came back through on_file (every file written before the cancel is among them).
        report = BatchReport(results=list(self.results), total=max(self._total, len(self.results)),
                             elapsed_s=time.monotonic() - self._t0, cancelled=True)
        self.report = report
        c = report.counts
        self.progress.setFormat(f"Cancelled at file {len(self.results) + 1} of {report.total}"
                                if c["not_done"] else "Cancelled")
        self.current_label.setText(f"Cancelled: {c['ok']} restored, {c['not_done']} not done. Finished files "
                                   "are complete; nothing partial was written.")
        self.eta_label.setText("")
        self._update_counts()
        self.batch_finished.emit(report)

    def _done(self) -> None:
        self._set_running(False)

    def save_report(self) -> bool:
        if self.report is None:
            return False
        folder = self._job.output_dir if self._job is not None and self._job.output_dir.is_dir() else Path.home()
        path = ask_csv_path(self, str(folder / "batch-report.csv"))
        if not path:
            return False
        try:
            self.report.write_csv(path)
        except OSError as exc:
            self.show_error(f"Could not save the report: {exc.strerror or exc}")
            return False
        self.clear_error()
        self.report_label.setText(f"Report saved to {path}")
        return True

    # ================================================================== lifetime
    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel and wait (the main window calls this when it closes)."""
        self.runner.shutdown(timeout_ms)
        self.thumbs.shutdown(timeout_ms)

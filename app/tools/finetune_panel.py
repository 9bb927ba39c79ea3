"""Tools > Fine-tune a Model: teach a model the user's own photos with `rednet.train.finetune.finetune`.

A non-modal window: the main window stays usable while it trains. The job runs on the worker
`Runner` (`finetune`, whose DataError for unusable photos comes before anything trains and is
shown inline); each `on_log` entry comes back over a queued signal and feeds a live plot of the
training loss and the validation PSNR (repaints throttled by the plot). Pause / Resume use the
TaskState; Cancel stops within one step (the core writes a checkpoint first, which "Continue the
interrupted run" resumes from).

Preview: a fixed crop of the first photo, degraded with the task's degradation at a fixed seed
(noise σ 25, ×2 bicubic down-scaling, JPEG quality 20 or a random inpainting mask), restored on a
second worker:
  * at the start with the base model;
  * during training with the latest checkpoint (`finetune` saves one at every validation step here:
    `checkpoint_every = val_every`; `registry.load_model` reads its averaged weights);
  * at the end with the new model file.

On success the new model is selected in the main window's model picker (the task panel is switched
to the task and refreshed). "Your models" lists the user's models: rename, export (weights + card)
and delete (with a confirmation); shipped models are never touched.

Modal dialogs are module functions (`ask_folder`, `ask_text`) or `app.dialogs.prompts` functions, so tests can
monkeypatch them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rednet.tasks import degradations as deg
from rednet.models import registry
from rednet.models import user_models as model_store
from rednet.train.data import DataError, find_images
from rednet.train.finetune import finetune, output_path
from rednet.io.imageio import ImageReadError, Photo, read_photo
from rednet.evaluation.metrics import psnr
from rednet.paths import user_models_dir
from rednet.progress import Progress
from rednet.models.registry import ModelError, card_path, load_model
from rednet.engine.restore import UsageError, restore
from rednet.train.loop import checkpoint_path

from app.dialogs import prompts as dialogs
from app.services import settings as S
from app.tools.batch_panel import _browse_row, _inline_error_label, _section, align_form_labels, fill_model_combo, gui_message
from app.canvas.image_convert import pixels_to_qimage
from app.widgets.plot_widget import LinePlot
from app.resources import icon
from app.services.runner import Runner
from app.panels.task_panel import TASK_TITLES, TASKS, ModelComboBox, format_eta

PREVIEW_SIZE = 96  # crop side in pixels (shown enlarged)
PREVIEW_SHOW = 176  # side of each preview image on screen
PREVIEW_SIGMA, PREVIEW_SCALE, PREVIEW_QUALITY = 25.0, 2.0, 20
PREVIEW_SEED = 0
LOSS_SMOOTHING = 0.1  # the plotted training loss is an exponential moving average (raw steps drawn faint)
TIME_BUDGET_ITERS = 1_000_000  # with a time budget the run ends on time (or early stopping)

FT_DATA = S.Key("finetune/data", "", str)
FT_TASK = S.Key("finetune/task", "denoise", str, choices=TASKS)
FT_MINUTES = S.Key("finetune/minutes", 10, int, 1, 10_000)
FT_ITERS = S.Key("finetune/iters", 300, int, 1, 1_000_000)
FT_USE_TIME = S.Key("finetune/use_time", True, bool)


# ------------------------------------------------------------------------------------ dialogs
def ask_folder(parent: QWidget | None, title: str, directory: str = "") -> str:
    return QFileDialog.getExistingDirectory(parent, title, directory)


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str:
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value if ok else ""


# ------------------------------------------------------------------------------------ worker side
def run_finetune_job(task: str, data: str, out: str, *, state, on_log, pairs=None, **options):
    """Worker-thread job. Unusable data is a DataError before anything trains; the photos left out
    reach `on_log` as {"skipped": [...]} before step 0."""
    state.report(0.0, "checking the photos")
    return finetune(task, data, out, pairs=pairs, state=state, on_log=on_log, **options)


@dataclass
class PreviewSample:
    """A fixed crop of the first photo and its degraded version (the restore input)."""

    source: Path
    clean: np.ndarray  # s x s x 3
    restore_input: Photo
    options: dict  # restore() keywords for the degradation (sigma / scale / quality / mask)
    shown: np.ndarray  # the degraded crop as shown (at the clean crop's size)


def prepare_preview(data: str | Path, task: str, size: int = PREVIEW_SIZE, seed: int = PREVIEW_SEED) -> PreviewSample:
    """Crop the centre of the first readable photo in `data` and degrade it like training does."""
    photo = None
    for path in find_images(data):
        try:
            photo = read_photo(path)
            break
        except ImageReadError:
            continue
    if photo is None:
        raise DataError(f"{data}: no readable photo for the preview")
    px = photo.pixels if photo.pixels.shape[2] == 3 else np.repeat(photo.pixels, 3, axis=2)
    h, w = px.shape[:2]
    s = min(size, h, w)
    s -= s % 2  # ×2 down and up again lands on the same size
    y, x = _detailed_corner(px, s)
    clean = np.ascontiguousarray(px[y:y + s, x:x + s], dtype=np.float32)
    rng = np.random.default_rng(seed)
    if task == "denoise":
        shown = deg.add_gaussian_noise(clean, PREVIEW_SIGMA, rng)
        return PreviewSample(photo.path, clean, Photo(pixels=shown), {"sigma": PREVIEW_SIGMA}, shown)
    if task == "sr":
        small = deg.quantize8(deg.bicubic_resize(clean, deg.downscaled_size(s, s, PREVIEW_SCALE)))
        shown = deg.bicubic_resize(small, (s, s))
        return PreviewSample(photo.path, clean, Photo(pixels=small), {"scale": PREVIEW_SCALE}, np.clip(shown, 0, 1))
    if task == "jpeg":
        shown = deg.jpeg_degrade(clean, PREVIEW_QUALITY)
        return PreviewSample(photo.path, clean, Photo(pixels=shown), {"quality": PREVIEW_QUALITY}, shown)
    mask = deg.random_mask(s, s, rng)
    shown = np.where(mask[..., None], np.array([0.84, 0.23, 0.28], np.float32), clean).astype(np.float32)
    return PreviewSample(photo.path, clean, Photo(pixels=clean), {"mask": mask}, shown)


def _detailed_corner(px: np.ndarray, s: int) -> tuple[int, int]:
    """(y, x) of the s x s crop with the most detail among nine evenly spread ones (the centre on a tie),
    so the preview shows texture rather than a flat patch of sky."""
    h, w = px.shape[:2]
    gray = px.mean(axis=2)
    best, best_score = ((h - s) // 2, (w - s) // 2), -1.0
    for fy in (0.5, 0.2, 0.8):
        for fx in (0.5, 0.2, 0.8):
            y, x = int((h - s) * fy), int((w - s) * fx)
            c = gray[y:y + s, x:x + s]
            score = float(np.abs(np.diff(c, axis=0)).mean() + np.abs(np.diff(c, axis=1)).mean())
            if score > best_score + 1e-6:
                best, best_score = (y, x), score
    return best


def preview_job(sample: PreviewSample | None, data: str, task: str, model, device: str = "auto", *, state):
    """Worker-thread job: (sample, degraded QImage, restored QImage, PSNR degraded, PSNR restored).

    `model` is a model file, a training checkpoint (.ckpt, read with registry.load_model) or None for
    the shipped default."""
    if sample is None:
        sample = prepare_preview(data, task)
    step = None
    if model is not None and Path(model).suffix == ".ckpt":
        step = checkpoint_step(model)
        model = load_model(model, task=task)
    out = restore(sample.restore_input, task, model=model, device=device, state=state, **sample.options)
    restored = out.pixels if out.pixels.shape[:2] == sample.clean.shape[:2] else \
        deg.bicubic_resize(out.pixels, (sample.clean.shape[1], sample.clean.shape[0]))
    return (sample, pixels_to_qimage(sample.shown), pixels_to_qimage(restored),
            psnr(sample.clean, sample.shown), psnr(sample.clean, restored), step)


def checkpoint_step(path: str | Path) -> int | None:
    """The step a training checkpoint was written at (None if it cannot be read)."""
    import torch

    try:
        saved = torch.load(str(path), map_location="cpu", weights_only=True)
        return int(saved["step"])
    except Exception:  # noqa: BLE001 - only a caption depends on it
        return None


class _LogRelay(QObject):
    """Emitted on the worker thread (train's on_log); delivered queued on the GUI thread."""

    entry = Signal(int, object)  # run number, the log dict


# ------------------------------------------------------------------------------------ helpers
def user_models() -> list[registry.ModelInfo]:
    try:
        return [m for m in registry.list_models() if m.source == "user"]
    except Exception:  # noqa: BLE001
        return []


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a model name, as a sentence for the panel (rules: rednet.models.user_models)."""
    problem = model_store.name_problem(name)
    return None if problem is None else problem[0].upper() + problem[1:] + "."


def select_model_in_task_panel(panel, task: str, path: str | Path) -> bool:
    """Show `path` in the main task panel's model picker (switching it to `task`). Not while the
    panel is busy restoring (its picker is disabled then)."""
    if panel is None or not panel.model_combo.isEnabled():
        return False
    if panel.task() != task:
        panel.set_task(task)  # refreshes the picker
    panel.refresh_models()
    idx = panel.model_combo.findData(str(path))
    if idx < 0:
        return False
    panel.model_combo.setCurrentIndex(idx)
    return True


def _short_time(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


class PreviewImage(QLabel):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("previewImage")
        self.setFixedSize(PREVIEW_SHOW + 4, PREVIEW_SHOW + 4)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("QLabel#previewImage { background: #1e1e21; border: 1px solid #3a3a3e;"
                           " border-radius: 3px; color: #77777c; }")
        self.empty_text = title
        self.setText(title)

    def set_image(self, image: QImage | None) -> None:
        if image is None or image.isNull():
            self.clear()
            self.setText(self.empty_text)
            return
        self.setPixmap(QPixmap.fromImage(image).scaled(
            PREVIEW_SHOW, PREVIEW_SHOW, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))


class FinetuneDialog(QDialog):
    """Tools > Fine-tune a Model…"""

    model_created = Signal(str, str)  # path, task
    models_changed = Signal()  # a user model was created, renamed or deleted

    def __init__(self, parent: QWidget | None = None, settings: S.Settings | None = None, task_panel=None):
        super().__init__(parent)
        self.setObjectName("finetuneDialog")
        self.setWindowTitle("Fine-tune a Model")
        self.setModal(False)
        self.settings = settings
        self.task_panel = task_panel
        self.runner = Runner(self)
        self.previewer = Runner(self)
        self.relay = _LogRelay(self)
        self.relay.entry.connect(self._log_entry, Qt.ConnectionType.QueuedConnection)
        # Training knobs not on the form (finetune's defaults; tests make them tiny).
        self.batch, self.patch, self.val_every, self.lr, self.patience = 16, 48, 25, 1e-4, 4
        self.result = None
        self._loss_avg: tuple[float, int] | None = None  # (EMA, count) of the training loss
        self.log: list[dict] = []
        self.skipped: list[str] = []
        self._run_no = 0
        self._run: dict | None = None
        self._sample: PreviewSample | None = None
        self._preview_key = None
        self.preview_history: list[str] = []  # what each shown preview was restored with

        outer = QHBoxLayout(self)
        outer.setContentsMargins(14, 12, 14, 12)
        outer.setSpacing(18)
        outer.addLayout(self._settings_column(), 4)
        outer.addLayout(self._training_column(), 6)

        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self.runner.done.connect(self._done)
        # While training, look for a new checkpoint twice a second (also while paused).
        self._ckpt_timer = QTimer(self)
        self._ckpt_timer.setInterval(500)
        self._ckpt_timer.timeout.connect(lambda: self._maybe_preview_checkpoint())
        self.previewer.finished.connect(self._preview_ready)
        self.previewer.failed.connect(self._preview_failed)
        self.models_changed.connect(self.refresh_user_models)
        self._load_settings()
        self._set_running(False)
        self.refresh_user_models()
        align_form_labels(self)
        for b in self.findChildren(QPushButton):  # Enter in a field must not start a run
            b.setAutoDefault(False)
        self.resize(1040, 680)

    # ================================================================== construction
    def _settings_column(self) -> QVBoxLayout:
        col = QVBoxLayout()
        col.setSpacing(6)
        col.addWidget(_section("Your photos"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.data_edit = QLineEdit(self)
        self.data_edit.setPlaceholderText("Clean photos like the ones to restore")
        self.data_button = QToolButton(self)
        self.data_button.setText("Browse…")
        form.addRow("Photos", _browse_row(self.data_edit, self.data_button))
        self.pairs_edit = QLineEdit(self)
        self.pairs_edit.setPlaceholderText("Optional: their degraded versions, same names")
        self.pairs_button = QToolButton(self)
        self.pairs_button.setText("Browse…")
        form.addRow("Pairs", _browse_row(self.pairs_edit, self.pairs_button))
        col.addLayout(form)

        col.addWidget(_section("Model"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.task_combo = QComboBox(self)
        for t in TASKS:
            self.task_combo.addItem(icon(f"task-{t}"), TASK_TITLES[t], t)
        form.addRow("Task", self.task_combo)
        self.base_combo = ModelComboBox(self)
        self.base_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.base_combo.setMinimumContentsLength(14)
        form.addRow("Start from", self.base_combo)
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("e.g. my-scans")
        form.addRow("Save as", self.name_edit)
        self.resume_check = QCheckBox("Continue the interrupted run", self)
        self.resume_check.setToolTip("A run with this name was stopped; continue from its checkpoint")
        self.resume_check.hide()
        form.addRow("", self.resume_check)
        col.addLayout(form)

        col.addWidget(_section("Training time"))
        grid = QFormLayout()
        self.time_radio = QRadioButton("Time", self)
        self.iters_radio = QRadioButton("Steps", self)
        group = QButtonGroup(self)
        group.addButton(self.time_radio)
        group.addButton(self.iters_radio)
        self.minutes_spin = QSpinBox(self)
        self.minutes_spin.setRange(1, 10_000)
        self.minutes_spin.setSuffix(" min")
        self.iters_spin = QSpinBox(self)
        self.iters_spin.setRange(1, 1_000_000)
        self.iters_spin.setSingleStep(50)
        grid.addRow(self.time_radio, self.minutes_spin)
        grid.addRow(self.iters_radio, self.iters_spin)
        col.addLayout(grid)
        budget_hint = QLabel("Stops earlier when the validation score stops improving.", self)
        budget_hint.setObjectName("hint")
        budget_hint.setWordWrap(True)
        col.addWidget(budget_hint)

        row = QHBoxLayout()
        self.start_button = QPushButton(icon("restore"), "Start", self)
        self.start_button.setObjectName("restoreButton")
        self.start_button.setMinimumHeight(34)
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setMinimumHeight(34)
        self.pause_button.setCheckable(True)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel", self)
        self.cancel_button.setMinimumHeight(34)
        self.cancel_button.setToolTip("Stop after the current step; a checkpoint is kept to continue later")
        row.addWidget(self.start_button, 2)
        row.addWidget(self.pause_button, 1)
        row.addWidget(self.cancel_button, 1)
        col.addLayout(row)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setFormat("")
        col.addWidget(self.progress)
        self.status_label = QLabel("Ready", self)
        self.status_label.setObjectName("hint")
        self.status_label.setWordWrap(True)
        col.addWidget(self.status_label)
        self.error_label = _inline_error_label(self)
        col.addWidget(self.error_label)

        col.addWidget(_section("Your models"))
        self.models_list = QListWidget(self)
        self.models_list.setMinimumHeight(90)
        col.addWidget(self.models_list, 1)
        row = QHBoxLayout()
        self.rename_button = QPushButton("Rename…", self)
        self.export_button = QPushButton("Export…", self)
        self.delete_button = QPushButton("Delete…", self)
        self.export_button.setToolTip("Copy the model file and its card to a folder")
        for b in (self.rename_button, self.export_button, self.delete_button):
            row.addWidget(b)
        col.addLayout(row)

        self.data_button.clicked.connect(self.browse_data)
        self.pairs_button.clicked.connect(self.browse_pairs)
        self.task_combo.currentIndexChanged.connect(self._task_changed)
        self.base_combo.about_to_show.connect(self.refresh_base_models)
        self.name_edit.textChanged.connect(self._update_resume)
        self.time_radio.toggled.connect(self._budget_changed)
        self.start_button.clicked.connect(self.start)
        self.pause_button.toggled.connect(self.set_paused)
        self.cancel_button.clicked.connect(self.cancel)
        self.models_list.currentRowChanged.connect(lambda _row: self._update_manage_buttons())
        self.rename_button.clicked.connect(lambda: self.rename_selected())
        self.export_button.clicked.connect(lambda: self.export_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        return col

    def _training_column(self) -> QVBoxLayout:
        col = QVBoxLayout()
        col.setSpacing(6)
        col.addWidget(_section("Training"))
        self.plot = LinePlot(self)
        self.plot.add_series("loss", "loss (each step)", QColor(110, 170, 255, 70), side="left", log=True,
                             legend=False, width=1.0)
        self.plot.add_series("loss_avg", "training loss", QColor(110, 170, 255), side="left", log=True, width=2.0)
        self.plot.add_series("psnr", "validation PSNR", QColor(235, 96, 108), side="right", unit="dB",
                             marker=True)
        self.plot.placeholder = "The loss and the validation score appear here as it learns"
        col.addWidget(self.plot, 1)
        self.metrics_label = QLabel("", self)
        self.metrics_label.setObjectName("value")
        self.metrics_label.setWordWrap(True)
        col.addWidget(self.metrics_label)

        col.addWidget(_section("Preview"))
        row = QHBoxLayout()
        row.setSpacing(10)
        self.before_image = PreviewImage("Degraded crop", self)
        self.after_image = PreviewImage("Restored", self)
        for title, w in (("Degraded", self.before_image), ("Restored", self.after_image)):
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(w)
            caption = QLabel(title, self)
            caption.setObjectName("hint")
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            box.addWidget(caption)
            row.addLayout(box)
            if w is self.before_image:
                self.before_caption = caption
            else:
                self.after_caption = caption
        self.preview_label = QLabel("A crop of your first photo, degraded and restored: at the start with the "
                                    "base model, then with each checkpoint, then with the new model.", self)
        self.preview_label.setObjectName("hint")
        self.preview_label.setWordWrap(True)
        self.preview_label.setMinimumWidth(160)
        row.addWidget(self.preview_label, 1, Qt.AlignmentFlag.AlignTop)
        col.addLayout(row)
        return col

    # ================================================================== settings / fields
    def _load_settings(self) -> None:
        s = self.settings
        get = s.get if s is not None else (lambda key: key.default)
        self.data_edit.setText(get(FT_DATA))
        self.task_combo.setCurrentIndex(TASKS.index(get(FT_TASK)))
        self.minutes_spin.setValue(get(FT_MINUTES))
        self.iters_spin.setValue(get(FT_ITERS))
        (self.time_radio if get(FT_USE_TIME) else self.iters_radio).setChecked(True)
        self._budget_changed()
        self._task_changed()

    def _save_settings(self) -> None:
        s = self.settings
        if s is None:
            return
        s.set(FT_DATA, self.data_edit.text().strip())
        s.set(FT_TASK, self.task())
        s.set(FT_MINUTES, self.minutes_spin.value())
        s.set(FT_ITERS, self.iters_spin.value())
        s.set(FT_USE_TIME, self.time_radio.isChecked())

    def task(self) -> str:
        return self.task_combo.currentData()

    def set_task(self, task: str) -> None:
        self.task_combo.setCurrentIndex(TASKS.index(task))

    def _task_changed(self, *_args) -> None:
        self.refresh_base_models()
        if not self.name_edit.text().strip() or self.name_edit.text().startswith("my-"):
            self.name_edit.setText(self._free_name(f"my-{self.task()}"))

    def _free_name(self, stem: str) -> str:
        name, i = stem, 2
        while output_path(name).exists():
            name, i = f"{stem}-{i}", i + 1
        return name

    def refresh_base_models(self) -> None:
        fill_model_combo(self.base_combo, self.task())

    def choose_base(self, path: str | Path) -> bool:
        self.refresh_base_models()
        idx = self.base_combo.findData(str(path))
        if idx >= 0:
            self.base_combo.setCurrentIndex(idx)
        return idx >= 0

    def _budget_changed(self, *_args) -> None:
        on_time = self.time_radio.isChecked()
        self.minutes_spin.setEnabled(on_time and not self.running)
        self.iters_spin.setEnabled(not on_time and not self.running)

    def _update_resume(self, *_args) -> None:
        name = self.name_edit.text().strip()
        has_ckpt = bool(name) and name_problem(name) is None and checkpoint_path(output_path(name)).is_file()
        if has_ckpt and self.resume_check.isHidden():
            self.resume_check.setChecked(True)
        self.resume_check.setHidden(not has_ckpt)

    def browse_data(self) -> None:
        path = ask_folder(self, "Folder with Your Photos", self.data_edit.text())
        if path:
            self.data_edit.setText(path)

    def browse_pairs(self) -> None:
        path = ask_folder(self, "Folder with the Degraded Versions", self.pairs_edit.text() or self.data_edit.text())
        if path:
            self.pairs_edit.setText(path)

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

    def _device(self) -> str:
        return self.settings.get(S.DEVICE) if self.settings is not None else "auto"

    def start(self) -> bool:
        if self.running:
            return False
        self.clear_error()
        data = self.data_edit.text().strip()
        pairs = self.pairs_edit.text().strip() or None
        name = self.name_edit.text().strip()
        task = self.task()
        if not data:
            self.show_error("Choose the folder with your photos.")
            return False
        if not Path(data).is_dir():
            self.show_error(f"{data}: folder not found")
            return False
        if pairs is not None and not Path(pairs).is_dir():
            self.show_error(f"{pairs}: pairs folder not found")
            return False
        problem = name_problem(name)
        if problem:
            self.show_error(problem)
            return False
        out = output_path(name)
        resume = not self.resume_check.isHidden() and self.resume_check.isChecked()
        if out.exists() and not resume and not dialogs.ask_yes_no(
                self, "Replace model?", f"You already have a model named “{name}”. Replace it with the new one?"):
            return False
        base = self.base_combo.currentData()
        use_time = self.time_radio.isChecked()
        iters = TIME_BUDGET_ITERS if use_time else int(self.iters_spin.value())
        minutes = float(self.minutes_spin.value()) if use_time else None
        self._save_settings()
        self._run_no += 1
        self._run = {"task": task, "name": name, "out": out, "base": base, "data": data, "iters": iters,
                     "minutes": minutes, "resume": resume, "t0": time.monotonic(), "ckpt": checkpoint_path(out)}
        self._run["ckpt_mtime"] = self._mtime(self._run["ckpt"])
        self.result = None
        self.log = []
        self.skipped = []
        self._loss_avg = None
        self.plot.clear()
        self.metrics_label.clear()
        run_no, emit = self._run_no, self.relay.entry.emit
        self.runner.start(run_finetune_job, task, data, name, pairs=pairs, base=base, iters=iters, minutes=minutes,
                          lr=self.lr, batch=self.batch, patch=self.patch, val_every=self.val_every,
                          checkpoint_every=self.val_every, patience=self.patience, resume=resume,
                          overwrite=True,  # the user was asked above
                          device=self._device(), on_log=lambda entry: emit(run_no, entry))
        self._set_running(True)
        self.status_label.setText("Checking the photos…")
        # The preview at the start: the base model on the degraded crop.
        self._sample = None
        self._preview_key = None
        self.preview_history = []
        self.before_image.set_image(None)
        self.after_image.set_image(None)
        self._start_preview(base, "Base model")
        return True

    def set_paused(self, paused: bool) -> None:
        state = self.runner.state
        if state is None:
            return
        if paused:
            state.pause()
            self.pause_button.setText("Resume")
            step = self.log[-1]["step"] if self.log else 0
            self.status_label.setText(f"Paused at step {step}. Resume goes on from here.")
        else:
            state.resume()
            self.pause_button.setText("Pause")
            self.status_label.setText("Resuming…")

    @property
    def paused(self) -> bool:
        state = self.runner.state
        return state is not None and state.paused

    def cancel(self) -> None:
        if self.running:
            self.runner.cancel()
            self.cancel_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self.status_label.setText("Cancelling after this step…")

    def _set_running(self, running: bool) -> None:
        for w in (self.data_edit, self.data_button, self.pairs_edit, self.pairs_button, self.task_combo,
                  self.base_combo, self.name_edit, self.resume_check, self.time_radio, self.iters_radio):
            w.setEnabled(not running)
        self._budget_changed()
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)
            self._update_resume()
        else:
            self.progress.setValue(0)
            self.progress.setFormat("%p%")
        if running:
            self._ckpt_timer.start()
        else:
            self._ckpt_timer.stop()
        self._update_manage_buttons()

    def _progress(self, p: Progress) -> None:
        self.progress.setValue(int(round(p.fraction * 1000)))
        if self.paused or not self.log:
            return
        e = self.log[-1]
        run = self._run or {}
        if run.get("minutes"):
            where = f"Step {e['step']} · {_short_time(run['minutes'] * 60)} budget"
        else:
            where = f"Step {e['step']} of {run.get('iters', '?')}"
        self.status_label.setText(f"{where} · {format_eta(p.eta_s)}")

    def _log_entry(self, run_no: int, entry: dict) -> None:
        if run_no != self._run_no or self._run is None:
            return
        if "skipped" in entry:
            self.skipped = list(entry["skipped"])
            return
        self.log.append(entry)
        step = entry["step"]
        if "loss" in entry:
            self.plot.add_point("loss", step, entry["loss"])
            # exponential moving average, bias-corrected so the first steps are their plain mean
            ema, n = self._loss_avg or (0.0, 0)
            ema, n = ema + LOSS_SMOOTHING * (entry["loss"] - ema), n + 1
            self._loss_avg = (ema, n)
            self.plot.add_point("loss_avg", step, ema / (1 - (1 - LOSS_SMOOTHING) ** n))
        if "val_psnr" in entry:
            self.plot.add_point("psnr", step, entry["val_psnr"])
        vals = [e["val_psnr"] for e in self.log if "val_psnr" in e]
        text = f"Step {step} · loss {entry.get('loss', float('nan')):.5f}"
        if vals:
            text += f" · validation {vals[-1]:.2f} dB (best {max(vals):.2f})"
        if self.skipped:
            text += f" · {len(self.skipped)} photo(s) skipped"
        self.metrics_label.setText(text)
        if self.paused:  # the step that was running when Pause was pressed has just ended
            self.status_label.setText(f"Paused at step {step}. Resume goes on from here.")
        self._maybe_preview_checkpoint(step)

    # ------------------------------------------------------------------ preview
    @staticmethod
    def _mtime(path: Path) -> int | None:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return None

    def _maybe_preview_checkpoint(self, _step: int | None = None) -> None:
        """Restore the preview crop with the latest checkpoint, once per new checkpoint file."""
        run = self._run
        if run is None or self.previewer.running or self._sample is None:
            return
        mtime = self._mtime(run["ckpt"])
        if mtime is None or mtime == run["ckpt_mtime"]:
            return
        run["ckpt_mtime"] = mtime
        self._start_preview(run["ckpt"], "Latest checkpoint")

    def _start_preview(self, model, label: str) -> None:
        run = self._run
        if run is None:
            return
        self._preview_key = label
        self.preview_label.setText(f"{label}: restoring the crop…")
        self.previewer.start(preview_job, self._sample, run["data"], run["task"], model, self._device())

    def _preview_ready(self, result) -> None:
        sample, before, after, p_before, p_after, step = result
        self._sample = sample
        if step is not None:
            self._preview_key = f"Checkpoint at step {step}"
        self.preview_history.append(self._preview_key)
        self.before_image.set_image(before)
        self.after_image.set_image(after)
        self.before_caption.setText(f"Degraded · {p_before:.1f} dB")
        self.after_caption.setText(f"Restored · {p_after:.1f} dB")
        deg_text = {"denoise": f"noise σ {PREVIEW_SIGMA:g}", "sr": f"×{PREVIEW_SCALE:g} down-scaled",
                    "jpeg": f"JPEG quality {PREVIEW_QUALITY}", "inpaint": "a random mask (red)"}
        task = self._run["task"] if self._run else self.task()
        self.preview_label.setText(f"{self._preview_key}\n\nA {sample.clean.shape[1]} px crop of "
                                   f"{sample.source.name if sample.source else 'your first photo'} with "
                                   f"{deg_text[task]}; PSNR against the clean crop.")
        if self.running and self.log:  # a checkpoint written while this preview ran
            self._maybe_preview_checkpoint(self.log[-1]["step"])

    def _preview_failed(self, exc: BaseException) -> None:
        if isinstance(exc, (ModelError, OSError)) and str(self._preview_key).startswith("Latest checkpoint"):
            return  # the checkpoint went away (the run ended): the final preview follows
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self.preview_label.setText(f"No preview: {gui_message(reason)}")

    # ------------------------------------------------------------------ endings
    def _finished(self, result) -> None:
        run = self._run
        self.result = result
        path = Path(result.path)
        self.progress.setValue(1000)
        stopped = {"iterations": "all steps done", "time": "time budget used",
                   "early stop": "stopped improving"}.get(result.stopped, result.stopped)
        self.status_label.setText(
            f"Saved “{registry.model_name(path)}”: validation {result.val_psnr_before:.2f} → {result.val_psnr:.2f} dB "
            f"after {result.steps} steps in {_short_time(result.wall_s)} ({stopped}).")
        if self.skipped:
            self.status_label.setText(self.status_label.text() + f" Skipped: {'; '.join(self.skipped[:3])}")
        self.models_changed.emit()
        self.model_created.emit(str(path), run["task"] if run else self.task())
        select_model_in_task_panel(self.task_panel, run["task"] if run else self.task(), path)
        self._select_in_list(path)
        self._start_preview(path, f"New model “{registry.model_name(path)}”")

    def _failed(self, exc: BaseException) -> None:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self.progress.setValue(0)
        self.progress.setFormat("")
        if isinstance(exc, (DataError, UsageError, ModelError)):
            self.status_label.setText("Nothing was trained.")
            self.show_error(reason)
        else:
            self.status_label.setText("Training stopped with an error.")
            self.show_error(f"Training failed: {reason}")
        self.previewer.cancel()

    def _cancelled(self) -> None:
        run = self._run
        kept = run is not None and run["ckpt"].is_file()
        step = self.log[-1]["step"] if self.log else 0
        self.status_label.setText(f"Cancelled at step {step}." + (
            " A checkpoint was kept: “Continue the interrupted run” goes on from it." if kept else ""))
        self.progress.setFormat("Cancelled")

    def _done(self) -> None:
        self._set_running(False)

    # ================================================================== your models
    def refresh_user_models(self) -> None:
        current = self.selected_model()
        self.models_list.clear()
        for m in user_models():
            item = QListWidgetItem(f"{m.name}   ·  {TASK_TITLES.get(m.task, m.task)}")
            item.setData(Qt.ItemDataRole.UserRole, str(m.path))
            item.setToolTip(f"{m.summary}\n{m.path}  ({m.size_bytes / 1e6:.1f} MB)")
            self.models_list.addItem(item)
        if not self.models_list.count():
            item = QListWidgetItem("No models of your own yet")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.models_list.addItem(item)
        if current is not None:
            self._select_in_list(current)
        self._update_manage_buttons()

    def _select_in_list(self, path: str | Path) -> None:
        for i in range(self.models_list.count()):
            if self.models_list.item(i).data(Qt.ItemDataRole.UserRole) == str(path):
                self.models_list.setCurrentRow(i)
                return

    def selected_model(self) -> Path | None:
        item = self.models_list.currentItem()
        data = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return Path(data) if data else None

    def _busy_with(self, path: Path) -> bool:
        return self.running and self._run is not None and Path(self._run["out"]) == Path(path)

    def _update_manage_buttons(self) -> None:
        path = self.selected_model()
        ok = path is not None and not self._busy_with(path)
        for b in (self.rename_button, self.export_button, self.delete_button):
            b.setEnabled(ok)

    def _manage_error(self, message: str) -> None:
        dialogs.show_error(self, "Your models", message)

    def rename_selected(self, new_name: str | None = None) -> bool:
        path = self.selected_model()
        if path is None or not model_store.is_user_model(path) or self._busy_with(path):
            return False
        old = registry.model_name(path)
        if not new_name:
            new_name = ask_text(self, "Rename Model", "New name:", old).strip()
        if not new_name or new_name == old:
            return False
        problem = name_problem(new_name)
        if problem:
            self._manage_error(problem)
            return False
        if output_path(new_name).exists():
            self._manage_error(f"You already have a model named “{new_name}”.")
            return False
        try:
            target = model_store.rename_user_model(path, new_name)
        except ModelError as exc:
            self._manage_error(f"Could not rename “{old}”: {exc}")
            return False
        self._after_model_change(target, path)
        self._select_in_list(target)
        self.status_label.setText(f"Renamed “{old}” to “{new_name}”.")
        return True

    def export_selected(self) -> Path | None:
        path = self.selected_model()
        if path is None or not path.is_file():
            return None
        folder = ask_folder(self, f"Export “{registry.model_name(path)}” to", str(Path.home()))
        if not folder:
            return None
        folder = Path(folder)
        files = [p for p in (path, card_path(path)) if p.is_file()]
        clashes = [folder / p.name for p in files if (folder / p.name).exists()]
        if clashes and not dialogs.ask_yes_no(self, "Replace files?",
                                              f"{', '.join(c.name for c in clashes)} already in {folder}. Replace?"):
            return None
        try:
            model_store.export_model(path, folder, overwrite=True)  # the clash was asked about above
        except ModelError as exc:
            self._manage_error(f"Could not export: {exc}")
            return None
        self.status_label.setText(f"Exported {' and '.join(p.name for p in files)} to {folder}.")
        return folder / path.name

    def delete_selected(self) -> bool:
        path = self.selected_model()
        if path is None or self._busy_with(path):
            return False
        if not model_store.is_user_model(path):
            self._manage_error("Only your own models can be deleted, not the shipped ones.")
            return False
        name = registry.model_name(path)
        if not dialogs.ask_yes_no(self, "Delete model?",
                                  f"Delete your model “{name}”? Its file and card are removed; this cannot be undone."):
            return False
        try:
            model_store.delete_user_model(path)
        except ModelError as exc:
            self._manage_error(f"Could not delete “{name}”: {exc}")
            return False
        self._after_model_change(None, path)
        self.status_label.setText(f"Deleted “{name}”.")
        return True

    def _after_model_change(self, new_path: Path | None, old_path: Path) -> None:
        """Refresh every picker; a renamed model stays chosen in the task panel."""
        panel = self.task_panel
        was_chosen = panel is not None and panel.model() == str(old_path)
        self.models_changed.emit()
        self.refresh_base_models()
        if panel is not None and panel.model_combo.isEnabled():
            panel.refresh_models()
            if was_chosen and new_path is not None:
                idx = panel.model_combo.findData(str(new_path))
                if idx >= 0:
                    panel.model_combo.setCurrentIndex(idx)
        self._update_resume()

    # ================================================================== lifetime
    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel (the core writes a checkpoint) and wait; the main window calls this when it closes."""
        self.runner.shutdown(timeout_ms)
        self.previewer.shutdown(timeout_ms)

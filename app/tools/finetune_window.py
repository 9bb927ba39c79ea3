"""Tools > Fine-tune a Model: teach a model the user's own photos with `rednet.train.finetune.finetune`.

A non-modal window: the main window stays usable while it trains. The job runs on the worker
`Runner` (`finetune`, whose DataError for unusable photos comes before anything trains and is
shown inline); each `on_log` entry comes back over a queued signal and feeds a live plot of the
training loss and the validation PSNR (repaints throttled by the plot). Pause / Resume use the
TaskState; Cancel stops within one step (the core writes a checkpoint first, which "Continue the
interrupted run" resumes from).

Preview (rednet.train.preview): a fixed crop of the first photo, degraded by the task at a fixed seed,
restored on a second worker:
  * at the start with the base model;
  * during training with the latest checkpoint (`finetune` saves one at every validation step here:
    `checkpoint_every = val_every`; `registry.load_model` reads its averaged weights);
  * at the end with the new model file.

On success `model_created(path, task)` is emitted (the main window selects the new model in its task
panel, and the finish message says so); "Your models" (app.tools.model_manager) renames, exports and
deletes the user's models and the window passes on `model_replaced`. The window never calls the task
panel itself. Folder pickers and questions are app.dialogs.prompts functions, so tests can monkeypatch them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs import prompts
from app.resources import icon
from app.services import settings as S
from app.services.messages import error_text, sentence
from app.services.runner import Runner
from app.tools.finetune_preview import FinetunePreview
from app.tools.model_manager import ModelManager, name_problem
from app.tools.training_plot import TrainingPlot, metrics_text
from app.widgets.forms import align_form_labels, browse_row, inline_error_label, section
from app.widgets.model_picker import ModelComboBox, fill_model_combo
from rednet.errors import DataError, ModelError, UsageError
from rednet.models import registry
from rednet.progress import Progress, format_eta
from rednet.tasks import TASK_NAMES, TASKS, get_task
from rednet.train.finetune import finetune, output_path
from rednet.train.loop import checkpoint_path

TIME_BUDGET_ITERS = 1_000_000  # with a time budget the run ends on time (or early stopping)

FT_DATA = S.Key("finetune/data", "", str)
FT_TASK = S.Key("finetune/task", TASK_NAMES[0], str, choices=TASK_NAMES)
FT_MINUTES = S.Key("finetune/minutes", 10, int, 1, 10_000)
FT_ITERS = S.Key("finetune/iters", 300, int, 1, 1_000_000)
FT_USE_TIME = S.Key("finetune/use_time", True, bool)


# ------------------------------------------------------------------------------------ worker side
def run_finetune_job(task: str, data: str, out: str, *, state, on_log, pairs=None, **options):
    """Worker-thread job. Unusable data is a DataError before anything trains; the photos left out
    reach `on_log` as {"skipped": [...]} before step 0."""
    state.report(0.0, "checking the photos")
    return finetune(task, data, out, pairs=pairs, state=state, on_log=on_log, **options)


@dataclass
class TrainingRun:
    """The fine-tune in progress, as started."""

    task: str
    name: str
    out: Path  # the model file it writes
    base: str | None
    data: str
    iters: int
    minutes: float | None  # a time budget, or None for `iters` steps
    resume: bool
    ckpt: Path  # its checkpoint file
    ckpt_mtime: int | None = None  # of the checkpoint last previewed
    t0: float = 0.0


class _LogRelay(QObject):
    """Emitted on the worker thread (train's on_log); delivered queued on the GUI thread."""

    entry = Signal(int, object)  # run number, the log dict


def _form_problem(data: str, pairs: str | None, name: str) -> str | None:
    """What is wrong with the form's folders and model name, as a sentence (None: nothing)."""
    if not data:
        return "Choose the folder with your photos."
    if not Path(data).is_dir():
        return f"{data}: folder not found"
    if pairs is not None and not Path(pairs).is_dir():
        return f"{pairs}: pairs folder not found"
    return name_problem(name)


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def time_left(p: Progress, minutes: float | None) -> float | None:
    """Seconds left of the run, for its ETA.

    With a time budget the training loop's fraction is the share of the budget used (paused time and the
    setup left out, a resumed run's earlier time counted), so the time left is known: TaskState's
    extrapolation counts the setup as training time and can promise minutes past the budget."""
    if minutes:
        return (1.0 - p.fraction) * minutes * 60
    return p.eta_s


def _short_time(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


STOP_REASONS = {"iterations": "all steps done", "time": "time budget used", "early stop": "stopped improving"}


def finish_message(result, task: str, skipped: list[str]) -> str:
    """The status after a finished run: what was saved, and that the main window now uses it (it selects
    the new model on `model_created`, which would otherwise go unnoticed) with the way back."""
    name = registry.model_name(Path(result.path))
    stopped = STOP_REASONS.get(result.stopped, result.stopped)
    lines = [
        f"Saved “{name}”: validation {result.val_psnr_before:.2f} → {result.val_psnr:.2f} dB "
        f"after {result.steps} step{'' if result.steps == 1 else 's'} in {_short_time(result.wall_s)} ({stopped}).",
        f"It is now the selected {get_task(task).title} model in the main window; to switch back, "
        "choose another model in the Restore panel's Model list.",
    ]
    if skipped:
        lines.append(f"Skipped: {'; '.join(skipped[:3])}")
    return "\n".join(lines)


class FinetuneDialog(QDialog):
    """Tools > Fine-tune a Model…"""

    model_created = Signal(str, str)  # path, task
    model_replaced = Signal(str, str)  # a user model renamed (old path, new path) or deleted (old path, "")

    def __init__(self, parent: QWidget | None = None, settings: S.Settings | None = None):
        super().__init__(parent)
        self.setObjectName("finetuneDialog")
        self.setWindowTitle("Fine-tune a Model")
        self.setModal(False)
        self.settings = settings
        self.runner = Runner(self)
        self.relay = _LogRelay(self)
        self.relay.entry.connect(self._log_entry, Qt.ConnectionType.QueuedConnection)
        # Training knobs not on the form (finetune's defaults; tests make them tiny).
        self.batch, self.patch, self.val_every, self.lr, self.patience = 16, 48, 25, 1e-4, 4
        self.result = None
        self.log: list[dict] = []
        self.skipped: list[str] = []
        self._run_no = 0
        self._run: TrainingRun | None = None

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
        self._load_settings()
        self._set_running(False)
        align_form_labels(self)
        for b in self.findChildren(QPushButton):  # Enter in a field must not start a run
            b.setAutoDefault(False)
        self.resize(1040, 680)

    # ================================================================== construction
    def _settings_column(self) -> QVBoxLayout:
        col = QVBoxLayout()
        col.setSpacing(6)
        col.addWidget(section("Your photos"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.data_edit = QLineEdit(self)
        self.data_edit.setPlaceholderText("Clean photos like the ones to restore")
        self.data_button = QToolButton(self)
        self.data_button.setText("Browse…")
        form.addRow("Photos", browse_row(self.data_edit, self.data_button))
        self.pairs_edit = QLineEdit(self)
        self.pairs_edit.setPlaceholderText("Optional: their degraded versions, same names")
        self.pairs_button = QToolButton(self)
        self.pairs_button.setText("Browse…")
        form.addRow("Pairs", browse_row(self.pairs_edit, self.pairs_button))
        col.addLayout(form)

        col.addWidget(section("Model"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.task_combo = QComboBox(self)
        for t in TASKS.values():
            self.task_combo.addItem(icon(f"task-{t.name}"), t.title, t.name)
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

        col.addWidget(section("Training time"))
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
        self.error_label = inline_error_label(self)
        col.addWidget(self.error_label)

        col.addWidget(section("Your models"))
        self.models = ModelManager(self, busy_with=self._busy_with)
        self.models.model_replaced.connect(self._model_replaced)
        self.models.message.connect(self.status_label.setText)
        col.addWidget(self.models, 1)

        self.data_button.clicked.connect(self.browse_data)
        self.pairs_button.clicked.connect(self.browse_pairs)
        self.task_combo.currentIndexChanged.connect(self._task_changed)
        self.base_combo.about_to_show.connect(self.refresh_base_models)
        self.name_edit.textChanged.connect(self._update_resume)
        self.time_radio.toggled.connect(self._budget_changed)
        self.start_button.clicked.connect(self.start)
        self.pause_button.toggled.connect(self.set_paused)
        self.cancel_button.clicked.connect(self.cancel)
        return col

    def _training_column(self) -> QVBoxLayout:
        col = QVBoxLayout()
        col.setSpacing(6)
        col.addWidget(section("Training"))
        self.plot = TrainingPlot(self)
        col.addWidget(self.plot, 1)
        self.metrics_label = QLabel("", self)
        self.metrics_label.setObjectName("value")
        self.metrics_label.setWordWrap(True)
        col.addWidget(self.metrics_label)

        col.addWidget(section("Preview"))
        self.preview = FinetunePreview(self, device=self._device)
        self.preview.shown.connect(self._preview_shown)
        col.addWidget(self.preview)
        return col

    # ================================================================== settings / fields
    def _load_settings(self) -> None:
        s = self.settings
        get = s.get if s is not None else (lambda key: key.default)
        self.data_edit.setText(get(FT_DATA))
        self.task_combo.setCurrentIndex(TASK_NAMES.index(get(FT_TASK)))
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
        self.task_combo.setCurrentIndex(TASK_NAMES.index(task))

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
        path = prompts.ask_folder(self, "Folder with Your Photos", self.data_edit.text())
        if path:
            self.data_edit.setText(path)

    def browse_pairs(self) -> None:
        path = prompts.ask_folder(
            self, "Folder with the Degraded Versions", self.pairs_edit.text() or self.data_edit.text()
        )
        if path:
            self.pairs_edit.setText(path)

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
        problem = _form_problem(data, pairs, name)
        if problem:
            self.show_error(problem)
            return False
        out = output_path(name)
        resume = not self.resume_check.isHidden() and self.resume_check.isChecked()
        if (
            out.exists()
            and not resume
            and not prompts.ask_yes_no(
                self, "Replace model?", f"You already have a model named “{name}”. Replace it with the new one?"
            )
        ):
            return False
        base = self.base_combo.currentData()
        use_time = self.time_radio.isChecked()
        iters = TIME_BUDGET_ITERS if use_time else int(self.iters_spin.value())
        minutes = float(self.minutes_spin.value()) if use_time else None
        self._save_settings()
        self._run_no += 1
        ckpt = checkpoint_path(out)
        self._run = TrainingRun(
            task, name, out, base, data, iters, minutes, resume, ckpt, _mtime(ckpt), time.monotonic()
        )
        self.result = None
        self.log = []
        self.skipped = []
        self.plot.clear()
        self.metrics_label.clear()
        run_no, emit = self._run_no, self.relay.entry.emit
        # overwrite: the user was asked above; the training knobs not on the form are attributes (tests shrink them)
        options = dict(pairs=pairs, base=base, iters=iters, minutes=minutes, resume=resume, overwrite=True)
        options.update(lr=self.lr, batch=self.batch, patch=self.patch, patience=self.patience)
        options.update(val_every=self.val_every, checkpoint_every=self.val_every, device=self._device())
        self.runner.start(run_finetune_job, task, data, name, on_log=lambda entry: emit(run_no, entry), **options)
        self._set_running(True)
        self.status_label.setText("Checking the photos…")
        # The preview at the start: the base model on the degraded crop.
        self.preview.reset()
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
        for w in (
            self.data_edit,
            self.data_button,
            self.pairs_edit,
            self.pairs_button,
            self.task_combo,
            self.base_combo,
            self.name_edit,
            self.resume_check,
            self.time_radio,
            self.iters_radio,
        ):
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
        self._ckpt_timer.start() if running else self._ckpt_timer.stop()
        self.models.update_buttons()

    def _progress(self, p: Progress) -> None:
        self.progress.setValue(int(round(p.fraction * 1000)))
        if self.paused or not self.log:
            return
        e = self.log[-1]
        run = self._run
        if run is not None and run.minutes:
            where = f"Step {e['step']} · {_short_time(run.minutes * 60)} budget"
        else:
            where = f"Step {e['step']} of {run.iters if run is not None else '?'}"
        self.status_label.setText(f"{where} · {format_eta(time_left(p, run.minutes if run else None), words=True)}")

    def _log_entry(self, run_no: int, entry: dict) -> None:
        if run_no != self._run_no or self._run is None:
            return
        if "skipped" in entry:
            self.skipped = list(entry["skipped"])
            return
        self.log.append(entry)
        step = entry["step"]
        self.plot.add_entry(entry)
        self.metrics_label.setText(metrics_text(self.log, self.skipped))
        if self.paused:  # the step that was running when Pause was pressed has just ended
            self.status_label.setText(f"Paused at step {step}. Resume goes on from here.")
        self._maybe_preview_checkpoint(step)

    # ------------------------------------------------------------------ preview
    def _maybe_preview_checkpoint(self, _step: int | None = None) -> None:
        """Restore the preview crop with the latest checkpoint, once per new checkpoint file."""
        run = self._run
        if run is None or self.preview.busy or self.preview.sample is None:
            return
        mtime = _mtime(run.ckpt)
        if mtime is None or mtime == run.ckpt_mtime:
            return
        run.ckpt_mtime = mtime
        self.preview.start_checkpoint(run.ckpt, run.data, run.task)

    def _start_preview(self, model, label: str) -> None:
        run = self._run
        if run is not None:
            self.preview.start(model, label, run.data, run.task)

    def _preview_shown(self) -> None:
        if self.running and self.log:  # a checkpoint written while this preview ran
            self._maybe_preview_checkpoint(self.log[-1]["step"])

    # ------------------------------------------------------------------ endings
    def _finished(self, result) -> None:
        run = self._run
        self.result = result
        path = Path(result.path)
        self.progress.setValue(1000)
        task = run.task if run else self.task()
        self.status_label.setText(finish_message(result, task, self.skipped))
        self.models.refresh()
        self.models.select(path)
        self.model_created.emit(str(path), task)
        self._start_preview(path, f"New model “{registry.model_name(path)}”")

    def _failed(self, exc: BaseException) -> None:
        run = self._run
        self.progress.setValue(0)
        self.progress.setFormat("")
        if isinstance(exc, (DataError, UsageError, ModelError)):
            self.status_label.setText("Nothing was trained.")
            self.show_error(
                error_text(exc, run.task if run else None, model_chosen=run is None or run.base is not None)
            )
        else:
            self.status_label.setText("Training stopped with an error.")
            self.show_error(f"Training failed: {error_text(exc)}")
        self.preview.cancel()

    def _cancelled(self) -> None:
        run = self._run
        kept = run is not None and run.ckpt.is_file()
        step = self.log[-1]["step"] if self.log else 0
        self.status_label.setText(
            f"Cancelled at step {step}."
            + (" A checkpoint was kept: “Continue the interrupted run” goes on from it." if kept else "")
        )
        self.progress.setFormat("Cancelled")

    def _done(self) -> None:
        self._set_running(False)

    # ================================================================== your models
    def _busy_with(self, path: Path) -> bool:
        """Whether the running fine-tune writes the model file `path`."""
        return self.running and self._run is not None and Path(self._run.out) == Path(path)

    def _model_replaced(self, old_path: str, new_path: str) -> None:
        """A user model was renamed or deleted: refresh the pickers here, and tell the window."""
        self.refresh_base_models()
        self._update_resume()
        self.model_replaced.emit(old_path, new_path)

    # ================================================================== lifetime
    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel (the core writes a checkpoint) and wait; the main window calls this when it closes."""
        self.runner.shutdown(timeout_ms)
        self.preview.shutdown(timeout_ms)

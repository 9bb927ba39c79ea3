"""The side panel: pick a task, set its options, pick a model, press Restore, watch progress.

Everything about a task comes from its `Task` (rednet.tasks): the buttons' texts, the hint, one page
of option fields per task (app.widgets.forms), the mask controls on the page of a task that takes a
mask, and the result size on the page of a task that changes the size.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.resources import icon
from app.widgets.forms import OptionField, section
from app.widgets.model_picker import ModelComboBox, fill_model_combo
from rednet.progress import Progress, format_eta
from rednet.tasks import TASK_NAMES, TASKS, Task, get_task

NOISE_OPTION = "sigma"  # the option the window's noise-level estimate is for
FILE_QUALITY_OPTION = "quality"  # the option a JPEG file's own quality stands in for


def changes_size(task: Task) -> bool:
    """Whether `task`'s result has another size than its input (for its typical setting)."""
    return tuple(task.output_size((100, 100), dict(task.example))) != (100, 100)


def _value_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("value")
    label.setWordWrap(True)
    return label


class TaskPage(QWidget):
    """One task's options: a field per numeric option, and what the panel can say about them."""

    changed = Signal()

    def __init__(self, task: Task, mask_panel: QWidget | None = None, parent: QWidget | None = None):
        """`mask_panel`: the mask controls, for the page of a task that takes a mask."""
        super().__init__(parent)
        self.task = task
        self.fields: dict[str, OptionField] = {}
        self.estimate_label: QLabel | None = None  # the measured noise level
        self.file_quality_label: QLabel | None = None  # the JPEG quality the file was saved at
        self.output_size_label: QLabel | None = None
        self.mask_panel = mask_panel
        self._photo = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(form)
        for option in task.numeric_options:
            f = OptionField(option, self)
            f.add_rows(form)
            f.changed.connect(self.changed)
            f.changed.connect(self._update_output_size)
            self.fields[option.name] = f
            if option.name == NOISE_OPTION:
                self.estimate_label = _value_label("Estimated noise level: –", self)
                form.addRow(self.estimate_label)
            if option.name == FILE_QUALITY_OPTION:
                self.file_quality_label = _value_label("", self)
                form.addRow(self.file_quality_label)
        if changes_size(task):
            self.output_size_label = _value_label("Result: –", self)
            form.addRow(self.output_size_label)
        if mask_panel is not None:
            outer.addWidget(mask_panel)

    def field(self, name: str) -> OptionField:
        return self.fields[name]

    def options(self) -> dict:
        return {name: f.value() for name, f in self.fields.items()}

    def set_photo(self, photo) -> None:
        self._photo = photo
        if self.estimate_label is not None:
            self.estimate_label.setText(
                "Estimated noise level: –" if photo is None else "Estimated noise level: measuring…"
            )
        quality = self.fields.get(FILE_QUALITY_OPTION)
        if quality is not None and quality.auto is not None:
            q = getattr(photo, "jpeg_quality", None) if photo is not None else None
            if q is not None:
                quality.auto.setText(f"From the file (q {q})")
                self.file_quality_label.setText(f"The file was saved at JPEG quality {q}.")
                quality.set_value(q)
            else:
                quality.auto.setText("Automatic")
                self.file_quality_label.setText(
                    "No JPEG quality in the file: on automatic the model judges the compression itself."
                    if photo is not None
                    else ""
                )
        self._update_output_size()

    def set_estimate(self, sigma: float | None) -> None:
        if self.estimate_label is None:
            return
        if sigma is None:
            self.estimate_label.setText("Estimated noise level: –")
            return
        self.estimate_label.setText(f"Estimated noise level: σ {sigma:.1f}")
        f = self.fields[NOISE_OPTION]
        if f.automatic:
            f.set_value(sigma)

    def _update_output_size(self) -> None:
        if self.output_size_label is None:
            return
        p = self._photo
        if p is None:
            self.output_size_label.setText("Result: –")
            return
        w, h = self.task.output_size((p.width, p.height), self.options())
        self.output_size_label.setText(f"Result: {w} × {h} px  (from {p.width} × {p.height})")


class Suggestion(QFrame):
    """A one-line offer of the task the opened photo plainly needs, with a button to take it."""

    accepted = Signal(str)  # the task's name

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("suggestion")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.button = QPushButton(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addWidget(self.label)
        lay.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        self._task: str | None = None
        self.button.clicked.connect(lambda: self._task and self.accepted.emit(self._task))
        self.hide()

    def offer(self, task: Task | None, reason: str) -> None:
        self._task = task.name if task is not None else None
        if task is not None:
            self.label.setText(reason)
            self.button.setText(f"Use {task.title}")
        self.setVisible(task is not None)

    def task_chosen(self, name: str) -> None:
        if name == self._task:  # taken (by the button or otherwise): nothing left to offer
            self.offer(None, "")


class TaskPanel(QWidget):
    task_changed = Signal(str)
    restore_requested = Signal()
    cancel_requested = Signal()
    options_changed = Signal()

    def __init__(self, mask_panel: QWidget | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("taskPanel")
        self._photo = None
        self._estimate: float | None = None
        self._models: list = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.setSpacing(6)

        # --- task buttons -------------------------------------------------------------------
        lay.addWidget(section("Task"))
        grid = QGridLayout()
        grid.setSpacing(6)
        self.task_group = QButtonGroup(self)
        self.task_group.setExclusive(True)
        self.task_buttons: dict[str, QToolButton] = {}
        for i, task in enumerate(TASKS.values()):
            b = QToolButton(self)
            b.setObjectName("taskButton")
            b.setCheckable(True)
            b.setText(task.button_text)
            b.setToolTip(task.title)
            b.setIcon(icon(f"task-{task.name}"))
            b.setIconSize(QSize(22, 22))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            b.setMinimumHeight(54)
            self.task_group.addButton(b, i)
            self.task_buttons[task.name] = b
            grid.addWidget(b, 0, i)
        lay.addLayout(grid)
        self.hint = QLabel(self)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        lay.addWidget(self.hint)
        self.suggestion = Suggestion(self)
        self.suggestion.accepted.connect(self.set_task)
        lay.addWidget(self.suggestion)

        # --- per-task options ---------------------------------------------------------------
        lay.addWidget(section("Options"))
        self.pages = QStackedWidget(self)
        self._pages: dict[str, TaskPage] = {}
        placed = False  # the mask controls go on the page of the (first) task that takes a mask
        for task in TASKS.values():
            here = mask_panel if task.mask_option is not None and not placed else None
            placed = placed or here is not None
            page = TaskPage(task, here, self.pages)
            page.changed.connect(self.options_changed)
            self.pages.addWidget(page)
            self._pages[task.name] = page
        self.mask_panel = mask_panel
        lay.addWidget(self.pages)

        # --- model ------------------------------------------------------------------------------
        lay.addWidget(section("Model"))
        self.model_combo = ModelComboBox(self)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        lay.addWidget(self.model_combo)
        self.model_info = QLabel(self)
        self.model_info.setObjectName("hint")
        self.model_info.setWordWrap(True)
        lay.addWidget(self.model_info)
        self.model_combo.currentIndexChanged.connect(self._model_selected)
        self.model_combo.about_to_show.connect(self.refresh_models)
        # it applies to every task, so it sits under the model rather than on a task page
        self.ensemble_check = QCheckBox("Best quality (8x slower)", self)
        self.ensemble_check.setToolTip(
            "Run the model on the 8 flips and rotations of the photo and average "
            "them: slightly cleaner results, at eight times the time"
        )
        lay.addWidget(self.ensemble_check)

        lay.addStretch(1)

        # --- run --------------------------------------------------------------------------------
        self.steps_label = QLabel("Original photo", self)
        self.steps_label.setObjectName("steps")
        self.steps_label.setWordWrap(True)
        lay.addWidget(self.steps_label)
        row = QHBoxLayout()
        self.restore_button = QPushButton(icon("restore"), "Restore", self)
        self.restore_button.setObjectName("restoreButton")
        self.restore_button.setMinimumHeight(34)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel", self)
        self.cancel_button.setMinimumHeight(34)
        self.cancel_button.setEnabled(False)
        row.addWidget(self.restore_button, 2)
        row.addWidget(self.cancel_button, 1)
        lay.addLayout(row)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        lay.addWidget(self.progress)
        self.progress_label = QLabel("Ready", self)
        self.progress_label.setObjectName("hint")
        lay.addWidget(self.progress_label)
        self.restore_button.setToolTip("Restore the photo with the chosen task (Ctrl+R)")
        self.cancel_button.setToolTip("Stop now (within a fraction of a second); the photo stays as it was (Esc)")
        self.restore_button.clicked.connect(self.restore_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)

        self.task_group.idToggled.connect(self._task_toggled)
        self.task_buttons[TASK_NAMES[0]].setChecked(True)
        self.set_photo(None)

    # ------------------------------------------------------------------ state
    def task(self) -> str:
        return TASK_NAMES[max(self.task_group.checkedId(), 0)]

    def set_task(self, task: str) -> None:
        self.task_buttons[task].setChecked(True)

    def page(self, task: str | None = None) -> TaskPage:
        """The options page of `task` (the chosen one by default)."""
        return self._pages[task or self.task()]

    def field(self, name: str, task: str | None = None) -> OptionField:
        """The field of option `name` on the page of `task` (the chosen one by default)."""
        return self.page(task).field(name)

    def _task_toggled(self, button_id: int, checked: bool) -> None:
        if not checked:
            return
        task = get_task(TASK_NAMES[button_id])
        self.pages.setCurrentIndex(button_id)
        # Size the options area to the current page, not to the tallest one.
        for i in range(self.pages.count()):
            policy = QSizePolicy.Policy.Preferred if i == button_id else QSizePolicy.Policy.Ignored
            self.pages.widget(i).setSizePolicy(QSizePolicy.Policy.Preferred, policy)
        self.pages.adjustSize()
        self.hint.setText(task.hint)
        self.suggestion.task_chosen(task.name)
        self.refresh_models()
        self.task_changed.emit(task.name)
        self.options_changed.emit()

    def options(self) -> dict:
        """The keyword options for `rednet.engine.restore.restore` of the chosen task (None: automatic)."""
        return self.page().options()

    def ensemble(self) -> bool:
        """Whether to restore with the 8-pass self-ensemble (`restore(ensemble=...)`)."""
        return self.ensemble_check.isChecked()

    def set_photo(self, photo) -> None:
        self._photo = photo
        self._estimate = None
        for page in self._pages.values():
            page.set_photo(photo)
        self.restore_button.setEnabled(photo is not None and not self.cancel_button.isEnabled())

    def set_sigma_estimate(self, sigma: float | None) -> None:
        """The window's measurement of the open photo's noise level (None: it could not be measured)."""
        self._estimate = sigma
        for page in self._pages.values():
            page.set_estimate(sigma)

    @property
    def sigma_estimate(self) -> float | None:
        return self._estimate

    def estimates(self) -> dict[str, float]:
        """Values the panel measured for options left automatic ({"sigma": 12.3})."""
        return {} if self._estimate is None else {NOISE_OPTION: self._estimate}

    def set_steps(self, steps: list[str]) -> None:
        self.steps_label.setText("Original photo" if not steps else "Applied: " + " → ".join(steps))

    # ------------------------------------------------------------------ models
    def refresh_models(self) -> None:
        self._models = fill_model_combo(
            self.model_combo, self.task(), on_error=lambda exc: self.model_info.setText(f"Could not list models: {exc}")
        )
        self._model_selected(self.model_combo.currentIndex())

    def _model_selected(self, index: int) -> None:
        models = self._models
        if 0 <= index < len(models):
            m = models[index]
            self.model_info.setText(f"{m.summary} · {m.size_bytes / 1e6:.1f} MB")
        elif not models:
            self.model_info.setText("Add weights to rednet_resources/weights or your models folder.")

    def model(self) -> str | None:
        """The chosen model file (for `restore(model=...)`), or None for the shipped default."""
        return self.model_combo.currentData()

    def select_model(self, task: str, path) -> bool:
        """Show model file `path` in the picker, switching to `task`. Not while a restore runs (the
        picker is disabled then)."""
        if not self.model_combo.isEnabled():
            return False
        if self.task() != task:
            self.set_task(task)  # refreshes the picker
        self.refresh_models()
        idx = self.model_combo.findData(str(path))
        if idx < 0:
            return False
        self.model_combo.setCurrentIndex(idx)
        return True

    def model_replaced(self, old_path: str, new_path: str = "") -> None:
        """A model file was renamed (`new_path`) or deleted (no `new_path`): list the models again,
        keeping a renamed model chosen."""
        was_chosen = self.model() == str(old_path)
        if not self.model_combo.isEnabled():
            return
        self.refresh_models()
        if was_chosen and new_path:
            idx = self.model_combo.findData(str(new_path))
            if idx >= 0:
                self.model_combo.setCurrentIndex(idx)

    # ------------------------------------------------------------------ running
    def set_running(self, running: bool) -> None:
        for w in (*self.task_buttons.values(), self.pages, self.model_combo, self.ensemble_check):
            w.setEnabled(not running)
        self.restore_button.setEnabled(not running and self._photo is not None)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setValue(0)
            self.progress.setFormat("%p%")
            self.progress_label.setText("Starting…")

    def show_progress(self, p: Progress) -> None:
        self.progress.setValue(int(round(p.fraction * 1000)))
        msg = p.message[:1].upper() + p.message[1:] if p.message else "Working"
        self.progress_label.setText(f"{msg} · {format_eta(p.eta_s, words=True)}")

    def reset_progress(self) -> None:
        """A new photo: nothing of the last run's progress or time stays on show."""
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress_label.setText("Ready")

    def suggest(self, task: Task | None, reason: str = "") -> None:
        """Offer `task` for the opened photo, saying why (None: offer nothing)."""
        self.suggestion.offer(task if task is not None and task.name != self.task() else None, reason)

    def finish_progress(self, message: str, success: bool) -> None:
        self.progress.setValue(1000 if success else 0)
        self.progress_label.setText(message)
        self.progress.setFormat("%p%" if success else "")

"""The side panel: pick a task, set its options, pick a model, press Restore, watch progress."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rednet.models import registry
from rednet.engine import restore as core_restore
from rednet.progress import Progress

from app.resources import icon

TASKS = ("denoise", "sr", "jpeg", "inpaint")
TASK_TITLES = {"denoise": "Denoise", "sr": "Upscale", "jpeg": "JPEG clean-up", "inpaint": "Inpaint"}
TASK_BUTTON_TEXT = {"denoise": "Denoise", "sr": "Upscale", "jpeg": "JPEG", "inpaint": "Inpaint"}
TASK_HINTS = {
    "denoise": "Removes sensor and film noise. Leave the level on automatic, or set how strong the "
               "noise is (higher = smoother).",
    "sr": "Enlarges the photo and restores the detail that plain resizing blurs.",
    "jpeg": "Removes JPEG blocks and ringing. The quality the file was saved at tells the model how "
            "much to clean.",
    "inpaint": "Paint over text, scratches or blemishes with the mask brush, then press Restore to "
               "fill them in.",
}
SIGMA_MAX = 75
SCALE_RANGE = (1.25, 4.0)
QUALITY_RANGE = (5, 90)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s left"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s left"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min left"


def step_label(task: str, options: dict) -> str:
    """A short history entry for a finished restore: 'Denoise σ 25', 'Upscale ×2', ..."""
    if task == "denoise":
        s = options.get("sigma")
        return "Denoise (auto)" if s is None else f"Denoise σ {s:g}"
    if task == "sr":
        return f"Upscale ×{options.get('scale', 2.0):g}"
    if task == "jpeg":
        q = options.get("quality")
        return "JPEG clean-up (auto)" if q is None else f"JPEG clean-up q {q}"
    return "Inpaint"


class ModelComboBox(QComboBox):
    """A combo box that asks for a fresh list each time it opens (models may be added any time)."""

    about_to_show = Signal()

    def showPopup(self) -> None:  # noqa: N802 (Qt name)
        self.about_to_show.emit()
        super().showPopup()


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionHeader")
    return label


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
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.setSpacing(6)

        # --- task buttons -------------------------------------------------------------------
        lay.addWidget(_section("Task"))
        grid = QGridLayout()
        grid.setSpacing(6)
        self.task_group = QButtonGroup(self)
        self.task_group.setExclusive(True)
        self.task_buttons: dict[str, QToolButton] = {}
        for i, task in enumerate(TASKS):
            b = QToolButton(self)
            b.setObjectName("taskButton")
            b.setCheckable(True)
            b.setText(TASK_BUTTON_TEXT[task])
            b.setToolTip(TASK_TITLES[task])
            b.setIcon(icon(f"task-{task}"))
            b.setIconSize(QSize(22, 22))
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            b.setMinimumHeight(54)
            self.task_group.addButton(b, i)
            self.task_buttons[task] = b
            grid.addWidget(b, 0, i)
        lay.addLayout(grid)
        self.hint = QLabel(self)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        lay.addWidget(self.hint)

        # --- per-task options ---------------------------------------------------------------
        lay.addWidget(_section("Options"))
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._denoise_page())
        self.pages.addWidget(self._sr_page())
        self.pages.addWidget(self._jpeg_page())
        self.pages.addWidget(self._inpaint_page(mask_panel))
        lay.addWidget(self.pages)

        # --- model ------------------------------------------------------------------------------
        lay.addWidget(_section("Model"))
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
        self.ensemble_check.setToolTip("Run the model on the 8 flips and rotations of the photo and average "
                                       "them: slightly cleaner results, at eight times the time")
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
        self.cancel_button.setToolTip("Stop after the current tile; the photo stays as it was (Esc)")
        self.restore_button.clicked.connect(self.restore_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)

        self.task_group.idToggled.connect(self._task_toggled)
        self.task_buttons["denoise"].setChecked(True)
        self.set_photo(None)

    # ------------------------------------------------------------------ pages
    def _denoise_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.sigma_auto = QCheckBox("Automatic", page)
        self.sigma_auto.setChecked(True)
        self.sigma_slider = QSlider(Qt.Orientation.Horizontal, page)
        self.sigma_slider.setRange(0, SIGMA_MAX)
        self.sigma_slider.setValue(25)
        self.sigma_spin = QSpinBox(page)
        self.sigma_spin.setRange(0, SIGMA_MAX)
        self.sigma_spin.setValue(25)
        row = QHBoxLayout()
        row.addWidget(self.sigma_slider, 1)
        row.addWidget(self.sigma_spin)
        self.sigma_slider.valueChanged.connect(self.sigma_spin.setValue)
        self.sigma_spin.valueChanged.connect(self.sigma_slider.setValue)
        self.sigma_spin.valueChanged.connect(self.options_changed)
        self.sigma_auto.toggled.connect(self._sigma_auto_toggled)
        self.estimate_label = QLabel("Estimated noise level: –", page)
        self.estimate_label.setObjectName("value")
        form.addRow("Noise level σ", self.sigma_auto)
        form.addRow("", row)
        form.addRow(self.estimate_label)
        self._sigma_auto_toggled(True)
        return page

    def _sr_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.scale_spin = QDoubleSpinBox(page)
        self.scale_spin.setRange(*SCALE_RANGE)
        self.scale_spin.setSingleStep(0.25)
        self.scale_spin.setDecimals(2)
        self.scale_spin.setValue(2.0)
        self.scale_spin.setPrefix("× ")
        presets = QHBoxLayout()
        presets.addWidget(self.scale_spin, 1)
        for s in (2, 3, 4):
            b = QToolButton(page)
            b.setText(f"×{s}")
            b.clicked.connect(lambda _=False, v=s: self.scale_spin.setValue(v))
            presets.addWidget(b)
        self.output_size_label = QLabel("Result: –", page)
        self.output_size_label.setObjectName("value")
        form.addRow("Scale", presets)
        form.addRow(self.output_size_label)
        self.scale_spin.valueChanged.connect(self._update_output_size)
        self.scale_spin.valueChanged.connect(self.options_changed)
        return page

    def _jpeg_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.quality_auto = QCheckBox("From the file", page)
        self.quality_auto.setChecked(True)
        self.quality_spin = QSpinBox(page)
        self.quality_spin.setRange(*QUALITY_RANGE)
        self.quality_spin.setValue(30)
        self.quality_slider = QSlider(Qt.Orientation.Horizontal, page)
        self.quality_slider.setRange(*QUALITY_RANGE)
        self.quality_slider.setValue(30)
        self.quality_slider.valueChanged.connect(self.quality_spin.setValue)
        self.quality_spin.valueChanged.connect(self.quality_slider.setValue)
        self.quality_spin.valueChanged.connect(self.options_changed)
        row = QHBoxLayout()
        row.addWidget(self.quality_slider, 1)
        row.addWidget(self.quality_spin)
        self.file_quality_label = QLabel("", page)
        self.file_quality_label.setObjectName("value")
        self.file_quality_label.setWordWrap(True)
        form.addRow("Quality", self.quality_auto)
        form.addRow("", row)
        form.addRow(self.file_quality_label)
        self.quality_auto.toggled.connect(self._quality_auto_toggled)
        return page

    def _inpaint_page(self, mask_panel: QWidget | None) -> QWidget:
        page = QWidget(self)
        v = QVBoxLayout(page)
        v.setContentsMargins(0, 0, 0, 0)
        if mask_panel is not None:
            v.addWidget(mask_panel)
        self.mask_panel = mask_panel
        return page

    # ------------------------------------------------------------------ state
    def task(self) -> str:
        return TASKS[max(self.task_group.checkedId(), 0)]

    def set_task(self, task: str) -> None:
        self.task_buttons[task].setChecked(True)

    def _task_toggled(self, button_id: int, checked: bool) -> None:
        if not checked:
            return
        task = TASKS[button_id]
        self.pages.setCurrentIndex(button_id)
        # Size the options area to the current page, not to the tallest one.
        for i in range(self.pages.count()):
            policy = QSizePolicy.Policy.Preferred if i == button_id else QSizePolicy.Policy.Ignored
            self.pages.widget(i).setSizePolicy(QSizePolicy.Policy.Preferred, policy)
        self.pages.adjustSize()
        self.hint.setText(TASK_HINTS[task])
        self.refresh_models()
        self.task_changed.emit(task)
        self.options_changed.emit()

    def options(self) -> dict:
        """The keyword options for `rednet.engine.restore.restore` of the chosen task."""
        task = self.task()
        if task == "denoise":
            return {"sigma": None if self.sigma_auto.isChecked() else float(self.sigma_spin.value())}
        if task == "sr":
            return {"scale": float(self.scale_spin.value())}
        if task == "jpeg":
            return {"quality": None if self.quality_auto.isChecked() else int(self.quality_spin.value())}
        return {}

    def ensemble(self) -> bool:
        """Whether to restore with the 8-pass self-ensemble (`restore(ensemble=...)`)."""
        return self.ensemble_check.isChecked()

    def set_photo(self, photo) -> None:
        self._photo = photo
        self._estimate = None
        self.estimate_label.setText("Estimated noise level: –" if photo is None else "Estimated noise level: measuring…")
        self._update_output_size()
        q = getattr(photo, "jpeg_quality", None) if photo is not None else None
        if q is not None:
            self.quality_auto.setText(f"From the file (q {q})")
            self.file_quality_label.setText(f"The file was saved at JPEG quality {q}.")
            self.quality_spin.setValue(int(min(max(q, QUALITY_RANGE[0]), QUALITY_RANGE[1])))
        else:
            self.quality_auto.setText("Automatic")
            self.file_quality_label.setText("No JPEG quality in the file: on automatic the model judges "
                                            "the compression itself." if photo is not None else "")
        self.restore_button.setEnabled(photo is not None and not self.cancel_button.isEnabled())

    def set_sigma_estimate(self, sigma: float | None) -> None:
        self._estimate = sigma
        if sigma is None:
            self.estimate_label.setText("Estimated noise level: –")
            return
        self.estimate_label.setText(f"Estimated noise level: σ {sigma:.1f}")
        if self.sigma_auto.isChecked():
            self.sigma_spin.setValue(int(round(min(sigma, SIGMA_MAX))))

    @property
    def sigma_estimate(self) -> float | None:
        return self._estimate

    def _sigma_auto_toggled(self, on: bool) -> None:
        self.sigma_slider.setEnabled(not on)
        self.sigma_spin.setEnabled(not on)
        self.options_changed.emit()

    def _quality_auto_toggled(self, on: bool) -> None:
        self.quality_slider.setEnabled(not on)
        self.quality_spin.setEnabled(not on)
        self.options_changed.emit()

    def _update_output_size(self) -> None:
        if self._photo is None:
            self.output_size_label.setText("Result: –")
            return
        w, h = core_restore.output_size(self._photo, "sr", float(self.scale_spin.value()))
        self.output_size_label.setText(
            f"Result: {w} × {h} px  (from {self._photo.width} × {self._photo.height})")

    def set_steps(self, steps: list[str]) -> None:
        self.steps_label.setText("Original photo" if not steps else "Applied: " + " → ".join(steps))

    # ------------------------------------------------------------------ models
    def refresh_models(self) -> None:
        task = self.task()
        previous = self.model_combo.currentData()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        try:
            models = registry.list_models(task)
        except Exception as exc:  # noqa: BLE001 - an unreadable folder must not break the panel
            models = []
            self.model_info.setText(f"Could not list models: {exc}")
        # The shipped model named after the task is the default: list it first.
        models.sort(key=lambda m: (m.source != "shipped", m.name != task, m.name))
        for m in models:
            label = f"{m.name}  ({'default' if m.source == 'shipped' and m.name == task else m.source})"
            self.model_combo.addItem(label, str(m.path))
            self.model_combo.setItemData(self.model_combo.count() - 1,
                                         f"{m.summary}\n{m.path}", Qt.ItemDataRole.ToolTipRole)
        self._models = models
        if not models:
            self.model_combo.addItem(f"No {TASK_TITLES[task].lower()} model installed", None)
        idx = self.model_combo.findData(previous) if previous else -1
        self.model_combo.setCurrentIndex(max(idx, 0))
        self.model_combo.blockSignals(False)
        self._model_selected(self.model_combo.currentIndex())

    def _model_selected(self, index: int) -> None:
        models = getattr(self, "_models", [])
        if 0 <= index < len(models):
            m = models[index]
            self.model_info.setText(f"{m.summary} · {m.size_bytes / 1e6:.1f} MB")
        elif not models:
            self.model_info.setText("Add weights to rednet_resources/weights or your models folder.")

    def model(self) -> str | None:
        """The chosen model file (for `restore(model=...)`), or None for the shipped default."""
        return self.model_combo.currentData()

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
        self.progress_label.setText(f"{msg} · {format_eta(p.eta_s)}")

    def finish_progress(self, message: str, success: bool) -> None:
        self.progress.setValue(1000 if success else 0)
        self.progress.setFormat("%p%" if success else "")
        self.progress_label.setText(message)

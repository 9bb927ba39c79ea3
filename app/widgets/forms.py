"""Form widgets the panels and tool windows share: section headers, the inline error box, aligned
labels, a line edit with a Browse button, and `OptionField`, the editor of one task option.

An `OptionField` is built from the task's `Option` (rednet.tasks): its title labels the row, its range
bounds the spin box and an option without a default ("chosen from the photo") gets an "automatic" box.
`LOOKS` adds what `Option` does not say about showing it (a slider, presets, the step); an option not
listed there still gets a working field, so a new task needs no change here.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from rednet.tasks import Option


def section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionHeader")
    return label


def inline_error_label(parent: QWidget) -> QLabel:
    """A red box under a form's Start button for a problem with the form (hidden until set)."""
    label = QLabel(parent)
    label.setObjectName("inlineError")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet(
        "QLabel#inlineError { color: #ffb3b3; background: #3d2427; border: 1px solid #6b2f36;"
        " border-radius: 4px; padding: 6px 8px; }"
    )
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


def browse_row(edit: QLineEdit, button: QToolButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setSpacing(4)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


# ------------------------------------------------------------------------------------ task options
@dataclass(frozen=True)
class Look:
    """How a form shows a task option beyond its range and default."""

    slider: bool = False  # a slider beside the spin box (full forms only)
    whole: bool = False  # whole-number steps although the option takes any number
    step: float = 1.0
    decimals: int = 2
    prefix: str = ""
    presets: tuple[float, ...] = ()  # quick-pick buttons (full forms only)
    start: float | None = None  # shown before the user sets a value (an option without a default)
    auto_each: str = "Automatic"  # the automatic box of a form for many photos (a batch)


LOOKS: dict[str, Look] = {  # by option name
    "sigma": Look(slider=True, whole=True, start=25, auto_each="Estimate per photo"),
    "scale": Look(step=0.25, prefix="× ", presets=(2, 3, 4)),
    "quality": Look(slider=True, start=30, auto_each="From each file"),
}


class OptionField(QObject):
    """The editor of one numeric task option: a spin box (a slider and presets in full forms) and, for
    an option the core can choose by itself, an "automatic" box that disables the value while on.

    `value()` is what `restore()` takes: None while automatic, else the option's kind (int or float).
    """

    changed = Signal()

    def __init__(self, option: Option, parent: QWidget, *, compact: bool = False, auto_text: str | None = None):
        super().__init__(parent)
        self.option = option
        self.compact = compact
        look = LOOKS.get(option.name, Look())
        if option.integer or look.whole:
            self.spin = QSpinBox(parent)
            self.spin.setRange(int(option.low), int(option.high))
        else:
            self.spin = QDoubleSpinBox(parent)
            self.spin.setRange(option.low, option.high)
            self.spin.setSingleStep(look.step)
            self.spin.setDecimals(look.decimals)
        if look.prefix:
            self.spin.setPrefix(look.prefix)
        start = option.default if option.default is not None else look.start
        self.spin.setValue(start if start is not None else option.low)
        self.spin.valueChanged.connect(self.changed)

        self.auto: QCheckBox | None = None
        if option.default is None:
            self.auto = QCheckBox(auto_text or (look.auto_each if compact else "Automatic"), parent)
            self.auto.setChecked(True)
            self.auto.toggled.connect(self._auto_toggled)
        self.slider: QSlider | None = None
        if look.slider and not compact:
            self.slider = QSlider(Qt.Orientation.Horizontal, parent)
            self.slider.setRange(int(option.low), int(option.high))
            self.slider.setValue(int(round(self.spin.value())))
            self.slider.valueChanged.connect(self.spin.setValue)
            self.spin.valueChanged.connect(lambda v: self.slider.setValue(int(round(v))))
        self.presets: list[QToolButton] = []
        if not compact:
            mark = look.prefix.strip()
            for value in look.presets:
                b = QToolButton(parent)
                b.setText(f"{mark}{value:g}")
                b.clicked.connect(lambda _=False, v=value: self.spin.setValue(v))
                self.presets.append(b)
        self.refresh_enabled()

    def add_rows(self, form: QFormLayout) -> None:
        """The field's rows: the automatic box on the title's row and the value under it (full), or
        both on one row (compact)."""
        title = self.option.title
        if self.auto is not None and not self.compact:
            form.addRow(title, self.auto)
            form.addRow("", self._value_row())
        elif self.auto is not None:
            row = QHBoxLayout()
            row.addWidget(self.auto, 1)
            row.addWidget(self.spin)
            form.addRow(title, row)
        elif self.slider is None and not self.presets:
            form.addRow(title, self.spin)
        else:
            form.addRow(title, self._value_row())

    def _value_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        if self.slider is not None:
            row.addWidget(self.slider, 1)
            row.addWidget(self.spin)
        else:
            row.addWidget(self.spin, 1)
        for b in self.presets:
            row.addWidget(b)
        return row

    @property
    def automatic(self) -> bool:
        return self.auto is not None and self.auto.isChecked()

    def value(self) -> int | float | None:
        return None if self.automatic else self.option.kind(self.spin.value())

    def set_value(self, value: float) -> None:
        """Show `value` (kept within the option's range)."""
        value = min(max(float(value), self.option.low), self.option.high)
        self.spin.setValue(int(round(value)) if isinstance(self.spin, QSpinBox) else value)

    def refresh_enabled(self) -> None:
        on = not self.automatic
        for w in (self.spin, self.slider, *self.presets):
            if w is not None:
                w.setEnabled(on)

    def _auto_toggled(self, _on: bool) -> None:
        self.refresh_enabled()
        self.changed.emit()

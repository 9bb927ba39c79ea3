"""The model picker the task panel and the tool windows share: a combo box of `registry.list_models`
for one task, the shipped default first, refreshed each time it opens."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox

from rednet.models import registry
from rednet.tasks import get_task


class ModelComboBox(QComboBox):
    """A combo box that asks for a fresh list each time it opens (models may be added any time)."""

    about_to_show = Signal()

    def showPopup(self) -> None:  # noqa: N802 (Qt name)
        self.about_to_show.emit()
        super().showPopup()


def fill_model_combo(
    combo: QComboBox, task: str, *, on_error: Callable[[Exception], None] | None = None
) -> list[registry.ModelInfo]:
    """Fill a model picker with `registry.list_models(task)` (the shipped default first); keeps the
    current choice when it is still listed. Returns the ModelInfo list (in combo order). A folder that
    cannot be listed gives an empty list (and `on_error(exc)`), never an exception."""
    spec = get_task(task)
    previous = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    try:
        models = registry.list_models(spec.name)
    except Exception as exc:  # noqa: BLE001 - an unreadable folder must not break the panel
        models = []
        if on_error is not None:
            on_error(exc)
    models.sort(key=lambda m: (m.source != "shipped", not m.is_default, m.name))
    for m in models:
        combo.addItem(f"{m.name}  ({'default' if m.is_default else m.source})", str(m.path))
        combo.setItemData(combo.count() - 1, f"{m.summary}\n{m.path}", Qt.ItemDataRole.ToolTipRole)
    if not models:
        combo.addItem(f"No {spec.title.lower()} model installed", None)
    idx = combo.findData(previous) if previous else -1
    combo.setCurrentIndex(max(idx, 0))
    combo.blockSignals(False)
    return models

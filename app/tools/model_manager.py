""" "Your models": the user's own models (rednet.models.user_models), listed with rename, export
(weights + card) and delete (after a confirmation); shipped models are never touched.

It reports what it changed through `model_replaced(old path, new path or "")` and what to tell the user
through `message`; the fine-tune window passes the former on to whoever shows models (the task panel).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from app.dialogs import prompts
from rednet.errors import ModelError
from rednet.models import registry
from rednet.models import user_models as model_store
from rednet.tasks import TASKS
from rednet.train.finetune import output_path


def user_models() -> list[registry.ModelInfo]:
    try:
        return [m for m in registry.list_models() if m.source == "user"]
    except Exception:  # noqa: BLE001
        return []


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a model name, as a sentence for the window (rules: rednet.models.user_models)."""
    problem = model_store.name_problem(name)
    return None if problem is None else problem[0].upper() + problem[1:] + "."


def task_title(task: str) -> str:
    return TASKS[task].title if task in TASKS else task


class ModelManager(QWidget):
    model_replaced = Signal(str, str)  # old path, new path ("" when deleted)
    message = Signal(str)  # what was done, for the window's status line

    def __init__(self, parent: QWidget | None = None, *, busy_with: Callable[[Path], bool] = lambda path: False):
        """`busy_with(path)`: whether the model file `path` is being written (a fine-tune into it)."""
        super().__init__(parent)
        self._busy_with = busy_with
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        self.models_list = QListWidget(self)
        self.models_list.setMinimumHeight(90)
        col.addWidget(self.models_list, 1)
        row = QHBoxLayout()
        self.rename_button = QPushButton("Rename…", self)
        self.export_button = QPushButton("Export…", self)
        self.delete_button = QPushButton("Delete…", self)
        self.export_button.setToolTip("Copy the model file and its card to a folder")
        for b in (self.rename_button, self.export_button, self.delete_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        col.addLayout(row)
        self.models_list.currentRowChanged.connect(lambda _row: self.update_buttons())
        self.rename_button.clicked.connect(lambda: self.rename_selected())
        self.export_button.clicked.connect(lambda: self.export_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.refresh()

    def refresh(self) -> None:
        current = self.selected_model()
        self.models_list.clear()
        for m in user_models():
            item = QListWidgetItem(f"{m.name}   ·  {task_title(m.task)}")
            item.setData(Qt.ItemDataRole.UserRole, str(m.path))
            item.setToolTip(f"{m.summary}\n{m.path}  ({m.size_bytes / 1e6:.1f} MB)")
            self.models_list.addItem(item)
        if not self.models_list.count():
            item = QListWidgetItem("No models of your own yet")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.models_list.addItem(item)
        if current is not None:
            self.select(current)
        self.update_buttons()

    def select(self, path: str | Path) -> None:
        for i in range(self.models_list.count()):
            if self.models_list.item(i).data(Qt.ItemDataRole.UserRole) == str(path):
                self.models_list.setCurrentRow(i)
                return

    def selected_model(self) -> Path | None:
        item = self.models_list.currentItem()
        data = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return Path(data) if data else None

    def update_buttons(self) -> None:
        path = self.selected_model()
        ok = path is not None and not self._busy_with(path)
        for b in (self.rename_button, self.export_button, self.delete_button):
            b.setEnabled(ok)

    def _error(self, message: str) -> None:
        prompts.show_error(self, "Your models", message)

    def _changed(self, old: Path, new: Path | None) -> None:
        self.refresh()
        self.model_replaced.emit(str(old), str(new) if new is not None else "")

    def rename_selected(self, new_name: str | None = None) -> bool:
        path = self.selected_model()
        if path is None or not model_store.is_user_model(path) or self._busy_with(path):
            return False
        old = registry.model_name(path)
        if not new_name:
            new_name = prompts.ask_text(self, "Rename Model", "New name:", old).strip()
        if not new_name or new_name == old:
            return False
        problem = name_problem(new_name)
        if problem:
            self._error(problem)
            return False
        if output_path(new_name).exists():
            self._error(f"You already have a model named “{new_name}”.")
            return False
        try:
            target = model_store.rename_user_model(path, new_name)
        except ModelError as exc:
            self._error(f"Could not rename “{old}”: {exc}")
            return False
        self._changed(path, target)
        self.select(target)
        self.message.emit(f"Renamed “{old}” to “{new_name}”.")
        return True

    def export_selected(self) -> Path | None:
        path = self.selected_model()
        if path is None or not path.is_file():
            return None
        folder = prompts.ask_folder(self, f"Export “{registry.model_name(path)}” to", str(Path.home()))
        if not folder:
            return None
        folder = Path(folder)
        files = [p for p in (path, registry.card_path(path)) if p.is_file()]
        clashes = [folder / p.name for p in files if (folder / p.name).exists()]
        if clashes and not prompts.ask_yes_no(
            self, "Replace files?", f"{', '.join(c.name for c in clashes)} already in {folder}. Replace?"
        ):
            return None
        try:
            model_store.export_model(path, folder, overwrite=True)  # the clash was asked about above
        except ModelError as exc:
            self._error(f"Could not export: {exc}")
            return None
        self.message.emit(f"Exported {' and '.join(p.name for p in files)} to {folder}.")
        return folder / path.name

    def delete_selected(self) -> bool:
        path = self.selected_model()
        if path is None or self._busy_with(path):
            return False
        if not model_store.is_user_model(path):
            self._error("Only your own models can be deleted, not the shipped ones.")
            return False
        name = registry.model_name(path)
        if not prompts.ask_yes_no(
            self, "Delete model?", f"Delete your model “{name}”? Its file and card are removed; this cannot be undone."
        ):
            return False
        try:
            model_store.delete_user_model(path)
        except ModelError as exc:
            self._error(f"Could not delete “{name}”: {exc}")
            return False
        self._changed(path, None)
        self.message.emit(f"Deleted “{name}”.")
        return True

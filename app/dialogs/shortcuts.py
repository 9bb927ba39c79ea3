"""Keyboard shortcuts: one table for the actions, and the Help > Shortcuts window that lists them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rednet.tasks import TASKS


def task_action(task: str) -> str:
    """The id of the action that picks `task`."""
    return f"task_{task}"


# action id -> (group, shortcuts, description). The first shortcut is shown in menus.
SHORTCUTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "open": ("File", ("Ctrl+O",), "Open a photo"),
    "paste": ("File", ("Ctrl+V", "Shift+Ins"), "Paste a photo from the clipboard"),
    "save": ("File", ("Ctrl+S",), "Save the result"),
    "save_as": ("File", ("Ctrl+Shift+S",), "Save the result as…"),
    "preferences": ("File", ("Ctrl+,",), "Preferences"),
    "quit": ("File", ("Ctrl+Q",), "Quit"),
    "undo": ("Edit", ("Ctrl+Z",), "Undo (brush strokes and restore steps)"),
    "redo": ("Edit", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo"),
    "revert": ("Edit", ("Ctrl+Shift+R",), "Revert to the original photo"),
    "zoom_in": ("View", ("Ctrl++", "Ctrl+="), "Zoom in"),
    "zoom_out": ("View", ("Ctrl+-",), "Zoom out"),
    "zoom_fit": ("View", ("Ctrl+0",), "Fit the photo in the window"),
    "zoom_100": ("View", ("Ctrl+1",), "Actual pixels (100%)"),
    "mode_single": ("View", ("1",), "Show the result"),
    "mode_split": ("View", ("2",), "Split view (drag the divider)"),
    "mode_side": ("View", ("3",), "Side by side (zoom and pan in sync)"),
    "show_mask": ("View", ("H",), "Show or hide the mask overlay"),
    "loupe": ("View", ("L",), "Loupe: a magnified Before/After pair under the pointer"),
    "brush": ("Mask", ("B",), "Mask brush tool"),
    "erase": ("Mask", ("E",), "Erase instead of paint"),
    "brush_smaller": ("Mask", ("[",), "Smaller brush"),
    "brush_bigger": ("Mask", ("]",), "Bigger brush"),
    "mask_clear": ("Mask", ("Ctrl+Shift+Backspace",), "Clear the mask"),
    "mask_invert": ("Mask", ("Ctrl+I",), "Invert the mask"),
    "mask_grow": ("Mask", ("Alt+]",), "Grow the mask"),
    "mask_shrink": ("Mask", ("Alt+[",), "Shrink the mask"),
    "mask_import": ("Mask", (), "Import a mask (PNG, white = fill)"),
    "mask_export": ("Mask", (), "Export the mask as PNG"),
    "restore": ("Restore", ("Ctrl+R", "Ctrl+Return"), "Restore with the chosen task"),
    "cancel": ("Restore", ("Esc",), "Cancel the running restore"),
    # one per task (rednet.tasks), in the registry's order: Alt+1, Alt+2, ...
    **{
        task_action(t.name): ("Restore", (f"Alt+{i + 1}",) if i < 9 else (), f"Task: {t.title}")
        for i, t in enumerate(TASKS.values())
    },
    "shortcuts": ("Help", ("F1", "Ctrl+/"), "This list of shortcuts"),
}

# Gestures that are not menu actions.
GESTURES: tuple[tuple[str, str, str], ...] = (
    ("View", "Hold \\", "Flash the original while the key is held"),
    ("View", "Mouse wheel", "Zoom around the pointer"),
    ("View", "Drag / Space+drag / middle drag", "Pan"),
    ("View", "Drag the divider", "Move the split line"),
    ("Mask", "Drag (brush tool)", "Paint the mask (erase with E)"),
    ("File", "Drop a file on the window", "Open it"),
)


def key_sequences(action_id: str) -> list[QKeySequence]:
    return [QKeySequence(k) for k in SHORTCUTS[action_id][1]]


def native_text(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) or keys


def rows() -> list[tuple[str, str, str]]:
    """(group, keys, description) for every shortcut and gesture."""
    out = []
    for _id, (group, keys, text) in SHORTCUTS.items():
        if keys:
            out.append((group, ", ".join(native_text(k) for k in keys), text))
    out.extend(GESTURES)
    order = ["File", "Edit", "View", "Mask", "Restore", "Help"]
    return sorted(out, key=lambda r: order.index(r[0]) if r[0] in order else 99)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(560, 620)
        table = QTableWidget(0, 3, self)
        table.setHorizontalHeaderLabels(["Group", "Keys", "Action"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setAlternatingRowColors(True)
        for group, keys, text in rows():
            r = table.rowCount()
            table.insertRow(r)
            for c, value in enumerate((group, keys, text)):
                item = QTableWidgetItem(value)
                if c == 1:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                table.setItem(r, c, item)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(table)
        lay.addWidget(buttons)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

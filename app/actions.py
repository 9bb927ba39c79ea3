"""The window's QActions: text, icon, shortcuts (from app.dialogs.shortcuts) and checkable state, in one
table, and when each is enabled."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import QWidget

from app import APP_NAME
from app.canvas.compare import CompareMode
from app.dialogs.shortcuts import SHORTCUTS, key_sequences, task_action
from app.resources import icon
from rednet.tasks import TASKS

ACTION_TEXT = {
    "open": "&Open…",
    "paste": "&Paste Photo",
    "save": "&Save",
    "save_as": "Save &As…",
    "preferences": "Pre&ferences…",
    "quit": "&Quit",
    "undo": "&Undo",
    "redo": "&Redo",
    "revert": "Revert to &Original",
    "zoom_in": "Zoom &In",
    "zoom_out": "Zoom &Out",
    "zoom_fit": "&Fit",
    "zoom_100": "&100%",
    "mode_single": "&Result",
    "mode_split": "&Split",
    "mode_side": "Side by Si&de",
    "show_mask": "Show &Mask",
    "loupe": "&Loupe",
    "brush": "&Brush",
    "erase": "&Erase",
    "brush_smaller": "S&maller Brush",
    "brush_bigger": "Bi&gger Brush",
    "mask_clear": "&Clear",
    "mask_invert": "&Invert",
    "mask_grow": "&Grow",
    "mask_shrink": "S&hrink",
    "mask_import": "Im&port…",
    "mask_export": "E&xport…",
    "restore": "&Restore",
    "cancel": "&Cancel",
    "shortcuts": "&Keyboard Shortcuts",
    **{task_action(t.name): f"&{t.title}" for t in TASKS.values()},
}
ACTION_ICONS = {
    "open": "open",
    "save": "save",
    "save_as": "save",
    "undo": "undo",
    "redo": "redo",
    "zoom_in": "zoom-in",
    "zoom_out": "zoom-out",
    "zoom_fit": "zoom-fit",
    "zoom_100": "zoom-100",
    "mode_single": "mode-single",
    "mode_split": "mode-split",
    "mode_side": "mode-side",
    "show_mask": "eye",
    "loupe": "loupe",
    "brush": "brush",
    "erase": "erase",
    "mask_clear": "mask-clear",
    "mask_invert": "mask-invert",
    "mask_grow": "mask-grow",
    "mask_shrink": "mask-shrink",
    "mask_import": "mask-import",
    "mask_export": "mask-export",
    "restore": "restore",
    "cancel": "cancel",
    "paste": "paste",
    "revert": "revert",
    "preferences": "preferences",
    **{task_action(t.name): f"task-{t.name}" for t in TASKS.values()},
}
# When actions are enabled: while no restore runs, with a photo open, or both.
WHEN_IDLE = ("open", "paste", *(task_action(t) for t in TASKS))
WITH_PHOTO = ("zoom_in", "zoom_out", "zoom_fit", "zoom_100", "loupe")
WITH_PHOTO_WHEN_IDLE = (
    "save",
    "save_as",
    "brush",
    "erase",
    "brush_smaller",
    "brush_bigger",
    "mask_clear",
    "mask_invert",
    "mask_grow",
    "mask_shrink",
    "mask_import",
    "mask_export",
    "restore",
)
TOOL_ACTIONS = {"batch": "&Batch Restore…", "finetune": "&Fine-tune a Model…"}  # Tools, without shortcuts
CHECKABLE = {"mode_single", "mode_split", "mode_side", "show_mask", "loupe", "brush", "erase"}
MODE_ACTIONS = {
    "mode_single": CompareMode.SINGLE,
    "mode_split": CompareMode.SPLIT,
    "mode_side": CompareMode.SIDE_BY_SIDE,
}


def create_actions(window: QWidget) -> dict[str, QAction]:
    """One QAction per entry of SHORTCUTS (plus About and the Tools), added to `window` so shortcuts work anywhere
    in it; the compare modes form an exclusive group."""
    actions: dict[str, QAction] = {}
    for action_id, (_group, _keys, description) in SHORTCUTS.items():
        a = QAction(ACTION_TEXT.get(action_id, description), window)
        a.setObjectName(f"action_{action_id}")
        a.setShortcuts(key_sequences(action_id))
        a.setStatusTip(description)
        tip = description
        if a.shortcut():
            tip += f"  ({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        a.setToolTip(tip)
        if action_id in ACTION_ICONS:
            a.setIcon(icon(ACTION_ICONS[action_id]))
        a.setCheckable(action_id in CHECKABLE)
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(a)
        actions[action_id] = a
    actions["show_mask"].setChecked(True)
    actions["about"] = QAction(f"&About {APP_NAME}", window)
    for key, text in TOOL_ACTIONS.items():
        actions[key] = QAction(text, window)
        actions[key].setObjectName(f"action_{key}")
    group = QActionGroup(window)
    group.setExclusive(True)
    for key in MODE_ACTIONS:
        group.addAction(actions[key])
    actions["mode_single"].setChecked(True)
    return actions


def update_action_states(
    actions: dict[str, QAction],
    *,
    has_photo: bool,
    busy: bool,
    has_result: bool = False,
    stack: QUndoStack | None = None,
    stroking: bool = False,
) -> None:
    """Enable the actions for the window's state: a photo open, a restore running (`busy`), a result
    on it, its undo `stack`, a brush stroke in progress."""
    for key in WHEN_IDLE:
        actions[key].setEnabled(not busy)
    for key in WITH_PHOTO:
        actions[key].setEnabled(has_photo)
    for key in WITH_PHOTO_WHEN_IDLE:
        actions[key].setEnabled(has_photo and not busy)
    actions["revert"].setEnabled(has_photo and not busy and has_result)
    actions["cancel"].setEnabled(busy)
    has_stack = stack is not None
    for key, can, text in (
        ("undo", has_stack and stack.canUndo(), has_stack and stack.undoText()),
        ("redo", has_stack and stack.canRedo(), has_stack and stack.redoText()),
    ):
        actions[key].setEnabled(bool(can) and not busy and not stroking)
        actions[key].setText(f"&{key.capitalize()} {text}" if can else f"&{key.capitalize()}")

"""The main window's chrome: the menu bar and the toolbar (tables of action ids), the two docks
(the task panel, the history) and the status bar's fields.

In the tables `None` is a separator; an entry starting with "@" is a part the window adds itself (a
submenu such as Open Recent, or the docks' toggles), through the `parts` callables it passes to
`build_menus`.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QScrollArea, QToolBar, QUndoView, QWidget

from app.dialogs.shortcuts import task_action
from rednet.tasks import TASK_NAMES

MENUS: tuple[tuple[str, tuple], ...] = (
    ("&File", ("open", "@recent", "paste", None, "save", "save_as", None, "preferences", None, "quit")),
    ("&Edit", ("undo", "redo", None, "revert")),
    (
        "&View",
        (
            "zoom_in",
            "zoom_out",
            "zoom_fit",
            "zoom_100",
            None,
            "mode_single",
            "mode_split",
            "mode_side",
            None,
            "show_mask",
            "loupe",
            None,
            "@docks",
        ),
    ),
    (
        "&Mask",
        (
            "brush",
            "erase",
            "brush_smaller",
            "brush_bigger",
            None,
            "mask_clear",
            "mask_invert",
            "mask_grow",
            "mask_shrink",
            None,
            "mask_import",
            "mask_export",
        ),
    ),
    ("&Restore", ("restore", "cancel", None, *(task_action(t) for t in TASK_NAMES))),
    ("&Tools", ("batch", "finetune")),
    ("&Help", ("@samples", "shortcuts", None, "about")),
)

TOOLBAR = (
    "open",
    "save",
    None,
    "undo",
    "redo",
    None,
    "zoom_out",
    "zoom_in",
    "zoom_fit",
    "zoom_100",
    None,
    "mode_single",
    "mode_split",
    "mode_side",
    "loupe",
    None,
    "brush",
    "erase",
    "show_mask",
)


def build_menus(
    window: QMainWindow, actions: dict[str, QAction], parts: dict[str, Callable[[QMenu], None]]
) -> dict[str, QMenu]:
    """Fill the window's menu bar from MENUS; returns the menus by title (without the "&")."""
    menus = {}
    for title, entries in MENUS:
        menu = window.menuBar().addMenu(title)
        for key in entries:
            if key is None:
                menu.addSeparator()
            elif key.startswith("@"):
                parts[key[1:]](menu)
            else:
                menu.addAction(actions[key])
        menus[title.replace("&", "")] = menu
    return menus


def add_recent_menu(menu: QMenu, recent) -> QMenu:
    """File > Open Recent (app.services.recent_files), listed afresh each time it opens."""
    sub = menu.addMenu("Open &Recent")
    sub.aboutToShow.connect(lambda: recent.fill_menu(sub))
    recent.fill_menu(sub)
    return sub


def add_samples_menu(menu: QMenu, samples: Callable[[], list], open_sample: Callable[[object], object]) -> QMenu:
    """Help > Open Sample: the bundled sample photos (app.resources.Sample), listed afresh each time
    it opens."""
    sub = menu.addMenu("Open &Sample")

    def fill() -> None:
        sub.clear()
        found = samples()
        if not found:
            sub.addAction("No sample photos installed").setEnabled(False)
        for sample in found:
            act = sub.addAction(sample.title)
            act.setData(str(sample.path))
            act.triggered.connect(lambda _=False, s=sample: open_sample(s))

    sub.aboutToShow.connect(fill)
    fill()
    return sub


def build_toolbar(window: QMainWindow, actions: dict[str, QAction]) -> QToolBar:
    tb = QToolBar("Tools", window)
    tb.setObjectName("mainToolBar")
    tb.setMovable(False)
    tb.setIconSize(QSize(20, 20))
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    for key in TOOLBAR:
        tb.addSeparator() if key is None else tb.addAction(actions[key])
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    return tb


HISTORY_HEIGHT = 130  # the History dock's share of the right-hand column, as first laid out


def build_docks(window: QMainWindow, panel: QWidget) -> tuple[QDockWidget, QDockWidget, QUndoView]:
    """The Restore dock (the task panel, scrolling) and the History dock; returns (restore dock,
    history dock, the history view)."""
    scroll = QScrollArea(window)
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    dock = QDockWidget("Restore", window)
    dock.setObjectName("restoreDock")
    dock.setWidget(scroll)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
    dock.setMinimumWidth(320)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    history = QUndoView(window)
    history.setEmptyLabel("Original")
    hdock = QDockWidget("History", window)
    hdock.setObjectName("historyDock")
    hdock.setWidget(history)
    hdock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, hdock)
    window.resizeDocks([dock, hdock], [640, HISTORY_HEIGHT], Qt.Orientation.Vertical)
    return dock, hdock, history


def balance_docks(window: QMainWindow, restore: QDockWidget, history: QDockWidget) -> None:
    """When the Restore panel does not fit its dock, give the History dock's space back to it (down
    to the History's first height, or further down to its minimum if the panel needs that): a window
    shrunk and enlarged again (or a layout saved from such a window) never leaves Restore and its
    progress bar scrolling beside an oversized History."""
    if not (restore.isVisible() and history.isVisible()) or restore.isFloating() or history.isFloating():
        return
    if window.dockWidgetArea(restore) != window.dockWidgetArea(history):
        return
    scroll = restore.widget()
    chrome = restore.height() - scroll.viewport().height()  # the title bar and frames
    need = scroll.widget().sizeHint().height() + chrome
    short = need - restore.height()
    spare = history.height() - history.minimumSizeHint().height()
    if short > 0 and spare > 0:
        grow = min(spare, max(short, history.height() - HISTORY_HEIGHT))
        window.resizeDocks(
            [restore, history], [restore.height() + grow, history.height() - grow], Qt.Orientation.Vertical
        )


def build_status_fields(window: QMainWindow) -> tuple[QLabel, QLabel, QLabel]:
    """The status bar's permanent fields: (cursor position, photo size and kind, zoom)."""
    sb = window.statusBar()
    cursor, size, zoom = QLabel("", window), QLabel("No photo", window), QLabel("", window)
    for w in (cursor, size, zoom):
        w.setObjectName("statusValue")
        sb.addPermanentWidget(w)
    zoom.setMinimumWidth(56)
    zoom.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return cursor, size, zoom


def describe_photo(p) -> str:
    """The size field's text: "640 × 427 px  ·  8-bit RGB  ·  JPEG q30"."""
    kind = "gray" if p.is_gray else "RGB"
    if p.alpha is not None:
        kind += "A"
    parts = [f"{p.width} × {p.height} px", f"{p.bit_depth}-bit {kind}"]
    if p.format:
        parts.append(p.format + (f" q{p.jpeg_quality}" if p.jpeg_quality else ""))
    return "  ·  ".join(parts)

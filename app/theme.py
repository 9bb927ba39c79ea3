"""A dark, neutral look for a photo tool (Fusion style, a grey palette, one accent colour)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor(214, 58, 72)  # RED-Net red

STYLE_SHEET = """
QMainWindow::separator { background: #1d1d1f; width: 3px; height: 3px; }
QDockWidget { titlebar-close-icon: none; font-weight: 600; }
QDockWidget::title { background: #2c2c2f; padding: 6px 10px; border-bottom: 1px solid #1c1c1e; }
QToolBar { background: #2c2c2f; border: none; border-bottom: 1px solid #1c1c1e; spacing: 2px; padding: 3px 6px; }
QToolBar QToolButton { padding: 4px; border-radius: 4px; }
QToolBar QToolButton:hover { background: #3a3a3e; }
QToolBar QToolButton:checked { background: #45454b; }
QStatusBar { background: #2c2c2f; color: #b8b8bd; border-top: 1px solid #1c1c1e; }
QStatusBar QLabel#statusValue { color: #c8c8cc; padding: 0 8px; border-left: 1px solid #3a3a3e; }
#taskPanel { background: #2a2a2d; }
QLabel#sectionHeader { color: #8d8d94; font-size: 8pt; font-weight: 700; letter-spacing: 1px; padding-top: 6px; }
QLabel#hint { color: #9a9aa0; }
QLabel#value { color: #e6e6ea; }
QFrame#suggestion { background: #3a2a2d; border: 1px solid #6a3a40; border-radius: 4px; }
QLabel#steps { color: #d0d0d4; padding: 6px 8px; background: #232326; border-radius: 4px; }
QToolButton#taskButton { background: #323236; border: 1px solid #3c3c41; border-radius: 6px; padding: 4px;
    color: #d6d6da; }
QToolButton#taskButton:hover { background: #3a3a3f; }
QToolButton#taskButton:checked { background: #4a2a2e; border-color: #d63a48; color: #ffffff; }
#taskPanel QToolButton { background: #323236; border: 1px solid #3c3c41; border-radius: 4px; padding: 3px 6px; }
#taskPanel QToolButton:hover { background: #3a3a3f; }
#taskPanel QToolButton:checked { background: #4a2a2e; border-color: #d63a48; }
#taskPanel QToolButton:disabled { color: #77777c; }
QPushButton#restoreButton { background: #c8323f; color: white; font-weight: 700; border: none;
    border-radius: 5px; padding: 6px 14px; }
QPushButton#restoreButton:hover { background: #d63a48; }
QPushButton#restoreButton:disabled { background: #4a3a3c; color: #9a8a8c; }
QProgressBar { border: 1px solid #3a3a3e; border-radius: 4px; background: #232326; text-align: center;
    height: 16px; color: #e0e0e4; }
QProgressBar::chunk { background: #c8323f; border-radius: 3px; }
QUndoView, QListView { background: #252528; border: none; }
QUndoView::item { padding: 3px 6px; }
QUndoView::item:selected { background: #5a2a30; color: #ffffff; }
"""


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    p = QPalette()
    window, base, text = QColor(42, 42, 45), QColor(34, 34, 37), QColor(226, 226, 230)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(46, 46, 50))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor(30, 30, 32))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor(52, 52, 56))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor(255, 90, 90))
    p.setColor(QPalette.ColorRole.Highlight, ACCENT)
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.Link, QColor(235, 110, 120))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(130, 130, 136))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 126))
    app.setPalette(p)
    app.setStyleSheet(STYLE_SHEET)

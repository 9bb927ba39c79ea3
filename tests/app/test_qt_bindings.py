"""The installed Qt bindings keep Python's reference counts straight. PySide6 6.12.0 dropped a
reference to None on every call of a method returning nothing: the window aborted ("Fatal Python
error: none_dealloc") after some 15,000 update()/setText() calls, minutes of painting a mask."""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtWidgets import QLabel

from app.main import bindings_warning

CALLS = 2000


def test_calls_that_return_nothing_leave_none_alone(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(CALLS):
        label.update()
        label.setText("x" if i % 2 else "y")
    # a few references may come and go with the interpreter's own work; a leak would be 2 per loop
    assert abs(sys.getrefcount(None) - before) < CALLS // 10


def test_the_app_names_broken_bindings_in_one_line(monkeypatch):
    monkeypatch.setattr(PySide6, "__version__", "6.12.0")
    line = bindings_warning()
    assert line is not None and "\n" not in line and "PySide6-Essentials!=6.12.0" in line
    monkeypatch.setattr(PySide6, "__version__", "6.11.3")
    assert bindings_warning() is None

"""Tools > Batch Restore after a run: the "Failures only" filter, a readable Status column, reviewing a
row by double-clicking it, and an error that goes once the fields are fixed. The runs are scripted:
`run_batch_job` is replaced by a job that reports the given file results (and writes each restored
file), so these tests need no model; test_batch_window.py runs the real `run_batch`."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle

from app.tools import batch_window
from rednet.engine.batch import BatchReport, FileResult
from tests.app.test_batch_window import open_batch

CORRUPT = "Image data is truncated or corrupt"


@pytest.fixture
def folders(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    return src, dst


def script_run(monkeypatch, outcomes: list[tuple[str, str, str]]) -> None:
    """The next runs report `outcomes`: (file name, status, reason) each."""

    def job(job, *, state, on_file=None):
        results = []
        for name, status, reason in outcomes:
            dst = job.output_dir / name if status == "ok" else None
            if dst is not None:
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(b"restored")
            results.append(FileResult(job.input_dir / name, dst, status, reason))
            on_file(results[-1])
        return BatchReport(results=results, total=len(results), elapsed_s=0.1)

    monkeypatch.setattr(batch_window, "run_batch_job", job)


def open_with_folders(window, qtbot, folders):
    dlg = open_batch(window, qtbot)
    dlg.input_edit.setText(str(folders[0]))
    dlg.output_edit.setText(str(folders[1]))
    return dlg


def run(dlg, qtbot, then=None) -> None:
    """Click Start and wait for the run to end; `then()` runs right after the click."""
    with qtbot.waitSignal(dlg.runner.done, timeout=10000):
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
        if then is not None:
            then()
    assert not dlg.error_label.isVisible(), dlg.error_label.text()


def shown_rows(dlg) -> list[str]:
    table = dlg.results_view.table
    return [table.item(i, 0).text() for i in range(table.rowCount()) if not table.isRowHidden(i)]


def double_click_row(qtbot, dlg, row: int) -> None:
    table = dlg.results_view.table
    where = table.visualItemRect(table.item(row, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)


def test_a_run_without_failures_shows_every_row(window, qtbot, monkeypatch, folders):
    dlg = open_with_folders(window, qtbot, folders)
    filter_box = dlg.results_view.failures_only
    script_run(monkeypatch, [("a.png", "ok", ""), ("b.png", "failed", CORRUPT)])
    run(dlg, qtbot)
    assert filter_box.isChecked() and shown_rows(dlg) == ["b.png"]  # failures first when there are some

    script_run(monkeypatch, [("a.png", "ok", ""), ("c.png", "ok", "")])
    run(dlg, qtbot)
    assert not filter_box.isChecked() and shown_rows(dlg) == ["a.png", "c.png"]

    # ticked during a run that then has no failures: off again at the end
    run(dlg, qtbot, then=lambda: filter_box.setChecked(True))
    assert not filter_box.isChecked() and shown_rows(dlg) == ["a.png", "c.png"]


def test_the_status_column_fits_its_text(window, qtbot, monkeypatch, folders):
    dlg = open_with_folders(window, qtbot, folders)
    assert (dlg.width(), dlg.height()) == (980, 640)  # the default size
    outcomes = [("a.png", "ok", ""), ("b.png", "skipped", "output exists"), ("c.png", "failed", CORRUPT)]
    script_run(monkeypatch, outcomes)
    # "Failures only" ticked while the rows arrive (hidden but the failure), then unticked: the column
    # must grow to the rows that come back.
    run(dlg, qtbot, then=lambda: dlg.results_view.failures_only.setChecked(True))
    assert shown_rows(dlg) == ["c.png"]
    qtbot.mouseClick(dlg.results_view.failures_only, Qt.MouseButton.LeftButton)
    table = dlg.results_view.table
    assert shown_rows(dlg) == ["a.png", "b.png", "c.png"]
    # an item's text is elided when wider than its cell less the style's text margins
    margins = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1)
    width = table.horizontalHeader().sectionSize(1)
    assert width >= table.fontMetrics().horizontalAdvance("Restored") + margins
    for row in range(table.rowCount()):
        assert width >= table.fontMetrics().horizontalAdvance(table.item(row, 1).text()) + margins


def test_double_clicking_a_restored_row_asks_for_review(window, qtbot, monkeypatch, folders):
    src, dst = folders
    dlg = open_with_folders(window, qtbot, folders)
    outcomes = [("a.png", "ok", ""), ("b.png", "failed", CORRUPT), ("c.png", "skipped", "output exists")]
    script_run(monkeypatch, outcomes)
    run(dlg, qtbot)
    qtbot.mouseClick(dlg.results_view.failures_only, Qt.MouseButton.LeftButton)  # show every row
    assert shown_rows(dlg) == ["a.png", "b.png", "c.png"]

    with qtbot.waitSignal(dlg.review_requested, timeout=2000) as review:
        double_click_row(qtbot, dlg, 0)
    assert review.args == [src / "a.png", dst / "a.png"]
    assert all(isinstance(p, Path) for p in review.args)

    explanation = dlg.results_view.report_label
    with qtbot.assertNotEmitted(dlg.review_requested):
        double_click_row(qtbot, dlg, 1)
    assert explanation.isVisible()
    assert explanation.text() == f"b.png failed ({CORRUPT}): there is no result to compare."
    with qtbot.assertNotEmitted(dlg.review_requested):
        double_click_row(qtbot, dlg, 2)
    assert explanation.text().startswith("c.png was skipped (Output exists")

    (dst / "a.png").unlink()  # moved away since the run
    with qtbot.assertNotEmitted(dlg.review_requested):
        double_click_row(qtbot, dlg, 0)
    assert explanation.text() == "a.png: its result is no longer in the output folder."


def test_fixing_the_folder_takes_the_error_away(window, qtbot, monkeypatch, folders):
    src, _ = folders
    dlg = open_with_folders(window, qtbot, folders)
    dlg.input_edit.setText(str(src.parent / "nowhere"))
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert dlg.error_label.isVisible() and "input folder not found" in dlg.error_label.text()

    dlg.input_edit.clear()
    qtbot.keyClicks(dlg.input_edit, str(src))
    assert not dlg.error_label.isVisible()

    # an error of a run (no model, say) goes as well when a field changes
    dlg.show_error("No shipped denoise model")
    dlg.template_edit.setText("{stem}-clean")
    assert not dlg.error_label.isVisible()
    script_run(monkeypatch, [("a.png", "ok", "")])
    run(dlg, qtbot)
    assert dlg.report.ok == 1

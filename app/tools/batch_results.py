"""The right-hand column of Tools > Batch Restore: the run's progress, a thumbnail of the last restored
photo, the counts, and the results table (one row per file: restored, skipped or failed with the
reason; a "Failures only" filter; Save Report). Double-clicking a restored file's row asks for it
to be reviewed (`review_requested`); any other row says why there is nothing to review.

The batch window tells it what happens (`begin`, `show_progress`, `add`, `finish`, ...); it only shows.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.messages import file_reason
from app.widgets.forms import section
from rednet.engine.batch import BatchReport, FileResult
from rednet.progress import Progress, format_eta

THUMB_SIZE = QSize(220, 150)
STATUS_TEXT = {"ok": "Restored", "failed": "Failed", "skipped": "Skipped"}
STATUS_COLOUR = {"failed": QColor(255, 140, 140), "skipped": QColor(170, 170, 176)}
STATUS_COLUMN = 1
_PROGRESS_RE = re.compile(r"^file (\d+) of (\d+): (.+?)(?: \((.*)\))?$")  # run_batch's progress messages


def _label(text: str, name: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


class BatchResults(QWidget):
    save_requested = Signal()
    review_requested = Signal(object, object)  # a restored file's row was double-clicked: (source, result) Paths

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.total = 0  # files planned, once the run said
        self._results: list[FileResult] = []  # one per table row
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(6)
        col.addWidget(section("Progress"))
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("")
        col.addWidget(self.progress)
        self.current_label = _label("Ready", "value", self)
        col.addWidget(self.current_label)
        self.eta_label = _label("", "hint", self)
        col.addWidget(self.eta_label)

        row = QHBoxLayout()
        row.setSpacing(12)
        self.thumbnail = QLabel(self)
        self.thumbnail.setObjectName("batchThumbnail")
        self.thumbnail.setFixedSize(THUMB_SIZE.width() + 8, THUMB_SIZE.height() + 8)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setStyleSheet(
            "QLabel#batchThumbnail { background: #1e1e21; border: 1px solid #3a3a3e;"
            " border-radius: 4px; color: #77777c; }"
        )
        self.thumbnail.setText("Last result")
        row.addWidget(self.thumbnail)
        info = QVBoxLayout()
        self.thumb_caption = _label("", "value", self)
        self.counts_label = _label("", "hint", self)
        info.addWidget(self.thumb_caption)
        info.addWidget(self.counts_label)
        info.addStretch(1)
        row.addLayout(info, 1)
        col.addLayout(row)

        col.addWidget(section("Results"))
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["File", "Status", "Reason"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(STATUS_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        self.table.setColumnWidth(0, 200)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.table.setToolTip("Double-click a restored photo to compare it with its original in the main window")
        self.table.cellDoubleClicked.connect(self._row_double_clicked)
        col.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.failures_only = QCheckBox("Failures only", self)
        self.failures_only.toggled.connect(self._apply_filter)
        self.save_report_button = QPushButton("Save Report…", self)
        self.save_report_button.setToolTip("Save every file's result (input, output, status, reason, seconds) as CSV")
        self.save_report_button.clicked.connect(self.save_requested)
        row.addWidget(self.failures_only)
        row.addStretch(1)
        row.addWidget(self.save_report_button)
        col.addLayout(row)
        self.report_label = _label("", "hint", self)
        col.addWidget(self.report_label)

    # ------------------------------------------------------------------ a run
    def begin(self) -> None:
        """A new run: everything of the last one cleared, the filter too (its rows may all be restored)."""
        self.total, self._results = 0, []
        self.table.setRowCount(0)
        self.failures_only.setChecked(False)
        self.report_label.clear()
        self.thumbnail.clear()
        self.thumbnail.setText("Last result")
        self.thumb_caption.clear()
        self._update_counts()
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self.current_label.setText("Listing the photos…")
        self.eta_label.setText("")

    def show_progress(self, p: Progress) -> None:
        self.progress.setValue(int(round(p.fraction * 1000)))
        m = _PROGRESS_RE.match(p.message or "")
        if m:
            i, n, name, detail = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
            self.total = n
            self.progress.setFormat(f"File {i} of {n}")
            detail = "" if detail in (None, "tile 1 of 1") else f" — {detail}"
            self.current_label.setText(f"Restoring {name}{detail}")
        elif p.message:
            self.current_label.setText(p.message[:1].upper() + p.message[1:])
        self.eta_label.setText(format_eta(p.eta_s, words=True) if p.fraction < 1 else "")

    def add(self, r: FileResult, name: str) -> None:
        """A row for one file's result; `name` is the file as shown (relative to the input folder)."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        self._results.append(r)
        reason = file_reason(r.reason) if r.reason else (f"{r.seconds:.1f} s" if r.status == "ok" else "")
        items = [
            QTableWidgetItem(name),
            QTableWidgetItem(STATUS_TEXT.get(r.status, r.status)),
            QTableWidgetItem(reason),
        ]
        items[0].setToolTip(f"{r.src}\n→ {r.dst}" if r.dst else str(r.src))
        items[2].setToolTip("\n".join([reason, *r.warnings]).strip())
        colour = STATUS_COLOUR.get(r.status)
        for col, item in enumerate(items):
            if colour is not None:
                item.setForeground(colour)
            self.table.setItem(row, col, item)
        self.table.setRowHidden(row, self.failures_only.isChecked() and r.status != "failed")
        if not self.failures_only.isChecked() or r.status == "failed":
            self.table.scrollToItem(items[0])
        self._update_counts()
        if self.total and row + 1 < self.total:  # before the next file's progress arrives
            self.progress.setFormat(f"File {row + 2} of {self.total}")

    def show_thumbnail(self, image: QImage, path: str | Path | None) -> None:
        self.thumbnail.setPixmap(QPixmap.fromImage(image))
        if path is not None:
            self.thumb_caption.setText(f"{Path(path).name}\n{image.width()} × {image.height()} preview")

    def cancelling(self) -> None:
        self.current_label.setText("Cancelling…")

    def finish(self, report: BatchReport, recursive: bool) -> None:
        self.total = report.total
        c = report.counts
        self.progress.setValue(1000)
        self.progress.setFormat(f"{report.total} of {report.total}" if report.total else "No photos")
        if report.total == 0:
            self.current_label.setText(
                "No photos found in the input folder"
                + ("" if recursive else " (turn on “Include subfolders” to look deeper)")
            )
        else:
            self.current_label.setText(
                f"Done: {c['ok']} restored, {c['skipped']} skipped, {c['failed']} failed in {report.elapsed_s:.1f} s"
            )
        # Failures first when there are some; with none, the filter would leave an empty table.
        self.failures_only.setChecked(bool(c["failed"]))
        self._update_counts()

    def stopped(self) -> None:
        """The run failed as a whole (before any file, or part-way)."""
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.current_label.setText("Stopped" if self._results else "Not started")

    def cancelled(self, report: BatchReport) -> None:
        c = report.counts
        self.progress.setFormat(
            f"Cancelled at file {len(self._results) + 1} of {report.total}" if c["not_done"] else "Cancelled"
        )
        self.current_label.setText(
            f"Cancelled: {c['ok']} restored, {c['not_done']} not done. Finished files "
            "are complete; nothing partial was written."
        )
        self.eta_label.setText("")
        if not c["failed"]:  # the filter may have been ticked during the run
            self.failures_only.setChecked(False)
        self._update_counts()

    # ------------------------------------------------------------------ the table
    def _update_counts(self) -> None:
        c = {"ok": 0, "failed": 0, "skipped": 0}
        for r in self._results:
            c[r.status] = c.get(r.status, 0) + 1
        total = f" of {self.total}" if self.total else ""
        self.counts_label.setText(
            f"{len(self._results)}{total} done: {c['ok']} restored, {c['skipped']} skipped, {c['failed']} failed"
        )

    def _apply_filter(self, on: bool) -> None:
        for row, r in enumerate(self._results):
            self.table.setRowHidden(row, on and r.status != "failed")
        # ResizeToContents measures only the rows shown, and not again when hidden rows come back.
        self.table.resizeColumnToContents(STATUS_COLUMN)
        self.table.scrollToTop()

    def _row_double_clicked(self, row: int, _column: int) -> None:
        r = self._results[row]
        name, reason = self.table.item(row, 0).text(), self.table.item(row, 2).text()
        if r.status == "ok" and r.dst is not None and Path(r.dst).is_file():
            self.review_requested.emit(Path(r.src), Path(r.dst))
        elif r.status == "ok":
            self.report_label.setText(f"{name}: its result is no longer in the output folder.")
        elif r.status == "failed":
            self.report_label.setText(f"{name} failed ({reason}): there is no result to compare.")
        else:
            self.report_label.setText(f"{name} was skipped ({reason}): this run restored nothing for it.")

    def failed_rows(self) -> list[tuple[str, str]]:
        """(file, reason) of every failed row."""
        return [
            (self.table.item(i, 0).text(), self.table.item(i, 2).text())
            for i in range(self.table.rowCount())
            if self._results[i].status == "failed"
        ]

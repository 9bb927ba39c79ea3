"""Progress output for the command line: a redrawn bar on a terminal, plain lines otherwise.

Writes go through `console.write`: a closed or full stream is ignored, never an error of the job.
"""

from __future__ import annotations

import sys
import time

from rednet.cli.console import write
from rednet.progress import Progress, format_eta


class ProgressPrinter:
    """A callback for TaskState: a live bar on a TTY, a line every few seconds when piped/logged."""

    def __init__(self, label: str = "", stream=None, interval_s: float = 5.0):
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        try:
            self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        except (OSError, ValueError):  # a closed stream
            self.tty = False
        self.interval_s = interval_s
        self._last_line = 0.0  # set by _due on the first report
        self._drawn = False
        self._finished = False
        self._printed = False
        self._started: float | None = None

    def __call__(self, p: Progress) -> None:
        if self.tty:
            width = 28
            filled = int(p.fraction * width)
            bar = "#" * filled + "-" * (width - filled)
            write(
                self.stream,
                f"\r{self.label} [{bar}] {p.fraction * 100:5.1f}%  ETA {format_eta(p.eta_s)}  {p.message[:40]:<40}",
            )
            self._drawn = True
        elif self._due(p):
            write(self.stream, f"{self.label} {p.fraction * 100:.0f}% ETA {format_eta(p.eta_s)} {p.message}\n")

    def _due(self, p: Progress) -> bool:
        """Plain lines: the first after `interval_s`, then one per interval, and one final "100%" line
        only for jobs that printed progress before (a quick job prints nothing but its result)."""
        now = time.monotonic()
        if self._started is None:
            self._started = self._last_line = now
        if p.fraction >= 1.0:
            due = self._printed and not self._finished
            self._finished = True
        else:
            due = now - self._last_line >= self.interval_s
        if due:
            self._last_line, self._printed = now, True
        return due

    def close(self) -> None:
        if self._drawn:
            write(self.stream, "\n")
            self._drawn = False

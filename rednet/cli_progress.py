"""Progress output for the command line: a redrawn bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time

from .progress import Progress


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressPrinter:
    """A callback for TaskState: a live bar on a TTY, a line every few seconds when piped/logged."""

    def __init__(self, label: str = "", stream=None, interval_s: float = 5.0):
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval_s = interval_s
        self._last_line = 0.0
        self._drawn = False
        self._finished = False

    def __call__(self, p: Progress) -> None:
        if self.tty:
            width = 28
            filled = int(p.fraction * width)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {p.fraction * 100:5.1f}%  ETA {format_eta(p.eta_s)}  {p.message[:40]:<40}")
            self.stream.flush()
            self._drawn = True
        elif time.monotonic() - self._last_line >= self.interval_s or (p.fraction >= 1.0 and not self._finished):
            self._finished = p.fraction >= 1.0  # one "100%" line, however often the end is reported
            self._last_line = time.monotonic()
            self.stream.write(f"{self.label} {p.fraction * 100:.0f}% ETA {format_eta(p.eta_s)} {p.message}\n")
            self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

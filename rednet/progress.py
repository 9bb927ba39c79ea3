"""Progress reporting and cancellation shared by every long-running core function.

A `TaskState` is handed to a core function by whoever runs it (the CLI, or the GUI's worker thread).
The function reports progress with `state.report(fraction, message)` and calls `state.check()` at
safe points (between tiles, iterations or files); `check()` raises `Cancelled` once someone has
called `state.cancel()` from any thread. The callback runs on the worker's thread: the GUI forwards
it over a queued signal.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable


class Cancelled(Exception):
    """Raised inside a core function when its TaskState was cancelled."""


@dataclass(frozen=True)
class Progress:
    fraction: float  # 0..1 of the whole job
    message: str
    elapsed_s: float
    eta_s: float | None  # None until there is enough progress to extrapolate


ProgressCallback = Callable[[Progress], None]


class TaskState:
    """Thread-safe progress sink and cancel flag for one job."""

    def __init__(self, on_progress: ProgressCallback | None = None):
        self._on_progress = on_progress
        self._cancel = threading.Event()
        self._pause = threading.Event()
        self._start = time.monotonic()
        self.last: Progress | None = None

    # --- cancellation ---------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()
        self._pause.clear()  # a paused job must wake up to notice it was cancelled

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise `Cancelled` if cancelled; block here while paused."""
        while self._pause.is_set() and not self._cancel.is_set():
            time.sleep(0.05)
        if self._cancel.is_set():
            raise Cancelled()

    # --- pausing (used by long training runs) ----------------------------------------------------
    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    # --- progress --------------------------------------------------------------------------------
    def report(self, fraction: float, message: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        elapsed = time.monotonic() - self._start
        eta = elapsed * (1.0 - fraction) / fraction if fraction > 0.01 else None
        self.last = Progress(fraction, message, elapsed, eta)
        if self._on_progress is not None:
            self._on_progress(self.last)

    def span(self, start: float, end: float) -> "SubState":
        """A view that maps 0..1 progress onto start..end of this job (for multi-step work)."""
        return SubState(self, start, end)


class SubState:
    """A slice of a parent TaskState's progress range; cancel and pause go to the parent."""

    def __init__(self, parent: "TaskState | SubState", start: float, end: float):
        self._parent, self._start, self._end = parent, start, end

    def report(self, fraction: float, message: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        self._parent.report(self._start + (self._end - self._start) * fraction, message)

    def check(self) -> None:
        self._parent.check()

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled

    def cancel(self) -> None:
        self._parent.cancel()

    def span(self, start: float, end: float) -> "SubState":
        return SubState(self, start, end)


def ensure_state(state: "TaskState | SubState | None") -> "TaskState | SubState":
    """Core functions accept `state=None` for convenience; give them a silent one."""
    return state if state is not None else TaskState()


def format_eta(seconds: float | None, *, words: bool = False) -> str:
    """Time left, for a progress line: "1:05:09" / "03:07" (a terminal's fixed-width clock), or with
    `words` "3 min 07 s left" (a window's label); None (not yet known) as "--:--" / "estimating time left…"."""
    if seconds is None:
        return "estimating time left…" if words else "--:--"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    if not words:
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
    if h:
        return f"{h} h {m:02d} min left"
    return f"{m} min {s:02d} s left" if m else f"{s} s left"

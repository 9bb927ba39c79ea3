"""A small generic runner (in the spirit of Orange3's ConcurrentMixin): it calls a plain function
`fn(*args, state=TaskState, **kwargs)` on a worker thread and hands back its progress, result or
error over queued signals, so slots always run on the GUI thread.

Cancelling sets the TaskState's flag; the function raises `Cancelled` at its next check (between
tiles, or layers) and the runner emits `cancelled`. A result that arrives after cancel() was called
is dropped, so a cancelled run never changes anything. Runs are serialized: starting a new one
cancels the previous one, whose late signals are ignored. A function may hand over partial results
with `state.partial(value)` (the one generic channel: a finished tile, say); they arrive as
`partial`.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot

from rednet.progress import Cancelled, Progress, TaskState

PROGRESS_INTERVAL_S = 0.03  # at most ~30 progress signals a second
WORKER_NICENESS = 5  # Linux: how much lower than the GUI thread the worker (and its compute threads) run


def _lower_worker_priority() -> None:
    """Let the GUI thread win the CPU when both want it (the worker keeps all idle CPU time).

    Qt's thread priorities work on Windows and macOS; on Linux they are ignored for normal threads,
    but the nice value is per thread there, and threads the worker starts (PyTorch's compute pool)
    inherit it.
    """
    QThread.currentThread().setPriority(QThread.Priority.LowPriority)
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            current = os.getpriority(os.PRIO_PROCESS, tid)
            if current < WORKER_NICENESS:
                os.setpriority(os.PRIO_PROCESS, tid, WORKER_NICENESS)
        except (AttributeError, OSError):
            pass


class WorkerState(TaskState):
    """The TaskState a Runner hands its function: `partial(value)` sends a partial result to the GUI
    thread (Runner.partial), so the core function's callbacks never touch a widget."""

    def __init__(self, on_progress, on_partial):
        super().__init__(on_progress)
        self._on_partial = on_partial

    def partial(self, value: Any) -> None:
        if not self.cancelled:
            self._on_partial(value)


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits these, Qt queues them to the GUI thread."""

    partial = Signal(int, object)
    progress = Signal(int, object)
    result = Signal(int, object)
    error = Signal(int, object, str)
    cancelled = Signal(int)


class _Job(QRunnable):
    def __init__(self, job_id: int, relay: _Relay, state: TaskState, fn: Callable, args, kwargs):
        super().__init__()
        self.setAutoDelete(True)
        self.job_id, self.relay, self.state = job_id, relay, state
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def run(self) -> None:
        _lower_worker_priority()
        try:
            result = self.fn(*self.args, state=self.state, **self.kwargs)
        except Cancelled:
            self.relay.cancelled.emit(self.job_id)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a signal, never a crash
            if self.state.cancelled:
                self.relay.cancelled.emit(self.job_id)
            else:
                self.relay.error.emit(self.job_id, exc, traceback.format_exc())
        else:
            if self.state.cancelled:
                self.relay.cancelled.emit(self.job_id)
            else:
                self.relay.result.emit(self.job_id, result)


class Runner(QObject):
    started = Signal()
    progress = Signal(object)  # rednet.progress.Progress
    partial = Signal(object)  # what the function handed to state.partial (never after cancel())
    finished = Signal(object)  # the function's return value
    failed = Signal(object)  # the exception (its traceback text is in `last_traceback`)
    cancelled = Signal()
    done = Signal()  # after any of finished / failed / cancelled

    _ids = itertools.count(1)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        q = Qt.ConnectionType.QueuedConnection
        self._relay.progress.connect(self._on_progress, q)
        self._relay.partial.connect(self._on_partial, q)
        self._relay.result.connect(self._on_result, q)
        self._relay.error.connect(self._on_error, q)
        self._relay.cancelled.connect(self._on_cancelled, q)
        self._job_id = 0
        self._state: TaskState | None = None
        self.last_traceback = ""
        self.last_progress: Progress | None = None

    @property
    def running(self) -> bool:
        return self._state is not None

    @property
    def state(self) -> TaskState | None:
        return self._state

    def start(self, fn: Callable[..., Any], *args, **kwargs) -> TaskState:
        """Run fn(*args, state=..., **kwargs) on the worker thread; returns its TaskState."""
        if self._state is not None:
            self._state.cancel()
        job_id = next(self._ids)
        relay = self._relay
        last_emit = [0.0]
        lock = threading.Lock()

        def on_progress(p: Progress) -> None:
            now = time.monotonic()
            with lock:
                if p.fraction < 1.0 and now - last_emit[0] < PROGRESS_INTERVAL_S:
                    return
                last_emit[0] = now
            relay.progress.emit(job_id, p)

        state = WorkerState(on_progress, lambda value: relay.partial.emit(job_id, value))
        self._job_id, self._state = job_id, state
        self.last_progress = None
        self.started.emit()
        self.pool.start(_Job(job_id, relay, state, fn, args, kwargs))
        return state

    def cancel(self) -> None:
        if self._state is not None:
            self._state.cancel()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the worker is idle (for shutdown and tests)."""
        return self.pool.waitForDone(timeout_ms)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.cancel()
        self.pool.waitForDone(timeout_ms)

    # ------------------------------------------------------------------ GUI-thread slots
    @Slot(int, object)
    def _on_progress(self, job_id: int, p: Progress) -> None:
        if job_id == self._job_id and self._state is not None and not self._state.cancelled:
            self.last_progress = p
            self.progress.emit(p)

    @Slot(int, object)
    def _on_partial(self, job_id: int, value: Any) -> None:
        if job_id == self._job_id and self._state is not None and not self._state.cancelled:
            self.partial.emit(value)

    def _finish(self, job_id: int) -> bool:
        if job_id != self._job_id or self._state is None:
            return False
        self._state = None
        return True

    @Slot(int, object)
    def _on_result(self, job_id: int, result: Any) -> None:
        # Cancel pressed after the worker finished but before its result reached this thread: the
        # result is dropped, as for any result that arrives after cancel().
        cancelled = self._state is not None and self._state.cancelled
        if self._finish(job_id):
            if cancelled:
                self.cancelled.emit()
            else:
                self.finished.emit(result)
            self.done.emit()

    @Slot(int, object, str)
    def _on_error(self, job_id: int, exc: BaseException, tb: str) -> None:
        if self._finish(job_id):
            self.last_traceback = tb
            self.failed.emit(exc)
            self.done.emit()

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        if self._finish(job_id):
            self.cancelled.emit()
            self.done.emit()


def plain(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adapt a function that takes no TaskState (a quick measurement) for `Runner.start`."""

    def call(*args, state: TaskState, **kwargs):
        state.check()
        return fn(*args, **kwargs)

    call.__name__ = getattr(fn, "__name__", "call")
    return call

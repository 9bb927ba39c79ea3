"""Autosave: a crash or kill loses at most the last INTERVAL_MS of work.

Every INTERVAL_MS (and right after each finished restore), when the open document has changes the
autosave does not hold yet, its state is written into this window's session folder (the files:
app.services.autosave_store).

The GUI thread only takes a snapshot (a shared copy of the mask image and a reference to the
immutable result photo); encoding and writing run on one worker thread (a `Runner` with a
single-thread pool), so nothing is ever written twice at once and the event loop never waits.
Requests that arrive while a write is running are coalesced into one more write afterwards.

A clean save or a clean close (after the unsaved-result prompt) removes the folder. A failure to
autosave (disk full, read-only folder) is reported once through `notice` (the window shows it in the
status bar, never in a dialog); the next tick tries again. Work recovered after a crash
(app.dialogs.recovery) is `adopt`ed: its folder becomes this window's session folder, so a second
crash loses nothing either. Several instances of the app each own their own folder.

The window tells the Autosaver what happens (`attach`, `restore_finished`, `document_saved`,
`shutdown`); the Autosaver reports through signals and never calls the window.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QObject, QTimer, Signal
from PySide6.QtGui import QImage

from app import APP_ID
from app.services.autosave_store import (
    FORMAT_VERSION,
    LOCK_FILE,
    Session,
    autosave_root,
    failure_reason,
    new_lock,
    remove_session,
    source_stat,
    write_session,
)
from app.services.runner import Runner

if TYPE_CHECKING:
    from app.document.document import Document

log = logging.getLogger(__name__)

INTERVAL_MS = 30_000  # how often unsaved changes are written (a crash loses at most this much)
SHUTDOWN_WAIT_MS = 10_000  # a clean close waits this long for a write in flight
NOTICE_MS = 30_000  # how long the window shows a notice


class Autosaver(QObject):
    """Writes the attached document into this window's session folder."""

    saved = Signal(object)  # the session folder, after each completed write
    cleared = Signal()  # after the session folder was removed
    failed = Signal(str)  # the reason a write failed
    notice = Signal(str)  # a line for the status bar (a failure, once until a write works again)

    def __init__(self, parent: QObject | None = None, interval_ms: int | None = None, root: str | Path | None = None):
        super().__init__(parent)
        self._root = Path(root) if root is not None else None
        self.doc: Document | None = None
        self._session: Session | None = None
        self._source_stat: tuple[int, int] | None = None
        self._dirty = False  # changes the autosave does not hold yet
        self._pending = False  # a write was asked for while another job ran
        self._generation = 0
        self._job: str | None = None
        self._job_result = None  # the photo the write in flight saves
        self._on_disk: tuple[weakref.ref, str] | None = None  # (result photo, its file) in the folder
        self._failure_shown = False
        self.runner = Runner(self)
        self.runner.finished.connect(self._job_finished)
        self.runner.failed.connect(self._job_failed)
        self.runner.done.connect(self._job_done)
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS if interval_ms is None else int(interval_ms))
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    # ------------------------------------------------------------------ state
    @property
    def root(self) -> Path:
        return self._root if self._root is not None else autosave_root()

    @property
    def folder(self) -> Path | None:
        """This window's session folder (None until the first write)."""
        return self._session.folder if self._session is not None else None

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def busy(self) -> bool:
        return self.runner.running

    def set_interval(self, ms: int) -> None:
        self.timer.setInterval(int(ms))

    # ------------------------------------------------------------------ what the window tells us
    def attach(self, doc: "Document") -> None:
        """A new document is open: the previous one's fate was settled (saved or discarded)."""
        self.clear()
        self.doc = doc
        self._dirty = False
        self._source_stat = source_stat(doc.source_path)
        doc.undo_stack.indexChanged.connect(self.mark_dirty)

    def mark_dirty(self, *_args) -> None:
        self._dirty = True

    def restore_finished(self) -> None:
        """A restore step was applied: write it now rather than at the next tick."""
        self._dirty = True
        self.save_now()

    def document_saved(self) -> None:
        """A clean save: the autosave is no longer needed."""
        self._dirty = False
        self.clear()

    def adopt(
        self, folder: Path, lock: QLockFile, result=None, result_file: str | None = None, *, dirty: bool = False
    ) -> None:
        """Recovered work is open: the folder it came from (whose lock we hold) holds exactly the
        attached document's state and becomes this window's session folder."""
        self.clear()
        self._session = Session(folder, lock)
        if result is not None and result_file:
            self._on_disk = (weakref.ref(result), result_file)
        self._dirty = dirty

    def shutdown(self, clear: bool = True, timeout_ms: int = SHUTDOWN_WAIT_MS) -> None:
        """The window closes: on a clean close remove the session folder, and wait for the worker."""
        self.timer.stop()
        if clear:
            self.clear()
        if not self.runner.wait(timeout_ms):
            log.warning("autosave: the worker did not finish within %d ms", timeout_ms)

    # ------------------------------------------------------------------ writing
    def tick(self) -> None:
        if self._dirty:
            self.save_now()

    def save_now(self) -> bool:
        """Start writing the document's current state (True when a write was started)."""
        doc = self.doc
        if doc is None or not self._dirty:
            return False
        if self.runner.running:
            self._pending = True
            return False
        try:
            session = self._ensure_session()
        except OSError as exc:
            self._report_failure(exc)
            return False
        result = doc.current if (doc.has_result or doc.source_path is None) else None
        result_file = None
        if result is not None and self._on_disk is not None and self._on_disk[0]() is result:
            result_file = self._on_disk[1]
        self._generation += 1
        self._dirty = False
        self._pending = False
        self._job, self._job_result = "write", result
        mask_image = QImage(doc.mask.image)  # shares the pixels; painting detaches the layer's copy
        self.runner.start(
            write_session, session.folder, self._generation, mask_image, result, result_file, self._meta(doc)
        )
        return True

    def _meta(self, doc: "Document") -> dict:
        st = self._source_stat
        return {
            "format": FORMAT_VERSION,
            "app": APP_ID,
            "timestamp": time.time(),
            "name": doc.display_name,
            "source": str(doc.source_path) if doc.source_path is not None else None,
            "source_size": st[0] if st else None,
            "source_mtime_ns": st[1] if st else None,
            "original_width": doc.original.width,
            "original_height": doc.original.height,
            "width": doc.current.width,
            "height": doc.current.height,
            "bit_depth": doc.current.bit_depth,
            "steps": list(doc.steps),
            "unsaved": doc.has_unsaved_result,
            "result_format": doc.current.format,
            "result_jpeg_quality": doc.current.jpeg_quality,
        }

    def clear(self) -> None:
        """Remove this window's session folder (queued behind a write in flight, which is cancelled)."""
        self._pending = False
        self._on_disk = None
        session, self._session = self._session, None
        if session is None:
            return
        if not session.lock.isLocked():
            return  # no longer ours
        self._job, self._job_result = "clear", None
        self.runner.start(remove_session, session.folder, session.lock)

    def _ensure_session(self) -> Session:
        s = self._session
        if s is not None and s.lock.isLocked() and s.folder.is_dir():
            return s
        self._session, self._on_disk = None, None
        root = self.root
        root.mkdir(parents=True, exist_ok=True)
        folder = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
        folder.mkdir()
        lock = new_lock(folder / LOCK_FILE)
        if not lock.tryLock(0):
            with contextlib.suppress(OSError):
                folder.rmdir()
            raise OSError(errno.EACCES, f"cannot create a lock file in {folder}")
        self._session = Session(folder, lock)
        return self._session

    def _job_finished(self, info: dict) -> None:
        if info.get("kind") == "write":
            self._failure_shown = False
            photo = self._job_result
            if info.get("cleared") or info.get("result") is None or photo is None:
                self._on_disk = None
            else:
                self._on_disk = (weakref.ref(photo), info["result"])
            if self._session is not None:
                self.saved.emit(self._session.folder)
        else:
            self.cleared.emit()

    def _job_failed(self, exc: BaseException) -> None:
        reason = failure_reason(exc)
        log.warning("autosave failed: %s", exc)
        if self._job == "write":
            self._dirty = True  # try again at the next tick
            self._pending = False
        self._report_failure(exc)
        self.failed.emit(reason)

    def _job_done(self) -> None:
        self._job, self._job_result = None, None
        if self._pending and self._dirty:
            self.save_now()

    def _report_failure(self, exc: BaseException) -> None:
        if self._failure_shown:
            return
        self._failure_shown = True
        self.notice.emit(f"Autosave failed: {failure_reason(exc)}. Save your work to keep it.")

"""Autosave and crash recovery: a crash or kill loses at most the last INTERVAL_MS of work.

Every INTERVAL_MS (and right after each finished restore), when the open photo has changes the
autosave does not hold yet, the window's state is written into a *session folder* under
`rednet.paths.user_data_dir() / "autosave"`:

    autosave/20250302-143012-4711-a1b2c3/
        lock            QLockFile: a running RED-Net Studio owns this folder
        mask-7.png      the inpainting mask (rednet.io.imageio.write_mask: atomic), when one is painted
        result-5.png    the current result (rednet.io.imageio.write_photo: atomic; 16-bit where the
                        photo is, alpha and gray kept), written again only when the result changed
        session.json    written last (atomically): source path, its size and mtime, the task
                        history labels, a timestamp, and which mask/result files belong to it

session.json is the commit record: files are numbered by generation and it names the ones that
belong together, so a kill at any moment leaves either the previous or the new complete state.

The GUI thread only takes a snapshot (a shared copy of the mask image and a reference to the
immutable result photo); encoding and writing run on one worker thread (a `Runner` with a
single-thread pool), so nothing is ever written twice at once and the event loop never waits.
Requests that arrive while a write is running are coalesced into one more write afterwards.

A clean save or a clean close (after the unsaved-result prompt) removes the folder. A failure to
autosave (disk full, read-only folder) shows once in the status bar, never in a dialog; the next
tick tries again.

On the next start, session folders whose lock is free (the process that held it died) are offered
back: "Recover unsaved work from <time> for <file>?" (Recover / Discard). Recover reopens the
source photo when it is still there unchanged (same size and modification time) and applies the
saved result and mask on top; otherwise it opens the saved result alone, marked unsaved. The
recovered folder becomes this window's session folder, so a second crash loses nothing either.
Several instances of the app each own their own folder and never touch another's.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QObject, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox, QWidget

from rednet.io import imageio

from rednet.io import safe_json
from rednet.paths import user_data_dir
from rednet.io.temp_files import temp_path

from app import APP_ID

from app.dialogs import prompts as dialogs
from app.canvas.mask_layer import image_to_mask
from app.services.runner import Runner

if TYPE_CHECKING:
    from app.document.document import Document
    from app.main_window import MainWindow

log = logging.getLogger(__name__)

INTERVAL_MS = 30_000  # how often unsaved changes are written (a crash loses at most this much)
SHUTDOWN_WAIT_MS = 10_000  # a clean close waits this long for a write in flight
FOLDER_NAME = "autosave"
SESSION_FILE = "session.json"
LOCK_FILE = "lock"
FORMAT_VERSION = 1


def autosave_root() -> Path:
    return user_data_dir() / FOLDER_NAME


# ================================================================================ the recovery question
def ask_recover(parent: QWidget | None, when: str, name: str, details: str = "") -> str:
    """'recover', 'discard' or 'later' (the box was closed without choosing). Tests replace this."""
    box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                      f"Recover unsaved work from {when} for {name}?", parent=parent)
    if details:
        box.setInformativeText(details)
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(recover)
    box.exec()
    clicked = box.clickedButton()
    if clicked == recover:
        return "recover"
    return "discard" if clicked == discard else "later"


def describe_time(timestamp: float, now: float | None = None) -> str:
    """'14:32' for today, '2025-03-01 14:32' otherwise."""
    t = datetime.fromtimestamp(timestamp)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return t.strftime("%H:%M") if t.date() == today else t.strftime("%Y-%m-%d %H:%M")


# ================================================================================ files (any thread)
def _write_json(path: Path, data: dict) -> None:
    """Write JSON atomically: a temporary file in the same folder, fsynced, renamed over `path`."""
    tmp = temp_path(path)  # ".<name>.rednet-<host>-<pid>-<random>.tmp"
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_json(folder: Path) -> dict | None:
    path = folder / SESSION_FILE
    if not os.path.lexists(path):
        return None
    try:  # regular files only (a pipe would hang the start-up), with a size and a nesting limit
        data = safe_json.load_file(path, "autosave", max_depth=safe_json.MAX_DEPTH, max_bytes=1 << 20)
    except (OSError, ValueError) as exc:
        log.warning("autosave %s: unreadable %s (%s)", folder, SESSION_FILE, exc)
        return None
    return data if isinstance(data, dict) else None


def _is_data_file(name: str) -> bool:
    return (name.startswith(("mask-", "result-")) and name.endswith(".png")) or \
        (name.startswith(".") and name.endswith(".tmp"))


def _remove_data(folder: Path, keep: set[str] | None = None) -> None:
    """Without `keep`: remove session.json first (the folder stops being recoverable), then the
    data files. With `keep`: remove only the data files that the current session.json does not use
    (and temporary files a killed write left behind)."""
    if keep is None:
        with contextlib.suppress(FileNotFoundError):
            (folder / SESSION_FILE).unlink()
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        if _is_data_file(name) and (keep is None or name not in keep):
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()


def _remove_session(folder: Path, lock: QLockFile) -> None:
    """Delete a session folder we hold the lock of; the lock goes last."""
    _remove_data(folder)
    lock.unlock()
    with contextlib.suppress(OSError):
        folder.rmdir()


def write_session(folder: Path, generation: int, mask_image: QImage | None, result, result_file: str | None,
                  meta: dict, *, state) -> dict:
    """Worker-thread job: write the mask, the result (unless `result_file` already holds it) and then
    session.json naming them; remove the files of older generations. Returns what was written."""
    mask = image_to_mask(mask_image) if mask_image is not None else None
    has_mask = mask is not None and mask.size > 0 and bool(mask.any())
    if not has_mask and not meta.get("unsaved"):
        _remove_data(folder)  # nothing left to recover (everything undone, or saved and no mask)
        return {"kind": "write", "cleared": True, "result": None}
    state.check()
    mask_name = None
    if has_mask:
        mask_name = f"mask-{generation}.png"
        imageio.write_mask(mask, folder / mask_name)
    state.check()
    result_name = result_file if result is not None else None
    if result is not None and result_name is None:
        result_name = f"result-{generation}.png"
        imageio.write_photo(result, folder / result_name)
    state.check()
    _write_json(folder / SESSION_FILE, dict(meta, mask=mask_name, result=result_name))
    _remove_data(folder, keep={n for n in (mask_name, result_name) if n})
    return {"kind": "write", "cleared": False, "result": result_name}


def remove_session(folder: Path, lock: QLockFile, *, state) -> dict:
    """Worker-thread job: delete a session folder (queued behind any write into it)."""
    _remove_session(folder, lock)
    return {"kind": "clear"}


# ================================================================================ sessions
@dataclass
class Session:
    folder: Path
    lock: QLockFile


@dataclass
class Orphan:
    """A session folder left by a process that did not close cleanly (we now hold its lock)."""

    folder: Path
    lock: QLockFile
    meta: dict

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or "an untitled photo")

    @property
    def when(self) -> str:
        try:
            return describe_time(float(self.meta["timestamp"]))
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            return "an earlier session"

    def summary(self) -> str:
        held = []
        if self.meta.get("result"):
            steps = [str(s) for s in self.meta.get("steps") or []]
            held.append("the restored photo" + (f" ({' → '.join(steps)})" if steps else ""))
        if self.meta.get("mask"):
            held.append("the inpainting mask")
        text = "RED-Net Studio did not close normally."
        if held:
            text += " The autosave holds " + " and ".join(held) + "."
        return text

    def release(self) -> None:
        """Leave it for a later start."""
        self.lock.unlock()

    def discard(self) -> None:
        _remove_session(self.folder, self.lock)


def _new_lock(path: Path) -> QLockFile:
    lock = QLockFile(str(path))
    lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, never its age
    return lock


def find_orphans(root: Path) -> list[Orphan]:
    """Session folders under `root` whose owner is gone, newest first (their locks are now ours).
    Folders without a session file (a first write that never completed) are removed."""
    if not root.is_dir():
        return []
    found: list[Orphan] = []
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        lock = _new_lock(folder / LOCK_FILE)
        if not lock.tryLock(0):
            continue  # a running RED-Net Studio owns it
        meta = _read_json(folder)
        if meta is None:
            if (folder / SESSION_FILE).exists():
                lock.unlock()  # damaged: leave it for the user to look at, never delete data blindly
            else:
                _remove_session(folder, lock)
            continue
        found.append(Orphan(folder, lock, meta))
    found.sort(key=lambda o: o.meta.get("timestamp") or 0, reverse=True)
    return found


def _source_stat(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _reason(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code:
        return os.strerror(code)
    return str(exc).strip() or type(exc).__name__


# ================================================================================ the autosaver
class Autosaver(QObject):
    """Writes the window's document into its session folder; offers orphaned sessions back."""

    saved = Signal(object)  # the session folder, after each completed write
    cleared = Signal()  # after the session folder was removed
    failed = Signal(str)  # the reason a write failed

    def __init__(self, window: "MainWindow", interval_ms: int | None = None, root: str | Path | None = None):
        super().__init__(window)
        self.window = window
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
        self._source_stat = _source_stat(doc.source_path)
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
        st = self._source_stat
        meta = {
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
        self._generation += 1
        self._dirty = False
        self._pending = False
        self._job, self._job_result = "write", result
        mask_image = QImage(doc.mask.image)  # shares the pixels; painting detaches the layer's copy
        self.runner.start(write_session, session.folder, self._generation, mask_image, result, result_file,
                          meta)
        return True

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
        lock = _new_lock(folder / LOCK_FILE)
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
        reason = _reason(exc)
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
        self.window.statusBar().showMessage(
            f"Autosave failed: {_reason(exc)}. Save your work to keep it.", 30000)

    # ------------------------------------------------------------------ recovery
    def offer_recovery(self) -> bool:
        """Offer each orphaned session, newest first, until one is recovered or the question is
        dismissed. True when work was recovered."""
        try:
            orphans = find_orphans(self.root)
        except OSError as exc:
            log.warning("autosave: cannot look for earlier sessions: %s", exc)
            return False
        recovered = False
        for i, orphan in enumerate(orphans):
            if recovered:
                orphan.release()
                continue
            answer = ask_recover(self.window, orphan.when, orphan.name, orphan.summary())
            if answer == "recover":
                recovered = self.recover(orphan)
                if not recovered:
                    orphan.release()
            elif answer == "discard":
                orphan.discard()
            else:
                for rest in orphans[i:]:
                    rest.release()
                break
        return recovered

    def recover(self, orphan: Orphan) -> bool:
        """Open what an orphaned session holds; it becomes this window's session folder."""
        w, meta, folder = self.window, orphan.meta, orphan.folder
        notes: list[str] = []
        source = Path(meta["source"]) if meta.get("source") else None
        base = None
        if source is not None:
            base, note = self._reopen_source(source, meta)
            if note:
                notes.append(note)
        result = None
        if meta.get("result"):
            try:
                result = imageio.read_photo(folder / meta["result"])
            except (imageio.ImageReadError, OSError) as exc:
                notes.append(f"the autosaved result could not be read ({exc})")
            else:
                result = result.replace(path=None, warnings=[], format=meta.get("result_format") or result.format,
                                        jpeg_quality=meta.get("result_jpeg_quality"))
        mask = None
        if meta.get("mask"):
            try:
                mask = imageio.read_mask(folder / meta["mask"])
            except (imageio.ImageReadError, OSError) as exc:
                notes.append(f"the autosaved mask could not be read ({exc})")
        if base is None and result is None:
            dialogs.show_error(w, "Cannot recover unsaved work",
                               f"{orphan.name}: {'; '.join(notes) or 'nothing could be read'}. "
                               f"The autosaved files are in {folder}.")
            return False
        if not w.confirm_discard():
            return False
        if base is not None:
            w.set_photo(base, source)
            if result is not None:
                w.doc.apply_recovered(result, [str(s) for s in meta.get("steps") or []])
        else:
            stem = Path(orphan.name).stem or "photo"
            w.set_photo(result, None, name=f"{stem}-recovered.png", unsaved=True)
            if source is not None and source.parent.is_dir():
                from app.services import settings as S

                w.settings.set(S.LAST_DIR, str(source.parent))
        doc = w.doc
        if mask is not None:
            if mask.shape == (doc.mask.height, doc.mask.width):
                doc.mask.set_array(mask)
            else:
                notes.append(f"the mask ({mask.shape[1]}x{mask.shape[0]}) does not fit the "
                             f"{doc.mask.width}x{doc.mask.height} photo and was left out")
        w.update_actions()
        # The folder holds exactly this state: adopt it (and its lock) as our session.
        self.clear()
        self._session = Session(folder, orphan.lock)
        if result is not None and meta.get("result"):
            self._on_disk = (weakref.ref(result), str(meta["result"]))
        self._dirty = bool(notes)
        message = f"Recovered unsaved work for {orphan.name} from {orphan.when}"
        w.statusBar().showMessage(message + (f" — {'; '.join(notes)}" if notes else ""), 20000)
        return True

    @staticmethod
    def _reopen_source(path: Path, meta: dict):
        """(the source photo, a note) when it can serve as the original; (None, why not) otherwise."""
        st = _source_stat(path)
        if st is None:
            return None, f"{path.name} is no longer in {path.parent}"
        same = st == (meta.get("source_size"), meta.get("source_mtime_ns"))
        if not same and meta.get("result"):
            return None, f"{path.name} changed since the autosave, so the result was opened on its own"
        try:
            photo = imageio.read_photo(path)
        except (imageio.ImageReadError, OSError, ValueError) as exc:
            return None, str(exc)
        if (photo.width, photo.height) != (meta.get("original_width"), meta.get("original_height")):
            return None, (f"{path.name} is now {photo.width}x{photo.height}, not "
                          f"{meta.get('original_width')}x{meta.get('original_height')}")
        return photo, None if same else f"{path.name} changed on disk since the autosave"

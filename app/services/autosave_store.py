"""The autosave's files: session folders, written on a worker thread and read back after a crash.

Each running window that has unsaved work owns a *session folder* under
`rednet.paths.user_data_dir() / "autosave"`:

    autosave/20250302-143012-4711-a1b2c3/
        lock            QLockFile: a running RED-Net Studio owns this folder
        mask-7.png      the inpainting mask (rednet.io.write_mask: atomic), when one is painted
        result-5.png    the current result (rednet.io.write_photo: atomic; 16-bit where the
                        photo is, alpha and gray kept), written again only when the result changed
        session.json    written last (atomically): source path, its size and mtime, the task
                        history labels, a timestamp, and which mask/result files belong to it

session.json is the commit record: files are numbered by generation and it names the ones that
belong together, so a kill at any moment leaves either the previous or the new complete state.

Folders whose lock is free (the process that held it died) are *orphans*: `find_orphans` takes their
locks, and `load_recovery` reads what one holds. Nothing here touches a window; the scheduler is
app.services.autosave, the recovery question app.dialogs.recovery.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QLockFile
from PySide6.QtGui import QImage

from app.canvas.mask_layer import image_to_mask
from rednet import io as rio
from rednet.errors import ImageReadError
from rednet.io import safe_json
from rednet.io.atomic import atomic_write_bytes
from rednet.paths import user_data_dir

log = logging.getLogger(__name__)

FOLDER_NAME = "autosave"
SESSION_FILE = "session.json"
LOCK_FILE = "lock"
FORMAT_VERSION = 1


def autosave_root() -> Path:
    return user_data_dir() / FOLDER_NAME


def describe_time(timestamp: float, now: float | None = None) -> str:
    """'14:32' for today, '2025-03-01 14:32' otherwise."""
    t = datetime.fromtimestamp(timestamp)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return t.strftime("%H:%M") if t.date() == today else t.strftime("%Y-%m-%d %H:%M")


# ================================================================================ files (any thread)
def _write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (rednet's one atomic writer: a temporary file beside it, fsynced, renamed)."""
    atomic_write_bytes(path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"), make_folders=False)


def read_session(folder: Path) -> dict | None:
    """A folder's session.json, or None when it is missing, unreadable or not a JSON object."""
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
    return (name.startswith(("mask-", "result-")) and name.endswith(".png")) or (
        name.startswith(".") and name.endswith(".tmp")
    )


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


def write_session(
    folder: Path, generation: int, mask_image: QImage | None, result, result_file: str | None, meta: dict, *, state
) -> dict:
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
        rio.write_mask(mask, folder / mask_name)
    state.check()
    result_name = result_file if result is not None else None
    if result is not None and result_name is None:
        result_name = f"result-{generation}.png"
        rio.write_photo(result, folder / result_name)
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


def new_lock(path: Path) -> QLockFile:
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
        lock = new_lock(folder / LOCK_FILE)
        if not lock.tryLock(0):
            continue  # a running RED-Net Studio owns it
        meta = read_session(folder)
        if meta is None:
            if (folder / SESSION_FILE).exists():
                lock.unlock()  # damaged: leave it for the user to look at, never delete data blindly
            else:
                _remove_session(folder, lock)
            continue
        found.append(Orphan(folder, lock, meta))
    found.sort(key=lambda o: o.meta.get("timestamp") or 0, reverse=True)
    return found


def source_stat(path: Path | None) -> tuple[int, int] | None:
    """(size, mtime_ns) of a photo's source file, or None when it cannot be read."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def failure_reason(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code:
        return os.strerror(code)
    return str(exc).strip() or type(exc).__name__


# ================================================================================ reading an orphan back
@dataclass
class Recovery:
    """What an orphaned session holds, read back: the source photo when it can still serve as the
    original (`base`), the saved result and mask, and notes about what could not be used."""

    orphan: Orphan
    source: Path | None
    base: rio.Photo | None
    result: rio.Photo | None
    mask: np.ndarray | None
    steps: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def result_file(self) -> str | None:
        """The session's file that holds `result` (so an unchanged result is not written again)."""
        return str(self.orphan.meta["result"]) if self.result is not None and self.orphan.meta.get("result") else None

    @property
    def readable(self) -> bool:
        return self.base is not None or self.result is not None


def load_recovery(orphan: Orphan) -> Recovery:
    """Read what `orphan` holds (never raises for unreadable files: they become notes)."""
    meta, folder = orphan.meta, orphan.folder
    notes: list[str] = []
    source = Path(meta["source"]) if meta.get("source") else None
    base = None
    if source is not None:
        base, note = _reopen_source(source, meta)
        if note:
            notes.append(note)
    result = None
    if meta.get("result"):
        try:
            result = rio.read_photo(folder / meta["result"])
        except (ImageReadError, OSError) as exc:
            notes.append(f"the autosaved result could not be read ({exc})")
        else:
            result = result.replace(
                path=None,
                warnings=[],
                format=meta.get("result_format") or result.format,
                jpeg_quality=meta.get("result_jpeg_quality"),
            )
    mask = None
    if meta.get("mask"):
        try:
            mask = rio.read_mask(folder / meta["mask"])
        except (ImageReadError, OSError) as exc:
            notes.append(f"the autosaved mask could not be read ({exc})")
    steps = [str(s) for s in meta.get("steps") or []]
    return Recovery(orphan, source, base, result, mask, steps, notes)


def _reopen_source(path: Path, meta: dict):
    """(the source photo, a note) when it can serve as the original; (None, why not) otherwise."""
    st = source_stat(path)
    if st is None:
        return None, f"{path.name} is no longer in {path.parent}"
    same = st == (meta.get("source_size"), meta.get("source_mtime_ns"))
    if not same and meta.get("result"):
        return None, f"{path.name} changed since the autosave, so the result was opened on its own"
    try:
        photo = rio.read_photo(path)
    except (ImageReadError, OSError, ValueError) as exc:
        return None, str(exc)
    if (photo.width, photo.height) != (meta.get("original_width"), meta.get("original_height")):
        return None, (
            f"{path.name} is now {photo.width}x{photo.height}, not "
            f"{meta.get('original_width')}x{meta.get('original_height')}"
        )
    return photo, None if same else f"{path.name} changed on disk since the autosave"

"""What the image libraries say, in our words: nothing raw from Pillow, OpenCV or libpng reaches stderr.

    with LibraryMessages() as lib:
        ... Pillow / OpenCV calls ...
        with c_stderr():          # around C calls that print to stderr themselves (libpng, libtiff)
            cv2.imdecode(...)
        notes = lib.notes()
    photo.warnings.extend(notes)

Python warnings (Pillow's DecompressionBombWarning, its "Possibly corrupt EXIF data" UserWarnings,
...) are recorded instead of printed, and `notes()` rewords them as one-line warnings. When the
caller raises its own error instead, the recorded messages are simply dropped: the error says it.
`warnings.catch_warnings` changes process-wide state, so the block holds a lock (photos read on
several threads take turns through it).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import warnings
from typing import Iterator

__all__ = ["LibraryMessages", "c_stderr", "reword"]

_LOCK = threading.RLock()
_ACTIVE = threading.local()  # .stack: the LibraryMessages blocks open on this thread
_MAX_NOTE = 160


def _first_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_NOTE else text[: _MAX_NOTE - 3] + "..."


def reword(message: str, category: type | None = None) -> str | None:
    """Our one-line warning for a library message; None when it adds nothing to what we report."""
    text = _first_line(message)
    low = text.lower()
    name = getattr(category, "__name__", "")
    if name == "DecompressionBombWarning" or "decompression bomb" in low:
        return None  # the size check says it in our words (and refuses the image)
    if "exif" in low or "metadata warning" in low or low.startswith("tag "):
        return "the EXIF data is partly damaged (entries that could not be read were skipped)"
    if "mpo" in low:
        return "the multi-picture (MPO) data is malformed; the file was read as a plain JPEG"
    if "apng" in low:
        return "the animation data is invalid; the still image was read"
    if "srgb profile" in low or "iccp" in low:
        return "the embedded colour profile is slightly malformed"
    if "premature end" in low or "not enough image data" in low or "truncat" in low:
        return "the image data ends early"
    for prefix in ("libpng warning:", "libpng error:", "libtiff warning:", "libtiff:", "warning:"):
        if low.startswith(prefix):
            text = text[len(prefix) :].strip()
            break
    text = re.sub(r"^\[ ?WARN:[^\]]*\]\s*", "", text)
    return f"the image decoder reported: {text}" if text else None


class LibraryMessages:
    """Records Python warnings (and, inside `c_stderr()`, C-level stderr output) while active."""

    def __init__(self) -> None:
        self._raw: list[tuple[str, type | None]] = []
        self._catcher: warnings.catch_warnings | None = None
        self._records: list | None = None

    def __enter__(self) -> "LibraryMessages":
        _LOCK.acquire()
        try:
            self._catcher = warnings.catch_warnings(record=True)
            self._records = self._catcher.__enter__()
            warnings.simplefilter("always")
        except BaseException:
            _LOCK.release()
            raise
        _stack().append(self)
        return self

    def __exit__(self, *exc_info) -> bool:
        try:
            if self._records is not None:
                self._raw.extend((str(w.message), w.category) for w in self._records)
            if self._catcher is not None:
                self._catcher.__exit__(*exc_info)
        finally:
            self._catcher = self._records = None
            stack = _stack()
            if stack and stack[-1] is self:
                stack.pop()
            _LOCK.release()
        return False

    def c_stderr(self) -> contextlib.AbstractContextManager[None]:
        return _capture_fd2(self._raw)

    def record(self, message: str) -> None:
        self._raw.append((message, None))

    def notes(self) -> list[str]:
        """The recorded messages as our one-line warnings, each once, in order."""
        out: list[str] = []
        if self._records is not None:  # still inside the block
            self._raw.extend((str(w.message), w.category) for w in self._records)
            self._records.clear()
        for message, category in self._raw:
            note = reword(message, category)
            if note is not None and note not in out:
                out.append(note)
        return out


def _stack() -> list[LibraryMessages]:
    stack = getattr(_ACTIVE, "stack", None)
    if stack is None:
        stack = _ACTIVE.stack = []
    return stack


def c_stderr() -> contextlib.AbstractContextManager[None]:
    """Capture C-level stderr output into the innermost LibraryMessages of this thread (dropped when
    there is none): the library's words never reach the terminal."""
    stack = _stack()
    return _capture_fd2(stack[-1]._raw if stack else [])


_FD2_LOCK = threading.Lock()


@contextlib.contextmanager
def _capture_fd2(into: list) -> Iterator[None]:
    """Send what C code writes to file descriptor 2 into a temporary file, and record its lines.

    A no-op where descriptor 2 is not there to redirect."""
    with _FD2_LOCK:
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        try:
            sink = tempfile.TemporaryFile()
        except OSError:
            os.close(saved)
            yield
            return
        with sink:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                try:
                    sink.seek(0)
                    text = sink.read(64 * 1024).decode("utf-8", "replace")
                except OSError:
                    text = ""
                into.extend((line, None) for line in text.splitlines() if line.strip())

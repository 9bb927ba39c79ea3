"""Writing to stdout and stderr without letting the terminal decide a job's outcome.

`rednet restore ... | head -1`, stdout on /dev/full, a closed stderr (`2>&-`): the photos are
restored and written all the same, and the exit status says how the *work* went. Progress lines,
"a -> b" lines and summaries go through `say()` / `tell()` (or a `SafeStream` for code that wants a
stream): a write that fails with EPIPE, ENOSPC, EBADF or on a closed file marks the stream dead,
points its file descriptor at the null device (so the interpreter's own flush at exit has nothing
to complain about — it would otherwise print "Exception ignored ... BrokenPipeError" and exit 120),
and every later write to it is skipped.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

__all__ = ["SafeStream", "say", "tell", "write", "flush_all", "is_dead"]

_dead: list = []  # streams that failed (held, so that a new stream never inherits a dead one's id)


def is_dead(stream) -> bool:
    return stream is None or any(s is stream for s in _dead)


def _retire(stream) -> None:
    """Stop writing to `stream`: remember it, drop what it still buffers, and send its descriptor
    to the null device."""
    if not is_dead(stream):
        _dead.append(stream)
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(null, fd)  # the buffered rest now goes nowhere, quietly
    except OSError:
        pass
    finally:
        os.close(null)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        stream.flush()


def write(stream: TextIO | None, text: str) -> bool:
    """Write and flush `text` to `stream`; False (and nothing raised) when the stream is gone."""
    if is_dead(stream):
        return False
    try:
        stream.write(text)
        stream.flush()
        return True
    except (OSError, ValueError, AttributeError):  # EPIPE, ENOSPC, EBADF, "I/O on closed file"
        _retire(stream)
        return False
    except UnicodeEncodeError:  # a terminal that cannot show a file name: say it with escapes
        try:
            stream.write(text.encode("ascii", "backslashreplace").decode("ascii"))
            stream.flush()
            return True
        except (OSError, ValueError, AttributeError):
            _retire(stream)
            return False


def say(*parts: object, sep: str = " ", end: str = "\n") -> bool:
    """print() to the current sys.stdout, never raising."""
    return write(sys.stdout, sep.join(str(p) for p in parts) + end)


def tell(*parts: object, sep: str = " ", end: str = "\n") -> bool:
    """print() to the current sys.stderr, never raising."""
    return write(sys.stderr, sep.join(str(p) for p in parts) + end)


def flush_all() -> None:
    """Flush stdout and stderr, retiring whichever fails (call before exiting)."""
    for stream in (sys.stdout, sys.stderr):
        if is_dead(stream):
            continue
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            _retire(stream)


class SafeStream:
    """A stream-like wrapper whose writes never raise. `SafeStream()` follows sys.stderr as it is at
    each call (so test capture and redirections are honoured); `SafeStream(stream)` wraps one."""

    def __init__(self, stream: TextIO | None = None, *, name: str = "stderr"):
        self._stream = stream
        self._name = name

    @property
    def stream(self) -> TextIO | None:
        return self._stream if self._stream is not None else getattr(sys, self._name, None)

    def write(self, text: str) -> int:
        write(self.stream, text)
        return len(text)

    def flush(self) -> None:
        stream = self.stream
        if is_dead(stream):
            return
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            _retire(stream)

    def isatty(self) -> bool:
        stream = self.stream
        if is_dead(stream):
            return False
        try:
            return bool(stream.isatty())
        except (OSError, ValueError, AttributeError):
            return False

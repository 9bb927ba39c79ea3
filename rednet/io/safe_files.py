"""Opening a path the user named: regular files only, never blocking, and never reading without a limit.

Every file RED-Net Studio reads because a user pointed at it (a photo, a mask, a model, its card, a
crop pack, a settings or autosave file) is opened here. A named pipe, a device (`/dev/zero`, a link
to `/dev/urandom`), a socket or a folder is refused with one line before a byte is read:

    >>> read_bytes("in.png", "photo")
    FileRefused: in.png: is a named pipe, not a photo

How: the path is stat()ed first (a device is never even opened), then opened with O_NONBLOCK (an
open of a FIFO that slipped in meanwhile returns at once instead of waiting for a writer), checked
again with fstat() on the open descriptor, and only then switched back to blocking reads. A file
larger than the cap of its kind is refused before it is read; reads stop at the cap even if the file
grows meanwhile.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from rednet.errors import FileRefused

__all__ = [
    "KINDS",
    "FileRefused",
    "describe",
    "problem",
    "check_regular",
    "open_regular",
    "read_bytes",
    "read_text",
    "format_size",
]

GiB = 1 << 30
MiB = 1 << 20

# kind -> (what it is called in a message, largest file accepted in bytes or None for no cap)
KINDS: dict[str, tuple[str, int | None]] = {
    # MAX_PIXELS (250 MP) at 16-bit RGBA is 2 GB uncompressed; room for metadata on top.
    "photo": ("a photo", 3 * GiB),
    "mask": ("a mask", 3 * GiB),
    "model": ("a model file", 4 * GiB),  # the largest descriptor allowed is ~0.6 GB of weights
    "checkpoint": ("a checkpoint", 8 * GiB),  # weights, EMA and optimizer state
    "card": ("a model card", 1 * MiB),
    "crop pack": ("a crop pack", None),  # memory-mapped, never read whole
    "settings": ("a settings file", 1 * MiB),
    "autosave": ("an autosave record", 1 * MiB),
    "json": ("a JSON file", 16 * MiB),
    "file": ("a regular file", None),
}


def _display(path: Path) -> str:
    return path.name or str(path)


def _what(kind: str) -> str:
    return KINDS.get(kind, (kind, None))[0]


def _cap(kind: str, limit: int | None) -> int | None:
    return limit if limit is not None else KINDS.get(kind, ("", None))[1]


def format_size(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{n} bytes"


def _kind_of_mode(mode: int) -> str | None:
    """What a non-regular file is ("a named pipe", ...); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def describe(path: str | os.PathLike) -> str | None:
    """What `path` is when it is not a regular file: "missing", "a broken link", "a named pipe",
    "a device", "a socket", "a directory"; None for a regular file (or a link to one). Never blocks."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "a broken link" if os.path.islink(path) else "missing"
    except OSError:
        return None  # unreadable for another reason: opening it will say why
    return _kind_of_mode(st.st_mode)


def problem(path: str | os.PathLike, kind: str = "file") -> str | None:
    """Why `path` cannot be read as `kind`, found without opening it ("file not found", "is a named
    pipe, not a mask", ...); None for a regular file."""
    what_it_is = describe(path)
    if what_it_is is None:
        return None
    return _refusal(Path(path), what_it_is, kind).reason


def _refusal(path: Path, what_it_is: str, kind: str) -> FileRefused:
    if what_it_is == "missing":
        return FileRefused(path, "file not found", errno.ENOENT)
    if what_it_is == "a broken link":
        return FileRefused(path, "is a broken link (the file it points to does not exist)", errno.ENOENT)
    if what_it_is == "a directory":
        return FileRefused(path, "is a directory", errno.EISDIR)
    if what_it_is == "not a regular file":
        return FileRefused(path, f"is not a regular file, not {_what(kind)}")
    return FileRefused(path, f"is {what_it_is}, not {_what(kind)}")


def _os_refusal(path: Path, exc: OSError) -> FileRefused:
    if isinstance(exc, FileNotFoundError):
        return _refusal(path, "a broken link" if os.path.islink(path) else "missing", "file")
    if isinstance(exc, IsADirectoryError):
        return FileRefused(path, "is a directory", errno.EISDIR)
    if isinstance(exc, PermissionError):
        return FileRefused(path, "cannot read: permission denied", errno.EACCES)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return FileRefused(path, f"cannot read: {reason}", exc.errno)


def _check_size(path: Path, size: int, kind: str, limit: int | None) -> None:
    cap = _cap(kind, limit)
    if cap is not None and size > cap:
        raise FileRefused(
            path, f"file is too large for {_what(kind)} ({format_size(size)}; at most {format_size(cap)})", errno.EFBIG
        )


def open_regular(path: str | os.PathLike, kind: str = "file", limit: int | None = None) -> BinaryIO:
    """Open `path` for binary reading if it is a regular file no larger than the cap of `kind`
    (or `limit` bytes). Raises FileRefused with one line otherwise. Never blocks on the open."""
    path = Path(path)
    try:
        st = os.stat(path)  # a device or a pipe is refused without being opened
    except OSError as exc:
        raise _os_refusal(path, exc) from None
    what_it_is = _kind_of_mode(st.st_mode)
    if what_it_is is not None:
        raise _refusal(path, what_it_is, kind)
    _check_size(path, st.st_size, kind, limit)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _os_refusal(path, exc) from None
    try:
        st = os.fstat(fd)  # what was actually opened (the path may have been swapped meanwhile)
        what_it_is = _kind_of_mode(st.st_mode)
        if what_it_is is not None:
            raise _refusal(path, what_it_is, kind)
        _check_size(path, st.st_size, kind, limit)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_regular(path: str | os.PathLike, kind: str = "file", limit: int | None = None) -> os.stat_result:
    """Raise FileRefused unless `path` is a regular file a library may open by name; its stat."""
    with open_regular(path, kind, limit) as fh:
        return os.fstat(fh.fileno())


def read_bytes(path: str | os.PathLike, kind: str = "file", limit: int | None = None) -> bytes:
    """The whole file, when it is a regular file within the cap of `kind` (or `limit` bytes)."""
    path = Path(path)
    cap = _cap(kind, limit)
    with open_regular(path, kind, limit) as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            first = size + 1 if cap is None else min(size, cap) + 1  # never a buffer of the whole cap
            parts = [fh.read(first)]
            total = len(parts[0])
            if total == first:  # it grew, or its size is not known in advance (/proc files say 0)
                while cap is None or total <= cap:
                    block = fh.read(1 << 20)
                    if not block:
                        break
                    parts.append(block)
                    total += len(block)
            data = b"".join(parts) if len(parts) > 1 else parts[0]
        except OSError as exc:
            raise _os_refusal(path, exc) from None
    if cap is not None and len(data) > cap:  # it grew while we read
        raise FileRefused(path, f"file is too large for {_what(kind)} (more than {format_size(cap)})", errno.EFBIG)
    return data


def read_text(path: str | os.PathLike, kind: str = "file", limit: int | None = None) -> str:
    """`read_bytes` decoded as UTF-8 (a BOM is dropped); FileRefused when it is not UTF-8 text."""
    data = read_bytes(path, kind, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(path, f"is not UTF-8 text (byte {exc.start})") from None

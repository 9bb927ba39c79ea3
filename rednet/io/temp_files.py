"""Our temporary files: a name that says whose they are, and a sweep for those a crash left behind.

Every file RED-Net Studio writes is first written to a hidden temporary file beside it and then
renamed over the destination (see `atomic`, which `write_photo` uses too). The temporary file is named

    .<destination name>.rednet-<host>-<pid>-<random>.tmp

(<host> is a short hash of the machine's name, <pid> the writing process). A process killed while
writing (SIGKILL, power cut) leaves that file behind; `remove_stale(folder)` — called by restore and
batch runs for each folder they write into — deletes the ones whose writer is gone:

* written on this machine by a process that no longer runs (or whose process id has since been
  taken by a process started after the file was last written);
* written on another machine (a shared output folder), or by an older version of this program that
  used the name `.<name>.<random>.tmp`, and untouched for `FOREIGN_STALE_S` seconds.

Nothing else is ever removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
import time
from pathlib import Path

__all__ = ["TEMP_SUFFIX", "FOREIGN_STALE_S", "temp_path", "is_temp_name", "remove_stale"]

TEMP_SUFFIX = ".tmp"
FOREIGN_STALE_S = 6 * 3600.0  # no single photo or model takes hours to write
_MAX_NAME_BYTES = 255

_OURS = re.compile(r"^\.(?P<name>.+)\.rednet-(?P<host>[0-9a-f]{6})-(?P<pid>\d{1,10})-[0-9a-f]{8}\.tmp$", re.DOTALL)
# Earlier versions: imageio.py wrote ".<name>.<12 hex>.tmp", atomic.py mkstemp's ".<name>.<8 chars>.tmp";
# only names of files we write are taken for those.
_LEGACY = re.compile(r"^\.(?P<name>.+)\.(?:[0-9a-f]{12}|[a-z0-9_]{8})\.tmp$", re.DOTALL)
_LEGACY_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".csv", ".json", ".safetensors", ".ckpt")


def _host_tag() -> str:
    try:
        host = socket.gethostname()
    except OSError:
        host = ""
    return hashlib.sha1(host.encode("utf-8", "replace")).hexdigest()[:6]


_HOST = _host_tag()


def temp_path(path: str | os.PathLike) -> Path:
    """A fresh temporary-file path beside `path` for this process (the file is not created)."""
    path = Path(path)
    tail = f".rednet-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
    name = path.name
    # keep the whole name within the file system's limit (255 bytes) by shortening the middle part
    while len(os.fsencode("." + name + tail)) > _MAX_NAME_BYTES and len(name) > 1:
        name = name[: max(1, len(name) - 8)]
    return path.with_name("." + name + tail)


def _legacy(name: str) -> bool:
    match = _LEGACY.match(name)
    return bool(match) and match.group("name").lower().endswith(_LEGACY_SUFFIXES)


def is_temp_name(name: str) -> bool:
    """True for names of our temporary files, current or legacy."""
    return bool(_OURS.match(name)) or _legacy(name)


def _pid_running(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True  # unknown: treat as running (the age rule still applies)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError:
        return True
    return True


def _process_start_time(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), where the system says (Linux); else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of the whole line
        with open("/proc/stat", "rb") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith(b"btime"))
        return btime + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return None


def _is_stale(name: str, mtime: float, now: float) -> bool:
    ours = _OURS.match(name)
    if ours is None:
        return _legacy(name) and now - mtime > FOREIGN_STALE_S
    if ours.group("host") != _HOST:
        return now - mtime > FOREIGN_STALE_S
    pid = int(ours.group("pid"))
    if pid == os.getpid():
        return False  # ours, possibly being written by another thread right now
    if not _pid_running(pid):
        return True
    started = _process_start_time(pid)
    return started is not None and started > mtime + 2.0  # the pid now belongs to a newer process


def remove_stale(folder: str | os.PathLike, now: float | None = None) -> list[Path]:
    """Delete the temporary files of ours in `folder` (not its subfolders) that no live writer owns.

    Returns the paths removed. Never raises: an unreadable folder or a file that cannot be removed
    is left as it is.
    """
    folder = Path(folder)
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if _is_stale(name, mtime, now):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed

"""Writing a file so that it is either complete or absent: a temp file beside it, then a rename.

A crash, a kill, a full disk or a cancel in the middle never leaves a partial file, and an existing
file at the destination is replaced only once the new one is whole. (Photos go through
`imageio.write_photo`, which adds its own overwrite and format handling on the same principle.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from rednet.io.temp_files import temp_path


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call `write(temp_path)` to produce the file, then move it to `path` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)  # ".<name>.rednet-<host>-<pid>-<random>.tmp": swept after a crash
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600))
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as fh:  # on disk before the rename makes it visible
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # created private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

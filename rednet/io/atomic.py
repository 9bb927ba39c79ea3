"""Writing a file so that it is either complete or absent: a temp file beside it, then a rename.

A crash, a kill, a full disk or a cancel in the middle never leaves a partial file, and an existing
file at the destination is replaced only once the new one is whole. All of rednet's writers share
`_write_via_temp` below: photos and masks (`write_photo`), models, checkpoints, cards and reports.
The temporary file is named by `temp_files.temp_path`, so that one a crash left behind is recognised
and swept later.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Callable

from rednet.io.temp_files import temp_path

__all__ = ["DestinationExists", "atomic_write", "atomic_write_bytes", "atomic_write_text"]


class DestinationExists(FileExistsError):
    """`overwrite=False` and the destination exists (or appeared while the file was written)."""


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call `write(temp_path)` to produce the file, then move it to `path` in one step.

    For writers that need a path (torch.save, safetensors); missing folders are created.
    """

    def fill(tmp: Path) -> None:
        # Reserve the name before `write` opens it by name, private until the file is complete.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600))
        write(tmp)
        with open(tmp, "rb+") as fh:  # on disk before the rename makes it visible
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # created private; give it a normal file's mode

    return _write_via_temp(Path(path), fill, overwrite=True, keep_mode=False, make_folders=True)


def atomic_write_bytes(
    path: str | os.PathLike,
    data: bytes,
    *,
    overwrite: bool = True,
    keep_mode: bool = False,
    make_folders: bool = True,
) -> Path:
    """Write `data` to `path` atomically (fsynced before the rename).

    overwrite=False:  never replace a file, even one that appears meanwhile: DestinationExists.
    keep_mode=True:   a file that is replaced keeps its permissions.
    make_folders:     create missing folders (else the write fails with FileNotFoundError).
    """

    def fill(tmp: Path) -> None:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return _write_via_temp(Path(path), fill, overwrite=overwrite, keep_mode=keep_mode, make_folders=make_folders)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _write_via_temp(
    path: Path, fill: Callable[[Path], None], *, overwrite: bool, keep_mode: bool, make_folders: bool
) -> Path:
    """`fill(tmp)` writes the whole file at a fresh temporary path beside `path`; it is then renamed
    over `path`. On any failure (a KeyboardInterrupt too) the temporary file is removed and the
    exception propagates unchanged; `path` is left as it was."""
    if make_folders:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)  # ".<name>.rednet-<host>-<pid>-<random>.tmp": swept after a crash
    try:
        fill(tmp)
        if keep_mode:
            with contextlib.suppress(OSError):  # nothing to keep when `path` does not exist yet
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        if overwrite:
            os.replace(tmp, path)
        else:
            _publish_without_clobbering(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _publish_without_clobbering(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)  # fails if `path` appeared meanwhile: never replaces a file
    except FileExistsError as exc:
        raise DestinationExists(exc.errno, "already exists", str(path)) from exc
    except OSError:
        # Hard links unsupported here (some network and FAT file systems): check, then rename.
        if os.path.lexists(path):
            raise DestinationExists(errno.EEXIST, "already exists", str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

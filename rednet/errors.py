"""Every error rednet reports to a user, under one root.

`RednetError` means "the user's input or environment is at fault; say it in one line, no traceback".
The CLI catches it once and exits with a status; the GUI shows it in a message. Each kind keeps the
built-in base it had (ValueError or OSError), so callers that catch those still work.

A `UsageError` about one option carries that option's name (`option`, the task-option or CLI name
without dashes, such as "sigma" or "tile") apart from the message, which never names the option: the
CLI prints "--sigma: must be between 0 and 75 ...", the GUI "Noise level σ: must be between ...".
"""

from __future__ import annotations

import os
from pathlib import Path


class RednetError(Exception):
    """A problem the user can fix: bad input, a missing file, a refused option. `str()` is one line."""


class UsageError(RednetError, ValueError):
    """An option out of range or missing, or a request that cannot be done as asked.

    `option`: the option it is about ("sigma", "scale", "mask", ...), or None for the whole request.
    """

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option

    def worded(self, label: str | None = None) -> str:
        """The message prefixed with `label` (how this front end names the option), if it has one."""
        return f"{label}: {self}" if self.option and label else str(self)

    def for_cli(self) -> str:
        return self.worded(f"--{self.option.replace('_', '-')}" if self.option else None)


class ModelError(RednetError, ValueError):
    """A model file that is missing, unsafe, damaged or for another task."""


class DeviceError(RednetError, ValueError):
    """The asked-for device (cuda, mps) is not available."""


class DataError(RednetError, ValueError):
    """A training-data folder that cannot be used (too few photos, none readable)."""


class FileRefused(RednetError, ValueError):
    """A path that is not a readable regular file of acceptable size. `str()` is one line naming it;
    `reason` is the part after the name (e.g. "is a named pipe, not a photo")."""

    def __init__(self, path: str | os.PathLike, reason: str, errno_: int | None = None):
        self.path = Path(path)
        self.reason = reason
        self.errno = errno_
        super().__init__(f"{self.path.name or self.path}: {reason}")


class JSONLimitError(RednetError, ValueError):
    """JSON that is too large, too deeply nested, not UTF-8, or not JSON at all (one line).

    `limit` is "size" or "depth" when a limit was exceeded, None when the text is simply not JSON."""

    def __init__(self, message: str, limit: str | None = None):
        super().__init__(message)
        self.limit = limit


class ImageReadError(RednetError, ValueError):
    """A photo or mask could not be read. `str()` is one line: "<file name>: <what is wrong>"."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None):
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ImageWriteError(RednetError, OSError):
    """A photo or mask could not be written. `str()` is one line: "<file name>: <what is wrong>".

    When the cause was an operating-system error its number is in `errno` (e.g. errno.ENOSPC).
    """

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None, errno: int | None = None):
        super().__init__(message)
        self.path = Path(path) if path is not None else None
        if errno is not None:
            self.errno = errno  # without strerror, str() stays the plain message


class MaskSizeError(UsageError):
    """A mask does not have the size of the photo it belongs to."""

    def __init__(self, message: str):
        super().__init__(message, option="mask")

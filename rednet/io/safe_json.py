"""JSON from files and headers we did not write ourselves: with a size and a nesting limit.

Python's `json` parser recurses once per nesting level, so `[[[[...]]]]` 100,000 levels deep ends in a
RecursionError; and a card or descriptor has no business being megabytes long. `loads` checks the
size, then the nesting depth (with a linear scan, before parsing), then parses; every problem is a
`JSONLimitError` (a ValueError) with one line.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np

from rednet.errors import JSONLimitError
from rednet.io.safe_files import format_size, read_bytes

__all__ = ["MAX_DEPTH", "MAX_BYTES", "JSONLimitError", "loads", "load_file", "nesting_depth"]

MAX_DEPTH = 32
MAX_BYTES = 1 << 20

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN = (ord("["), ord("{"))
_CLOSE = (ord("]"), ord("}"))


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of [ and { in JSON text (brackets inside strings do not count)."""
    code = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    if code.size == 0:
        return 0
    step = np.isin(code, _OPEN).astype(np.int32) - np.isin(code, _CLOSE).astype(np.int32)
    return int(max(0, np.cumsum(step).max()))


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """Parse JSON, refusing more than `max_bytes` bytes or `max_depth` levels of nesting."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if len(data) > max_bytes:
        raise JSONLimitError(f"too large ({format_size(len(data))}; at most {format_size(max_bytes)})", "size")
    depth = nesting_depth(data)
    if depth > max_depth:
        raise JSONLimitError(f"nested {depth} levels deep (at most {max_depth})", "depth")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JSONLimitError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise JSONLimitError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. an integer of 100,000 digits
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise JSONLimitError(f"not usable JSON ({first})") from None


def load_file(
    path: str | os.PathLike, kind: str = "json", *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES
) -> Any:
    """`loads` of a file opened through `safe_files` (regular files only, at most `max_bytes`).

    Raises FileRefused (not a regular file, missing, unreadable, too large) or JSONLimitError with
    the file named: "<name>: nested 100000 levels deep (at most 32)".
    """
    data = read_bytes(path, kind, limit=max_bytes)
    try:
        return loads(data, max_depth=max_depth, max_bytes=max_bytes)
    except JSONLimitError as exc:
        name = os.path.basename(os.fspath(path)) or os.fspath(path)
        raise JSONLimitError(f"{name}: {exc}", exc.limit) from None


# FileRefused is re-exported so callers can catch both from here.
__all__.append("FileRefused")

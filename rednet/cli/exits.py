"""Exit statuses of the `rednet` command and the one line it prints for an error.

0: everything succeeded. 1: some input failed (each named on stderr with its reason). 2: a usage
error, found before any photo was touched (a bad option, a missing mask, an unusable model).
130: interrupted (Ctrl-C); nothing half-written is left behind.
"""

from __future__ import annotations

from rednet.cli.console import tell
from rednet.errors import UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def one_line(exc: BaseException) -> str:
    """What the command line says about `exc`: a UsageError about an option names it as the option
    is typed ("--sigma: must be between ..."); anything else is its own one-line message."""
    if isinstance(exc, UsageError):
        return exc.for_cli()
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def error(command: str, message: str) -> None:
    """Print "rednet COMMAND: error: MESSAGE" to stderr (never raising: see `console`)."""
    tell(f"rednet {command}: error: {message}")

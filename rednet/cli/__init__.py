"""The `rednet` command: one module per sub-command."""

from rednet.cli.main import main

__all__ = ["main"]

"""The `rednet` command: one module per sub-command, built into one parser by `rednet.cli.main`."""

from rednet.cli.main import main

__all__ = ["main"]

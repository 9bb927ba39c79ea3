"""The `rednet` command line: everything the desktop app can do, without a window.

Each sub-command is one module of this package with `register(subparsers)` (its options) and
`run(args) -> int` (its exit status); this module builds the parser from them and maps what a command
raises to an exit status and one line on stderr (see `rednet.cli.exits`): a `RednetError` (a bad
option, an unusable model, mask or data folder) exits with 2, Ctrl-C with 130.
"""

from __future__ import annotations

import argparse

import rednet.cli.batch as batch_command
import rednet.cli.bench as bench_command
import rednet.cli.eval as eval_command
import rednet.cli.finetune as finetune_command
import rednet.cli.models as models_command
import rednet.cli.restore as restore_command
import rednet.cli.train as train_command
from rednet import __version__
from rednet.cli.console import flush_all, tell
from rednet.cli.exits import EXIT_INTERRUPTED, EXIT_USAGE, error, one_line
from rednet.errors import RednetError

# in the order `rednet --help` lists them
COMMANDS = (
    restore_command,
    batch_command,
    models_command,
    train_command,
    eval_command,
    bench_command,
    finetune_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rednet", description="RED-Net photo restoration")
    parser.add_argument("--version", action="version", version=f"rednet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except RednetError as exc:  # found before the work began, or stopping all of it: a usage error
        error(args.command, one_line(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        tell(f"rednet {args.command}: interrupted")
        return EXIT_INTERRUPTED
    finally:
        flush_all()  # a closed or full stdout/stderr never turns into an exit status

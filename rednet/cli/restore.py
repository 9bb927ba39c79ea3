"""`rednet restore`: restore one or more photos, each through the one pipeline (`restore_file`).

Everything that would fail every photo (an option out of range, a missing or unreadable mask, the
output quality, the device, the model) is checked once, before any file is touched: exit status 2.
Then each photo is read, restored and written atomically by `rednet.engine.restore.restore_file`
with the model resolved once; a photo that fails is named on stderr with its reason and the others go
on (exit status 1). Ctrl-C stops at once and leaves no partial file (exit status 130).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rednet.cli.console import say, tell
from rednet.cli.exits import EXIT_FAILED, EXIT_OK, error, one_line
from rednet.cli.options import add_run_options, add_task_options, task_values
from rednet.cli.progress import ProgressPrinter
from rednet.errors import RednetError, UsageError
from rednet.tasks import Task

NAME = "restore"
# The errors one photo can fail with while the others go on (the job-level ones are found up front).
PHOTO_ERRORS = (RednetError, ValueError, RuntimeError, OSError)


def register(sub) -> None:
    p = sub.add_parser(
        NAME,
        help="restore one or more photos",
        description="Restore photos. With several inputs OUTPUT is a folder and each output "
        "keeps its input's name; otherwise the format follows OUTPUT's extension "
        "(.png .jpg .tif .webp .bmp).",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUTPUT")
    add_task_options(p)
    add_run_options(p)
    p.add_argument(
        "--overwrite-input",
        action="store_true",
        help="allow OUTPUT to be the input file itself (it is never overwritten otherwise)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rednet.engine.restore import resolve_model
    from rednet.io.temp_files import remove_stale

    task, values = checked_options(args)
    model = resolve_model(args.model, task.name)  # once, for every photo
    outputs = output_paths(args.inputs, args.output)
    if len(outputs) > 1 or outputs[0].parent != Path(""):
        try:
            outputs[0].parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{outputs[0].parent}: cannot create the output folder ({exc.strerror or exc})") from None
    for folder in {dst.parent for dst in outputs}:
        remove_stale(folder)  # temporary files of an earlier run that was killed while writing
    settings = dict(
        model=model,
        device=args.device,
        tile=args.tile,
        precision=None if args.precision == "auto" else args.precision,
        ensemble=args.ensemble,
        jpeg_quality=args.output_quality,
        png_compression=args.png_compression,
        **values,
    )
    failed = 0
    for src, dst in zip(args.inputs, outputs, strict=True):
        failed += not _restore_one(src, dst, task, settings, args, single=len(outputs) == 1)
    return EXIT_FAILED if failed else EXIT_OK


def checked_options(args: argparse.Namespace) -> tuple[Task, dict]:
    """The task and its option values, checked once (UsageError, exit 2); the mask file is read here,
    so an unreadable mask is reported once rather than for every photo. Its size is checked against
    each photo by the task."""
    task, values = task_values(args)
    task.validate(values)
    mask = task.mask_option
    if mask is not None and values.get(mask.name) is not None:
        values[mask.name] = _read_mask(Path(values[mask.name]))
    if not 1 <= args.output_quality <= 100:
        raise UsageError(f"must be between 1 and 100, got {args.output_quality}", option="output_quality")
    from rednet.engine.device import DeviceError, resolve_device

    try:
        resolve_device(args.device)
    except DeviceError as exc:
        raise UsageError(str(exc), option="device") from None
    return task, values


def _read_mask(path: Path):
    from rednet.io import read_mask
    from rednet.io.safe_files import problem

    if not path.is_file():
        reason = problem(path, "mask") or "file not found"  # "is a named pipe, not a mask"
        raise UsageError(f"{path}: {'mask file not found' if reason == 'file not found' else reason}")
    return read_mask(path)  # an ImageReadError names the file


def output_paths(inputs: list[Path], output: Path) -> list[Path]:
    """Where each input goes: OUTPUT itself for one input with a photo extension, else OUTPUT/<name>."""
    from rednet.io import SUPPORTED_WRITE_EXTENSIONS as suffixes

    if len(inputs) == 1 and output.suffix.lower() in suffixes and not output.is_dir():
        return [output]
    if len(inputs) == 1 and output.suffix and not output.is_dir():
        raise UsageError(f"{output}: unsupported output format; use one of {' '.join(suffixes)}")
    if os.path.lexists(output) and not output.is_dir():  # e.g. `-o notes`, a file without an extension
        from rednet.io.safe_files import describe

        what = "a file" if output.is_file() else (describe(output) or "a file")
        raise UsageError(
            f"{output}: is {what}, not a folder; to write one photo, give OUTPUT an extension ({' '.join(suffixes)})"
        )
    names = [p.stem + (p.suffix.lower() if p.suffix.lower() in suffixes else ".png") for p in inputs]
    if len(set(names)) != len(names):
        raise UsageError("several inputs have the same file name; restore them into separate folders")
    return [output / n for n in names]


def _restore_one(src: Path, dst: Path, task: Task, settings: dict, args, *, single: bool) -> bool:
    """Restore `src` into `dst`, printing its warnings and its "src -> dst" line, or one error line.
    True when it was written."""
    from rednet.engine.restore import restore_file
    from rednet.progress import TaskState

    printer = ProgressPrinter(src.name)
    try:
        over_input = src.exists() and dst.exists() and src.resolve() == dst.resolve()
        if over_input and not args.overwrite_input:
            raise UsageError("output would overwrite the input (pass --overwrite-input to allow it)")
        result = restore_file(
            src, dst, task=task.name, overwrite=True, replace_input=over_input, state=TaskState(printer), **settings
        )
    except PHOTO_ERRORS as exc:
        printer.close()
        message = one_line(exc)
        mask = task.mask_option
        if isinstance(exc, UsageError) and mask is not None and exc.option == mask.name:
            message = f"{Path(getattr(args, mask.name)).name}: {exc}"  # "mask.png: mask is 10x10 but ..."
            if single:  # the mask does not fit the only photo: a usage error
                raise UsageError(message) from None
        if not message.startswith(src.name) and not message.startswith(str(src)):
            message = f"{src}: {message}"
        error(NAME, message)
        return False
    finally:
        printer.close()
    for note in result.warnings:  # the reader's, the task's and the writer's
        tell(f"{src.name}: {note}")
    say(f"{src} -> {dst} ({result.width}x{result.height})")
    return True

"""`rednet batch`: restore every photo in a folder (the core is `rednet.engine.batch`).

The job is checked once by `validate_job` before any file is touched (exit status 2); each file that
fails is named on stderr and the others go on (exit status 1). The first Ctrl-C stops at the next tile
and still writes the report (exit status 130); a second one stops at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rednet.cli.console import say, tell
from rednet.cli.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, error
from rednet.cli.options import add_run_options, add_task_options, task_values
from rednet.cli.progress import ProgressPrinter

NAME = "batch"


def register(sub) -> None:
    p = sub.add_parser(
        NAME,
        help="restore every photo in a folder",
        description="Restore every photo in INPUT_DIR into OUTPUT_DIR, keeping the folder tree. "
        "Bad files are reported and skipped; the input folder is never modified.",
    )
    p.add_argument("input_dir", type=Path, metavar="INPUT_DIR")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUTPUT_DIR")
    add_task_options(p)
    add_run_options(p)
    p.add_argument("-r", "--recursive", action="store_true", help="include subfolders")
    p.add_argument(
        "--glob",
        metavar="PATTERN",
        help="only files whose name or relative path matches (default: every image extension)",
    )
    p.add_argument(
        "--format",
        default="same",
        choices=("png", "jpg", "tif", "webp", "same"),
        help="output format (default: same as the input)",
    )
    p.add_argument(
        "--name",
        default="{stem}",
        metavar="TEMPLATE",
        help="output file name without extension; fields {stem} {task} {ext} (default {stem})",
    )
    exists = p.add_mutually_exclusive_group()
    exists.add_argument("--skip-existing", action="store_true", help="leave files whose output exists")
    exists.add_argument("--overwrite", action="store_true", help="replace outputs that exist")
    p.add_argument("--shard", metavar="K/N", help="do only the K-th of N disjoint parts (for several machines)")
    p.add_argument("--report", type=Path, metavar="CSV", help="write a CSV report (input, output, status, ...)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import signal

    from rednet.engine.batch import BatchJob, parse_shard, run_batch, validate_job
    from rednet.progress import TaskState

    task, values = task_values(args)
    job = BatchJob(
        input_dir=args.input_dir,
        output_dir=args.output,
        task=task.name,
        model=args.model,
        device=args.device,
        tile=args.tile,
        precision=args.precision,
        ensemble=args.ensemble,
        recursive=args.recursive,
        pattern=args.glob,
        shard=parse_shard(args.shard) if args.shard else None,
        output_format=args.format,
        name_template=args.name,
        jpeg_quality=args.output_quality,
        png_compression=args.png_compression,
        if_exists="skip" if args.skip_existing else "overwrite" if args.overwrite else "fail",
        **values,
    )
    validate_job(job)  # everything that would fail the whole job: a UsageError, exit status 2
    printer = ProgressPrinter(NAME)
    state = TaskState(printer)

    def on_file(result) -> None:
        if result.status == "failed":
            printer.close()
            try:
                name = result.src.relative_to(job.input_dir)
            except ValueError:
                name = result.src
            error(NAME, f"{name}: {result.reason}")

    def on_sigint(signum, frame) -> None:  # first Ctrl-C: stop at the next tile; second: at once
        if state.cancelled:
            raise KeyboardInterrupt
        state.cancel()

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread
        previous = None
    try:
        report = run_batch(job, state, on_file)  # a job-level problem still raises (exit status 2)
    finally:
        printer.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    code = EXIT_OK if report.failed == 0 else EXIT_FAILED
    if args.report:
        try:
            report.write_csv(args.report)
        except OSError as exc:
            error(NAME, f"{args.report}: cannot write the report: {exc}")
            code = EXIT_FAILED
    say(report.summary())
    if report.cancelled:
        tell(f"rednet {NAME}: interrupted")
        return EXIT_INTERRUPTED
    return code

"""`rednet bench`: speed and memory on this machine, as a Markdown table (and JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rednet.cli.console import say
from rednet.cli.exits import EXIT_OK
from rednet.cli.options import parse_task_models
from rednet.cli.progress import ProgressPrinter
from rednet.errors import UsageError
from rednet.tasks import TASK_NAMES

NAME = "bench"


def _megapixels(text: str) -> float:
    value = float(text)
    if not 0 < value <= 250:
        raise argparse.ArgumentTypeError(f"must be between 0 and 250 megapixels, got {text}")
    return value


def register(sub) -> None:
    p = sub.add_parser(
        NAME,
        help="measure speed and memory of the models against the classical peers",
        description="Time each model (the shipped ones, or --model TASK=PATH, or random-init "
        "RED20/RED30-64 when there are none) on a 1 MP photo in fp32 and bf16 "
        "(and on CUDA), against the machine's matmul peak and CBM3D, FFDNet, OpenCV NLM, "
        "bicubic and cv2.inpaint; then peak memory and start-up of `rednet "
        "restore` on 12 and 24 MP photos, each in a fresh process; then whole commands "
        "against what a user would otherwise run (Pillow's read + write, FFDNet's "
        "process, a minimal PySide6 viewer), as ratios. Takes several "
        "minutes; --quick takes seconds. Prints a Markdown table.",
    )
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="TASK=MODEL",
        help="bench this model for TASK (repeatable, several per task too; default: the shipped models)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a small photo and a tiny memory probe instead of 12/24 MP (seconds, for tests)",
    )
    p.add_argument(
        "--memory-mp",
        type=_megapixels,
        nargs="*",
        metavar="MP",
        help="photo sizes for the memory probes in megapixels (default 12 24; none to skip)",
    )
    p.add_argument("--no-peers", action="store_true", help="skip CBM3D, FFDNet, NLM, bicubic and cv2.inpaint")
    p.add_argument(
        "--no-whole-commands",
        action="store_true",
        help="skip the fresh-process ratios: a small inpaint against Pillow's read + write, a denoise against "
        "FFDNet's whole process, the app's start against a minimal viewer",
    )
    p.add_argument(
        "--device", default="auto", choices=("auto", "cpu", "cuda"), help="auto: the CPU, and CUDA too when present"
    )
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.add_argument("--markdown", type=Path, help="also write the table here")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rednet.evaluation.bench import run_bench
    from rednet.evaluation.bench_report import markdown, write_json
    from rednet.progress import TaskState

    models = parse_task_models(args.model, TASK_NAMES)
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("CUDA is not available on this machine", option="device")
    printer = ProgressPrinter(NAME, interval_s=20)
    try:  # a ModelError: exit status 2
        result = run_bench(
            models or None,
            quick=args.quick,
            device=args.device,
            memory_megapixels=None if args.memory_mp is None else tuple(args.memory_mp),
            peers=not args.no_peers,
            whole_commands=not args.no_whole_commands,
            state=TaskState(printer),
        )
    finally:
        printer.close()
    table = markdown(result)
    say(table)
    if args.json:
        write_json(result, args.json)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    return EXIT_OK

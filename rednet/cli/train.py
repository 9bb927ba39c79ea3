"""`rednet train`: train a task model from a folder of clean photos."""

from __future__ import annotations

import argparse

from rednet.cli.console import say
from rednet.cli.exits import EXIT_OK
from rednet.cli.options import add_training_options
from rednet.cli.progress import ProgressPrinter

NAME = "train"


def register(sub) -> None:
    p = sub.add_parser(NAME, help="train a task model from a folder of clean photos")
    add_training_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rednet.progress import TaskState
    from rednet.train.loop import TrainConfig, train

    cfg = TrainConfig(
        task=args.task,
        data=args.data,
        out=args.output,
        arch=args.arch,
        depth=args.depth,
        width=args.width,
        base=args.init,
        warmup=args.warmup,
        patch=args.patch,
        batch=args.batch,
        iters=args.iters,
        minutes=args.minutes,
        lr=args.lr,
        seed=args.seed,
        val_fraction=args.val_fraction,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        device=args.device,
        precision=args.precision,
        blind=args.blind,
    )
    printer = ProgressPrinter(f"{NAME} {args.task}", interval_s=30)
    try:
        result = train(cfg, TaskState(printer))  # a DataError or ModelError: exit status 2
    finally:
        printer.close()
    say(
        f"wrote {result.path}: {result.steps} steps in {result.wall_s / 60:.1f} min, validation PSNR "
        f"{result.input_psnr:.2f} dB input -> {result.val_psnr:.2f} dB ({result.stopped})"
    )
    return EXIT_OK

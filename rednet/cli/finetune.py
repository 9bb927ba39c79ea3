"""`rednet finetune`: teach a task model the user's own material."""

from __future__ import annotations

import argparse
from pathlib import Path

from rednet.cli.console import say
from rednet.cli.exits import EXIT_OK
from rednet.cli.options import add_training_options
from rednet.cli.progress import ProgressPrinter

NAME = "finetune"


def register(sub) -> None:
    p = sub.add_parser(
        NAME,
        help="fine-tune a model on your own photos",
        description="Fine-tune a task model on a folder of your photos (corrupted on the fly), "
        "or on corrupted/clean pairs matched by file name (--pairs). A bare -o NAME "
        "saves into your user models folder, where `rednet models` and the app find it.",
    )
    add_training_options(p, finetune=True)
    p.add_argument("--pairs", type=Path, help="folder of corrupted versions of the --data photos, same file names")
    p.add_argument("--base", help="model to start from (default: the shipped model for --task)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model of the same name")
    p.set_defaults(run=run, iters=300, lr=1e-4, batch=16, val_fraction=0.2, checkpoint_every=25)


def run(args: argparse.Namespace) -> int:
    from rednet.progress import TaskState
    from rednet.train.finetune import finetune

    printer = ProgressPrinter(f"{NAME} {args.task}", interval_s=10)
    try:  # a DataError or ModelError: exit status 2
        result = finetune(
            args.task,
            args.data,
            args.output,
            base=args.base,
            pairs=args.pairs,
            iters=args.iters,
            minutes=args.minutes,
            lr=args.lr,
            val_fraction=args.val_fraction,
            batch=args.batch,
            patch=args.patch,
            resume=args.resume,
            device=args.device,
            precision=args.precision,
            seed=args.seed,
            checkpoint_every=args.checkpoint_every,
            overwrite=args.overwrite,
            state=TaskState(printer),
        )
    finally:
        printer.close()
    say(
        f"wrote {result.path}: {result.steps} steps in {result.wall_s / 60:.1f} min ({result.stopped}); "
        f"validation PSNR {result.val_psnr_before:.2f} dB -> {result.val_psnr:.2f} dB"
    )
    return EXIT_OK

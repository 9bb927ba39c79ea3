"""`rednet finetune`: teach a task model the user's own material."""

from __future__ import annotations

from pathlib import Path


def add_finetune_command(sub, add_training_options) -> None:
    p = sub.add_parser("finetune", help="fine-tune a model on your own photos",
                       description="Fine-tune a task model on a folder of your photos (corrupted on the fly), "
                                   "or on corrupted/clean pairs matched by file name (--pairs). A bare -o NAME "
                                   "saves into your user models folder, where `rednet models` and the app find it.")
    add_training_options(p, finetune=True)
    p.add_argument("--pairs", type=Path, help="folder of corrupted versions of the --data photos, same file names")
    p.add_argument("--base", help="model to start from (default: the shipped model for --task)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model of the same name")
    p.set_defaults(func=cmd_finetune, iters=300, lr=1e-4, batch=16, val_fraction=0.2, checkpoint_every=25)


def cmd_finetune(args) -> int:
    from rednet.cli.main import CliError
    from rednet.cli.progress import ProgressPrinter
    from rednet.train.data import DataError
    from rednet.train.finetune import finetune
    from rednet.progress import TaskState
    from rednet.models.registry import ModelError

    printer = ProgressPrinter(f"finetune {args.task}", interval_s=10)
    try:
        result = finetune(args.task, args.data, args.output, base=args.base, pairs=args.pairs, iters=args.iters,
                          minutes=args.minutes, lr=args.lr, val_fraction=args.val_fraction, batch=args.batch,
                          patch=args.patch, resume=args.resume, device=args.device, precision=args.precision,
                          seed=args.seed, checkpoint_every=args.checkpoint_every, overwrite=args.overwrite,
                          state=TaskState(printer))
    except (DataError, ModelError) as exc:
        raise CliError(str(exc)) from None
    finally:
        printer.close()
    from rednet.cli.console import say

    say(f"wrote {result.path}: {result.steps} steps in {result.wall_s / 60:.1f} min ({result.stopped}); "
        f"validation PSNR {result.val_psnr_before:.2f} dB -> {result.val_psnr:.2f} dB")
    return 0

"""The `rednet` command line: everything the desktop app can do, without a window.

Exit status: 0 when everything succeeded, 1 when some input failed (each named on stderr with its
reason), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rednet import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
WRITABLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")


class CliError(Exception):
    """A usage error found after parsing (exit status 2)."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def add_task_options(p: argparse.ArgumentParser) -> None:
    """The options shared by `restore` and `batch`."""
    p.add_argument("--task", required=True, choices=("denoise", "sr", "jpeg", "inpaint"),
                   help="what to restore")
    p.add_argument("--sigma", type=float, help="denoise: noise level 0-75 in 0-255 units (default: estimated)")
    p.add_argument("--scale", type=float, help="sr: upscaling factor 1.25-4 (default 2)")
    p.add_argument("--quality", type=int,
                   help="jpeg: the JPEG quality 1-100 the photo was saved at (default: read from the file; "
                        "the model covers 5-90 and clamps values outside)")
    p.add_argument("--mask", type=Path, help="inpaint: mask image, white = fill, same size as the photo")
    p.add_argument("--model", help="model name (see `rednet models`) or weights file (default: the shipped one)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                   help="where to run (default: auto = cuda, then mps, then cpu)")
    p.add_argument("--tile", type=_positive_int, help="tile size in pixels (default: chosen from free memory)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                   help="arithmetic precision (default: bf16 where the hardware has it, else fp32)")
    p.add_argument("--ensemble", action="store_true",
                   help="best quality: average over 8 flips/rotations, 8x slower")
    p.add_argument("--output-quality", type=int, default=95, metavar="Q",
                   help="JPEG/WebP quality of the saved output (default 95)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rednet", description="RED-Net photo restoration")
    parser.add_argument("--version", action="version", version=f"rednet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("restore", help="restore one or more photos",
                       description="Restore photos. With several inputs OUTPUT is a folder and each output "
                                   "keeps its input's name; otherwise the format follows OUTPUT's extension "
                                   "(.png .jpg .tif .webp .bmp).")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUTPUT")
    add_task_options(p)
    p.add_argument("--overwrite-input", action="store_true",
                   help="allow OUTPUT to be the input file itself (it is never overwritten otherwise)")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("batch", help="restore every photo in a folder",
                       description="Restore every photo in INPUT_DIR into OUTPUT_DIR, keeping the folder tree. "
                                   "Bad files are reported and skipped; the input folder is never modified.")
    p.add_argument("input_dir", type=Path, metavar="INPUT_DIR")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUTPUT_DIR")
    add_task_options(p)
    p.add_argument("-r", "--recursive", action="store_true", help="include subfolders")
    p.add_argument("--glob", metavar="PATTERN",
                   help="only files whose name or relative path matches (default: every image extension)")
    p.add_argument("--format", default="same", choices=("png", "jpg", "tif", "webp", "same"),
                   help="output format (default: same as the input)")
    p.add_argument("--name", default="{stem}", metavar="TEMPLATE",
                   help="output file name without extension; fields {stem} {task} {ext} (default {stem})")
    exists = p.add_mutually_exclusive_group()
    exists.add_argument("--skip-existing", action="store_true", help="leave files whose output exists")
    exists.add_argument("--overwrite", action="store_true", help="replace outputs that exist")
    p.add_argument("--shard", metavar="K/N", help="do only the K-th of N disjoint parts (for several machines)")
    p.add_argument("--report", type=Path, metavar="CSV", help="write a CSV report (input, output, status, ...)")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("models", help="list the shipped and user models; rename, delete or export your own")
    p.add_argument("--task", choices=("denoise", "sr", "jpeg", "inpaint"))
    manage = p.add_mutually_exclusive_group()
    manage.add_argument("--rename", nargs=2, metavar=("OLD", "NEW"), help="rename one of your models")
    manage.add_argument("--delete", metavar="NAME", help="delete one of your models (weights, card, checkpoint)")
    manage.add_argument("--export", nargs=2, metavar=("NAME", "DIR"), help="copy a model and its card to DIR")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("train", help="train a task model from a folder of clean photos")
    add_training_options(p)
    p.set_defaults(func=cmd_train)

    from rednet.cli.bench import add_bench_command
    from rednet.cli.eval import add_eval_command
    from rednet.cli.finetune import add_finetune_command

    add_eval_command(sub)
    add_bench_command(sub)
    add_finetune_command(sub, add_training_options)
    return parser


def add_training_options(p: argparse.ArgumentParser, finetune: bool = False) -> None:
    p.add_argument("--task", required=True, choices=("denoise", "sr", "jpeg", "inpaint"))
    p.add_argument("--data", required=True, type=Path, help="folder of clean photos (or a .npy of uint8 crops)")
    p.add_argument("-o", "--output", required=True, type=Path, help="where to write the .safetensors model")
    if not finetune:
        # No `choices`: the registry (which imports torch) checks the name, so --help stays light.
        p.add_argument("--arch", default="rednet",
                       help="rednet: as released; rednet-s2d: on a 2x2 space-to-depth input (default rednet)")
        p.add_argument("--depth", type=int, default=20, choices=(10, 20, 30), help="RED10/20/30 (default 20)")
        p.add_argument("--width", type=int, default=64, help="channels per layer (default 64)")
        p.add_argument("--blind", action="store_true",
                       help="denoise/jpeg: no noise-level/quality input map (the model infers it)")
        p.add_argument("--init", metavar="MODEL",
                       help="start from this model (name or file; its architecture wins over --arch/--depth/--width)")
        p.add_argument("--warmup", type=_positive_int, default=50, help="learning-rate warm-up steps")
    p.add_argument("--iters", type=_positive_int, default=2000)
    p.add_argument("--minutes", type=float, help="time budget; stops at whichever of --iters/--minutes comes first")
    p.add_argument("--batch", type=_positive_int, default=32)
    p.add_argument("--patch", type=_positive_int, default=48)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--checkpoint-every", type=_positive_int, default=100)
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT's checkpoint")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from rednet.cli import console

    try:
        return args.func(args)
    except CliError as exc:
        console.tell(f"rednet {args.command}: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.tell(f"rednet {args.command}: interrupted")
        return 130
    finally:
        console.flush_all()  # a closed or full stdout/stderr never turns into an exit status


def _usage_checks(args) -> None:
    from rednet.engine.restore import UsageError, validate_options

    try:
        validate_options(args.task, sigma=args.sigma, scale=args.scale, quality=args.quality,
                         mask=None if args.task != "inpaint" else (args.mask or None))
    except UsageError as exc:
        raise CliError(str(exc)) from None
    if args.task == "inpaint" and not Path(args.mask).is_file():
        from rednet.io.safe_files import problem

        reason = problem(args.mask, "mask") or "file not found"
        raise CliError(f"{args.mask}: {'mask file not found' if reason == 'file not found' else reason}")
    if args.task == "inpaint":  # an unreadable mask fails every input: a usage error, reported once
        from rednet.io.imageio import ImageReadError, read_mask

        try:
            read_mask(args.mask)
        except ImageReadError as exc:
            raise CliError(str(exc)) from None
    if not 1 <= args.output_quality <= 100:
        raise CliError(f"--output-quality must be between 1 and 100, got {args.output_quality}")
    from rednet.engine.device import DeviceError, resolve_device

    try:
        resolve_device(args.device)
    except DeviceError as exc:
        raise CliError(str(exc)) from None


def _load_model_or_fail(args):
    from rednet.models.registry import ModelError
    from rednet.engine.restore import resolve_model

    try:
        return resolve_model(args.model, args.task)
    except ModelError as exc:
        raise CliError(str(exc)) from None


def output_paths(inputs: list[Path], output: Path) -> list[Path]:
    if len(inputs) == 1 and output.suffix.lower() in WRITABLE_SUFFIXES and not output.is_dir():
        return [output]
    if len(inputs) == 1 and output.suffix and not output.is_dir():
        raise CliError(f"{output}: unsupported output format; use one of {' '.join(WRITABLE_SUFFIXES)}")
    if os.path.lexists(output) and not output.is_dir():  # e.g. `-o notes`, a file without an extension
        from rednet.io.safe_files import describe

        what = "a file" if output.is_file() else (describe(output) or "a file")
        raise CliError(f"{output}: is {what}, not a folder; to write one photo, give OUTPUT an extension "
                       f"({' '.join(WRITABLE_SUFFIXES)})")
    names = [p.stem + (p.suffix.lower() if p.suffix.lower() in WRITABLE_SUFFIXES else ".png") for p in inputs]
    if len(set(names)) != len(names):
        raise CliError("several inputs have the same file name; restore them into separate folders")
    return [output / n for n in names]


def cmd_restore(args) -> int:
    from rednet.io.imageio import ImageReadError, ImageWriteError, MaskSizeError, read_mask, read_photo, write_photo
    from rednet.progress import TaskState
    from rednet.engine.restore import UsageError, restore

    from rednet.cli import console
    from rednet.cli.progress import ProgressPrinter
    from rednet.io.temp_files import remove_stale

    _usage_checks(args)
    outputs = output_paths(args.inputs, args.output)
    if len(outputs) > 1 or outputs[0].parent != Path(""):
        try:
            outputs[0].parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"{outputs[0].parent}: cannot create the output folder "
                           f"({exc.strerror or exc})") from None
    for folder in {dst.parent for dst in outputs}:
        remove_stale(folder)  # temporary files of an earlier run that was killed while writing
    model = _load_model_or_fail(args)
    failed = 0
    for src, dst in zip(args.inputs, outputs):
        printer = ProgressPrinter(src.name)
        try:
            if not args.overwrite_input and src.exists() and dst.exists() and src.resolve() == dst.resolve():
                raise UsageError("output would overwrite the input (pass --overwrite-input to allow it)")
            photo = read_photo(src)
            mask = None
            if args.task == "inpaint":
                try:
                    mask = read_mask(args.mask, (photo.width, photo.height))
                except MaskSizeError as exc:
                    if len(args.inputs) == 1:
                        raise CliError(str(exc)) from None  # names the mask file already
                    raise UsageError(str(exc)) from None
            result = restore(photo, args.task, sigma=args.sigma, scale=args.scale, quality=args.quality,
                             mask=mask, model=model, device=args.device, tile=args.tile,
                             precision=None if args.precision == "auto" else args.precision,
                             ensemble=args.ensemble, state=TaskState(printer))
            printer.close()
            notes = list(result.warnings)
            notes += [n for n in write_photo(result, dst, jpeg_quality=args.output_quality, overwrite=True)
                      if n not in notes]
            for note in notes:  # printing never fails the photo: it is written already
                console.tell(f"{src.name}: {note}")
            console.say(f"{src} -> {dst} ({result.width}x{result.height})")
        except (ImageReadError, ImageWriteError, UsageError, ValueError, RuntimeError, OSError) as exc:
            printer.close()
            failed += 1
            message = str(exc)
            if not message.startswith(src.name) and not message.startswith(str(src)):
                message = f"{src}: {message}"
            console.tell(f"rednet restore: error: {message}")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_batch(args) -> int:
    import signal

    from rednet.cli import console
    from rednet.engine.batch import BatchJob, parse_shard, run_batch, validate_job
    from rednet.cli.progress import ProgressPrinter
    from rednet.progress import TaskState
    from rednet.models.registry import ModelError
    from rednet.engine.restore import UsageError

    _usage_checks(args)
    try:
        job = BatchJob(input_dir=args.input_dir, output_dir=args.output, task=args.task, sigma=args.sigma,
                       scale=args.scale, quality=args.quality, mask=args.mask, model=args.model,
                       device=args.device, tile=args.tile, precision=args.precision, ensemble=args.ensemble,
                       recursive=args.recursive, pattern=args.glob,
                       shard=parse_shard(args.shard) if args.shard else None,
                       output_format=args.format, name_template=args.name, jpeg_quality=args.output_quality,
                       if_exists="skip" if args.skip_existing else "overwrite" if args.overwrite else "fail")
        validate_job(job)
    except UsageError as exc:
        raise CliError(str(exc)) from None
    printer = ProgressPrinter("batch")
    state = TaskState(printer)

    def on_file(result) -> None:
        if result.status == "failed":
            printer.close()
            try:
                name = result.src.relative_to(job.input_dir)
            except ValueError:
                name = result.src
            console.tell(f"rednet batch: error: {name}: {result.reason}")

    def on_sigint(signum, frame) -> None:  # first Ctrl-C: stop at the next tile; second: at once
        if state.cancelled:
            raise KeyboardInterrupt
        state.cancel()

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread
        previous = None
    try:
        report = run_batch(job, state, on_file)
    except (UsageError, ModelError) as exc:
        raise CliError(str(exc)) from None
    finally:
        printer.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    code = EXIT_OK if report.failed == 0 else EXIT_FAILED
    if args.report:
        try:
            report.write_csv(args.report)
        except OSError as exc:
            console.tell(f"rednet batch: error: {args.report}: cannot write the report: {exc}")
            code = EXIT_FAILED
    console.say(report.summary())
    if report.cancelled:
        console.tell("rednet batch: interrupted")
        return 130
    return code


def cmd_models(args) -> int:
    from rednet.cli.console import say
    from rednet.models.registry import ModelError, list_models
    from rednet.models.user_models import delete_user_model, export_model, rename_user_model

    try:
        if args.rename:
            say(f"renamed to {rename_user_model(*args.rename)}")
            return EXIT_OK
        if args.delete:
            say("deleted " + ", ".join(p.name for p in delete_user_model(args.delete)))
            return EXIT_OK
        if args.export:
            say("exported " + ", ".join(str(p) for p in export_model(*args.export)))
            return EXIT_OK
    except ModelError as exc:
        raise CliError(str(exc)) from None
    models = list_models(args.task)
    if not models:
        say("no models found")
        return EXIT_OK
    say(f"{'name':<28} {'task':<8} {'source':<8} {'size':>8}  summary")
    for m in models:
        say(f"{m.name:<28} {m.task:<8} {m.source:<8} {m.size_bytes / 2**20:7.1f}M  {m.summary}")
    return EXIT_OK


def cmd_train(args) -> int:
    from rednet.cli.progress import ProgressPrinter
    from rednet.train.data import DataError
    from rednet.progress import TaskState
    from rednet.models.registry import ModelError
    from rednet.train.loop import TrainConfig, train

    cfg = TrainConfig(task=args.task, data=args.data, out=args.output, arch=args.arch, depth=args.depth,
                      width=args.width, base=args.init, warmup=args.warmup,
                      patch=args.patch, batch=args.batch, iters=args.iters, minutes=args.minutes, lr=args.lr,
                      seed=args.seed, val_fraction=args.val_fraction, checkpoint_every=args.checkpoint_every,
                      resume=args.resume, device=args.device, precision=args.precision, blind=args.blind)
    printer = ProgressPrinter(f"train {args.task}", interval_s=30)
    try:
        result = train(cfg, TaskState(printer))
    except (DataError, ModelError) as exc:
        raise CliError(str(exc)) from None
    finally:
        printer.close()
    from rednet.cli.console import say

    say(f"wrote {result.path}: {result.steps} steps in {result.wall_s / 60:.1f} min, validation PSNR "
        f"{result.input_psnr:.2f} dB input -> {result.val_psnr:.2f} dB ({result.stopped})")
    return EXIT_OK

"""Options several commands share: the task options generated from the task registry, the run options
of `restore` and `batch`, and the training options of `train` and `finetune`.

Every task option comes from its task (`rednet.tasks`): `--task` lists `TASK_NAMES`, and each task's
options become `--sigma`, `--scale`, `--quality`, `--mask`, ... with the type, range and default its
`Option` gives, so no task name or range is written here. Heavy modules (torch, the engine) are imported
only when a command runs, so `rednet --help` stays quick.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rednet.errors import UsageError
from rednet.tasks import TASK_NAMES, TASKS, MaskOption, Option, Task, get_task

DEVICES = ("auto", "cpu", "cuda", "mps")  # rednet.engine.device.DEVICE_CHOICES, without importing torch
PNG_COMPRESSIONS = ("fast", "small")  # rednet.io.write.PNG_COMPRESSIONS, without importing Pillow and OpenCV


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _task_option_arguments() -> dict[str, dict]:
    """add_argument() keywords per option name, over every task in registry order: an option two
    tasks share is one flag whose help names both ("denoise: ...; other: ...")."""
    arguments: dict[str, dict] = {}
    for task in TASKS.values():
        for opt in task.options:
            if isinstance(opt, Option):
                kind, text = opt.kind, opt.cli_help()
            elif isinstance(opt, MaskOption):
                kind, text = Path, opt.help
            else:  # a new kind of option needs a line here
                raise TypeError(f"{task.name}: option {opt!r} has no command-line form")
            entry = arguments.setdefault(opt.name, {"type": kind, "help": []})
            if entry["type"] is not kind:
                raise TypeError(f"option {opt.name!r} has different types in different tasks")
            entry["help"].append(f"{task.name}: {text}")
    return arguments


def add_task_options(p: argparse.ArgumentParser) -> None:
    """--task and every task's own options (the options of the tasks not chosen are ignored)."""
    p.add_argument("--task", required=True, choices=TASK_NAMES, help="what to restore")
    for name, argument in _task_option_arguments().items():
        p.add_argument(_flag(name), dest=name, type=argument["type"], help="; ".join(argument["help"]))


def add_run_options(p: argparse.ArgumentParser) -> None:
    """How `restore` and `batch` run the model and save the result."""
    p.add_argument("--model", help="model name (see `rednet models`) or weights file (default: the shipped one)")
    p.add_argument(
        "--device", default="auto", choices=DEVICES, help="where to run (default: auto = cuda, then mps, then cpu)"
    )
    p.add_argument("--tile", type=positive_int, help="tile size in pixels (default: chosen from free memory)")
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16", "fp16"),
        default="auto",
        help="arithmetic precision (default: bf16 where the hardware has it, else fp32)",
    )
    p.add_argument("--ensemble", action="store_true", help="best quality: average over 8 flips/rotations, 8x slower")
    p.add_argument(
        "--output-quality", type=int, default=95, metavar="Q", help="JPEG/WebP quality of the saved output (default 95)"
    )
    p.add_argument(
        "--png-compression",
        choices=PNG_COMPRESSIONS,
        default="fast",
        help="PNG outputs, lossless either way: fast = about 1 s to save a 12 MP photo (2 s at 16 bits), a file "
        "2.5-7%% larger than the usual zlib level 6, which takes 2.4-4.8x as long; small = the smallest file, "
        "8-13%% smaller than fast, but 20-35x slower to save (30-40 s for 12 MP) (default fast)",
    )


def task_values(args: argparse.Namespace) -> tuple[Task, dict]:
    """The chosen task and the values of its options as given (None: left out; the mask a Path)."""
    task = get_task(args.task)
    return task, {opt.name: getattr(args, opt.name, None) for opt in task.options}


def parse_task_models(items: list[str], tasks) -> list[tuple[str, str]]:
    """`--model TASK=MODEL` values (eval, bench) as (task, model) pairs; TASK must be one of `tasks`."""
    pairs = []
    for item in items:
        task, sep, model = item.partition("=")
        if not sep or task not in tasks:
            # The wording predates UsageError.option; tests/rednet/evaluation/test_bench.py expects it.
            raise UsageError(f"--model expects TASK=MODEL with TASK one of {', '.join(tasks)}, got {item!r}")
        pairs.append((task, model))
    return pairs


def add_training_options(p: argparse.ArgumentParser, finetune: bool = False) -> None:
    """The options of `train` (and, without the architecture ones, of `finetune`)."""
    p.add_argument("--task", required=True, choices=TASK_NAMES)
    p.add_argument("--data", required=True, type=Path, help="folder of clean photos (or a .npy of uint8 crops)")
    p.add_argument("-o", "--output", required=True, type=Path, help="where to write the .safetensors model")
    if not finetune:
        # No `choices`: the registry (which imports torch) checks the name, so --help stays light.
        p.add_argument(
            "--arch",
            default="rednet",
            help="rednet: as released; rednet-s2d: on a 2x2 space-to-depth input (default rednet)",
        )
        p.add_argument("--depth", type=int, default=20, choices=(10, 20, 30), help="RED10/20/30 (default 20)")
        p.add_argument("--width", type=int, default=64, help="channels per layer (default 64)")
        blindable = [t for t in TASKS.values() if t.can_be_blind and t.condition]
        p.add_argument(
            "--blind",
            action="store_true",
            help=f"{'/'.join(t.name for t in blindable)}: no {'/'.join(t.condition for t in blindable)} "
            "input map (the model infers it)",
        )
        p.add_argument(
            "--init",
            metavar="MODEL",
            help="start from this model (name or file; its architecture wins over --arch/--depth/--width)",
        )
        p.add_argument("--warmup", type=positive_int, default=50, help="learning-rate warm-up steps")
    p.add_argument("--iters", type=positive_int, default=2000)
    p.add_argument("--minutes", type=float, help="time budget; stops at whichever of --iters/--minutes comes first")
    p.add_argument("--batch", type=positive_int, default=32)
    p.add_argument("--patch", type=positive_int, default=48)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--checkpoint-every", type=positive_int, default=100)
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT's checkpoint")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))

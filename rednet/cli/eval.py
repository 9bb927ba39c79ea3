"""`rednet eval`: print the quality table of the shipped (or given) models against the peers."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from rednet.cli.console import say
from rednet.cli.exits import EXIT_OK
from rednet.cli.options import DEVICES, parse_task_models
from rednet.cli.progress import ProgressPrinter
from rednet.errors import UsageError
from rednet.tasks import TASK_NAMES

NAME = "eval"


def register(sub) -> None:
    p = sub.add_parser(
        NAME,
        help="measure the models against BM3D, FFDNet, bicubic, JPEG, jpegqs and OpenCV",
        description="Evaluate on scikit-image's public photos (needs the dev extra: bm3d, "
        "ffdnet, scikit-image; and jpegqs from apt). Prints a Markdown table "
        "per task; a peer that is not installed is listed without figures. "
        "Peer scores are cached ($REDNET_EVAL_CACHE, else the user cache folder), "
        "so a re-run costs only the models' own time.",
    )
    p.add_argument("--tasks", nargs="+", default=list(TASK_NAMES), choices=TASK_NAMES)
    p.add_argument("--photos", nargs="+", help="evaluation photo names (default: all nine)")
    p.add_argument("--long-side", type=int, default=512)
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="TASK=MODEL",
        help="evaluate this model for TASK instead of the shipped one (repeatable)",
    )
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    p.add_argument(
        "--ensemble",
        action="store_true",
        help="also run the models with test-time self-ensemble: its PSNR, gain and time cost",
    )
    p.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="run every peer again instead of reusing its cached scores (and cache nothing)",
    )
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.add_argument(
        "--update-cards",
        action="store_true",
        help="write each task's table into the evaluated model's card (.card.json)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rednet.evaluation.eval_report import markdown_table
    from rednet.evaluation.evalset import EVAL_PHOTOS
    from rednet.evaluation.evaluate import ensemble_supported, evaluate
    from rednet.progress import TaskState

    models = dict(parse_task_models(args.model, args.tasks))
    photos = tuple(args.photos or EVAL_PHOTOS)
    unknown = [p for p in photos if p not in EVAL_PHOTOS]
    if unknown:
        raise UsageError(
            f"unknown evaluation photo(s) {', '.join(unknown)}; choose from {', '.join(EVAL_PHOTOS)}", option="photos"
        )
    if args.ensemble and not ensemble_supported():
        raise UsageError("this version's restore() has no self-ensemble option", option="ensemble")
    printer = ProgressPrinter(NAME, interval_s=20)
    try:  # a ModelError: exit status 2
        summaries = evaluate(
            tuple(args.tasks),
            photos,
            args.long_side,
            models,
            args.device,
            None if args.precision == "auto" else args.precision,
            TaskState(printer),
            ensemble=args.ensemble,
            cache=args.cache,
        )
    except ImportError as exc:  # a peer's package that is needed and missing
        raise UsageError(str(exc)) from None
    finally:
        printer.close()
    say(markdown_table(summaries))
    if args.update_cards:
        for path in update_cards(summaries, models, photos=photos, long_side=args.long_side):
            say(f"updated {path}")
    if args.json:
        args.json.write_text(json.dumps(json_safe(summaries), indent=2) + "\n", encoding="utf-8")
    return EXIT_OK


def json_safe(value):
    """`value` with NaN and infinities as null: strict JSON (a peer that is not installed has no figures)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def update_cards(summaries: list[dict], models: dict, photos=None, long_side: int = 512) -> list[Path]:
    """Store each task's evaluation rows and Markdown table in its model's card."""
    import datetime

    from rednet.engine.device import cpu_name
    from rednet.engine.restore import resolve_model
    from rednet.evaluation.eval_report import markdown_table
    from rednet.evaluation.evalset import EVAL_PHOTOS
    from rednet.io.atomic import atomic_write_text
    from rednet.models.registry import card_path, read_card

    written = []
    for task in dict.fromkeys(s["task"] for s in summaries):
        model = resolve_model(models.get(task), task)
        rows = [s for s in summaries if s["task"] == task]
        path = card_path(model.path)
        card = read_card(model.path)
        card["evaluation"] = {
            "date": datetime.date.today().isoformat(),
            "photos": f"scikit-image {', '.join(photos or EVAL_PHOTOS)} (long side "
            f"{long_side}, 8-bit inputs, fixed seeds)",
            "machine": f"{cpu_name()} CPU",
            "rows": json_safe(rows),
            "table": markdown_table(rows),
        }
        atomic_write_text(path, json.dumps(card, indent=2) + "\n")
        written.append(path)
    return written

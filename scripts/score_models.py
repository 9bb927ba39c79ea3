#!/usr/bin/env python3
"""Our models alone on `rednet eval`'s public photos and settings: the campaign's yardstick.

    python scripts/score_models.py --task denoise runs/a.safetensors runs/b.safetensors [--json out.json]

The very cases of `rednet eval` (rednet.evaluation.evaluate with peers=False: scikit-image's nine
photos, long side 512, 8-bit inputs, the same corruptions and seeds), but no peers: seconds instead of
minutes, so candidates can be compared after each stretch of training. The peers' figures come from
`rednet eval`. A model may be a training checkpoint (.ckpt) of a run still going: its EMA weights
(what the run will save) in the architecture of the shipped model of the task (what a warm start has).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rednet.evaluation.evaluate import evaluate
from rednet.tasks import TASK_NAMES


def from_checkpoint(path: Path, task: str):
    """A running warm-started training's EMA weights as a LoadedModel (in the shipped model's layout)."""
    import copy

    import torch

    from rednet.models.registry import LoadedModel, default_model

    shipped = default_model(task)
    net = copy.deepcopy(shipped.net)
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True)["ema"])
    return LoadedModel(net=net.eval(), descriptor=shipped.descriptor, path=Path(path))


def score(task: str, model, long_side: int = 512, ensemble: bool = False) -> dict:
    start = time.perf_counter()
    if model is not None and str(model).endswith(".ckpt"):
        model = from_checkpoint(Path(model), task)
    rows = evaluate(
        (task,),
        long_side=long_side,
        models={task: model} if model else {},
        device="cpu",
        ensemble=ensemble,
        cache=False,
        peers=False,
    )
    settings = {r["setting"]: {"input": r["input_psnr"], "ours": r["ours_psnr"]} for r in rows if r["kind"] == "ours"}
    if ensemble:
        for r in rows:
            if r["kind"] == "ensemble":
                settings[r["setting"]]["ensemble"] = r["ensemble_psnr"]
    return {
        "model": str(getattr(model, "path", None) or model or "shipped"),
        "task": task,
        "settings": settings,
        "seconds": time.perf_counter() - start,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--task", required=True, choices=TASK_NAMES)
    ap.add_argument("models", nargs="*", help="model files or names (default: the shipped model)")
    ap.add_argument("--long-side", type=int, default=512)
    ap.add_argument("--ensemble", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    results = [score(args.task, m, args.long_side, args.ensemble) for m in (args.models or [None])]
    names = list(results[0]["settings"])
    print("| model | " + " | ".join(names) + " | s |")
    print("|---|" + "---|" * (len(names) + 1))
    for r in results:
        cells = " | ".join(f"{r['settings'][n]['ours']:.2f}" for n in names)
        print(f"| {Path(r['model']).name} | {cells} | {r['seconds']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What the window's progressive restoring costs and gives, on a big photo on the CPU.

    python scripts/bench_progressive.py [--megapixels 12] [--task denoise] [--tile 1024] [--cancels 5]

Prints, for the shipped model: the whole restore with automatic tiles (what the CLI and batch use)
against the window's fixed tile (its cost in %); the time until the first tile under a view of a
corner (1000x700 px, as at 100% zoom in a window) arrives, and at fit zoom (the whole photo in
view); and how long Cancel takes to stop the run, pressed at random moments (worst and median).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import numpy as np

from rednet.engine.progressive import Progressive, view_priority
from rednet.engine.restore import resolve_model, restore
from rednet.evaluation.bench_inputs import bench_photo
from rednet.io import Photo
from rednet.progress import Cancelled, TaskState
from rednet.tasks import get_task

OPTIONS = {"denoise": {"sigma": 25.0}, "jpeg": {"quality": 20}, "sr": {"scale": 2.0}}


def timed_restore(photo, task, tile, progressive=None) -> float:
    start = time.perf_counter()
    restore(photo, task, tile=tile, device="cpu", progressive=progressive, **OPTIONS[task])
    return time.perf_counter() - start


def first_tile_seconds(photo, task, tile, view) -> float:
    """Seconds from the start of the run to the first tile that overlaps `view`."""
    start, arrived = time.perf_counter(), []
    top, bottom, left, right = view
    state = TaskState()

    def on_tile(box, _pixels):
        y0, y1, x0, x1 = box
        if y0 < bottom and top < y1 and x0 < right and left < x1:
            arrived.append(time.perf_counter() - start)
            state.cancel()

    try:
        restore(
            photo,
            task,
            tile=tile,
            device="cpu",
            state=state,
            **OPTIONS[task],
            progressive=Progressive(view_priority(view), on_tile),
        )
    except Cancelled:
        pass
    return arrived[0]


def cancel_latency(photo, task, tile, after: float) -> float:
    """Seconds from cancel() (pressed `after` seconds into the run) until the run has stopped."""
    state, pressed = TaskState(), []

    def press():
        time.sleep(after)
        pressed.append(time.perf_counter())
        state.cancel()

    threading.Thread(target=press, daemon=True).start()
    try:
        restore(photo, task, tile=tile, device="cpu", state=state, **OPTIONS[task])
    except Cancelled:
        return time.perf_counter() - pressed[0]
    raise RuntimeError("the run ended before Cancel was pressed: press it earlier")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="denoise", choices=sorted(OPTIONS))
    ap.add_argument("--megapixels", type=float, default=12.0)
    ap.add_argument("--tile", type=int, default=1024, help="the window's tile side")
    ap.add_argument("--cancels", type=int, default=5)
    args = ap.parse_args()
    width = int(round((args.megapixels * 1e6 * 4 / 3) ** 0.5))
    height = int(round(width * 3 / 4))
    if args.task == "sr":  # the result has the size asked for
        width, height = width // 2, height // 2
    pixels, source = bench_photo(width, height)
    photo = Photo(pixels=pixels)
    resolve_model(None, args.task)  # load once, outside the timings
    out_w, out_h = get_task(args.task).output_size((width, height), OPTIONS[args.task])
    print(f"{args.task} on a {width}x{height} photo ({source}), result {out_w}x{out_h}")
    timed_restore(Photo(pixels=pixels[:256, :256]), args.task, None)  # warm up oneDNN

    auto = timed_restore(photo, args.task, None)
    fixed = timed_restore(photo, args.task, args.tile)
    print(
        f"whole run: automatic tiles {auto:.1f} s, {args.tile} px tiles {fixed:.1f} s "
        f"({(fixed / auto - 1) * 100:+.1f}%)"
    )
    corner = (out_h - 700, out_h, out_w - 1000, out_w)
    print(
        f"first tile in view: corner at 100% {first_tile_seconds(photo, args.task, args.tile, corner):.2f} s, "
        f"whole photo {first_tile_seconds(photo, args.task, args.tile, (0, out_h, 0, out_w)):.2f} s"
    )
    rng = np.random.default_rng(0)
    waits = [
        cancel_latency(photo, args.task, args.tile, float(rng.uniform(1.0, 0.8 * fixed))) for _ in range(args.cancels)
    ]
    print(
        f"cancel: worst {max(waits) * 1000:.0f} ms, median {statistics.median(waits) * 1000:.0f} ms "
        f"over {len(waits)} presses"
    )


if __name__ == "__main__":
    main()

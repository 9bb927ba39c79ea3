"""`rednet bench`: speed and memory of the models on this machine, against the classical peers.

In one run, for each model (the shipped ones; or those given with --model TASK=PATH; or, when there
are none, random-init RED20 and RED30 width-64 denoisers: timing does not depend on the weights):
- seconds per megapixel on the CPU in fp32 and, where the CPU does it natively, bf16 (and on CUDA
  when present), the model's FLOPs per pixel (2 * 9 * Cin * Cout per layer, counted analytically),
  the achieved GFLOP/s, and how that compares with the machine's measured peak (a large matmul in
  the same dtype) and with a single large 64->64 convolution in isolation;
- the same photo through the classical peers: CBM3D, OpenCV non-local means, bicubic, cv2.inpaint;
- the PSNR cost of bf16 against fp32 on that photo;
- peak memory (RSS; CUDA max allocated) and start-up time (process start to the first progress
  line) of `rednet restore` on 12 MP and 24 MP photos, each in a fresh subprocess.
`quick=True` uses a small photo and a tiny memory probe, for tests.

FLOPs here count a multiply-add as 2; GFLOP/s divide the FLOPs of the photo's own pixels by the wall
time, so the margin pixels that tiles recompute count against the figure. Peaks are medians over about
two seconds, so that on a shared machine they see the same average contention as the model runs.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from rednet.evaluation.bench_inputs import (
    MEMORY_MEGAPIXELS,
    QUICK_MEMORY_MEGAPIXELS,
    QUICK_SIZE,
    SIGMA,
    TIMING_SIZE,
    BenchModel,
    Case,
    _as_photo,
    _trained,
    bench_photo,
    find_models,
    task_case,
)
from rednet.evaluation.bench_machine import (
    _best_time,
    conv_peak,
    flops_per_pixel,
    machine_info,
    matmul_peak,
    weight_count,
)
from rednet.evaluation.bench_probe import _probe_args, _size_for, run_probe
from rednet.evaluation.bench_ratios import whole_command_ratios
from rednet.evaluation.bench_report import targets
from rednet.progress import SubState, TaskState, ensure_state
from rednet.tasks import get_task


# --- timing the models ---------------------------------------------------------------------------
def _network_input(case: Case) -> np.ndarray:
    return get_task(case.task).full_input(case.degraded, case.options)


def _finish(case: Case, pred: np.ndarray) -> np.ndarray:
    out = np.clip(pred, 0.0, 1.0)
    mask = case.options.get("mask")
    if mask is not None:  # only masked pixels come from the network
        out = np.where(mask[..., None], out, case.degraded)
    return out


def time_model(
    bm: BenchModel, case: Case, device: str, precision: str, reps: int, tile: int | None = None, state=None
) -> tuple[dict, np.ndarray]:
    """The conv stack alone (run_model on the whole network input): s/MP and GFLOP/s; and its output."""
    from rednet.engine.device import resolve_device
    from rednet.engine.inference import auto_tile, run_model

    x = _network_input(case)
    mp = x.shape[0] * x.shape[1] / 1e6
    run = lambda: run_model(bm.loaded, x, device=device, precision=precision, tile=tile)  # noqa: E731
    run_model(bm.loaded, x[:96, :96], device=device, precision=precision)  # warm-up (oneDNN primitives)
    best, out = math.inf, None
    for _ in range(reps):
        if state is not None:
            state.check()
        t = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - t)
    fpp = flops_per_pixel(bm.loaded.descriptor)
    size = tile or auto_tile(bm.loaded, resolve_device(device), precision)
    return {
        "device": device,
        "precision": precision,
        "seconds": best,
        "megapixels": mp,
        "s_per_mp": best / mp,
        "gflops": fpp * mp * 1e6 / best / 1e9,
        "tile": size,
    }, out


def time_restore(bm: BenchModel, case: Case, device: str, reps: int) -> dict:
    """restore() end to end (default precision): what a user waits for, without file I/O."""
    from rednet.engine.device import default_precision, resolve_device
    from rednet.engine.restore import restore

    photo = _as_photo(case.degraded)
    run = lambda: restore(photo, case.task, model=bm.loaded, device=device, **case.options)  # noqa: E731
    best = _best_time(run, reps) if reps > 1 else _timed_once(run)
    out_w, out_h = get_task(case.task).output_size(case.degraded.shape[1::-1], case.options)
    mp = out_h * out_w / 1e6
    return {
        "device": device,
        "precision": default_precision(resolve_device(device)),
        "seconds": best,
        "s_per_mp": best / mp,
    }


def _timed_once(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def psnr_cost(case: Case, outputs: dict[str, np.ndarray]) -> dict | None:
    """PSNR of the fp32 and bf16 results against the clean photo, and of bf16 against fp32."""
    from rednet.evaluation.metrics import psnr

    if "fp32" not in outputs or "bf16" not in outputs:
        return None
    clean = case.clean
    a = _finish(case, outputs["fp32"])[: clean.shape[0], : clean.shape[1]]
    b = _finish(case, outputs["bf16"])[: clean.shape[0], : clean.shape[1]]
    return {
        "fp32_db": psnr(clean, a),
        "bf16_db": psnr(clean, b),
        "cost_db": psnr(clean, a) - psnr(clean, b),
        "bf16_vs_fp32_db": psnr(a, b),
    }


# --- peers ---------------------------------------------------------------------------------------
def time_peers(clean: np.ndarray, state=None) -> list[dict]:
    """The classical tools on the same photo: seconds per megapixel (None with the reason if missing)."""
    from rednet.evaluation.peers import bm3d_peer, ffdnet_peer, nlm_peer, opencv_inpaint_peer
    from rednet.tasks import degradations as deg

    h, w = clean.shape[:2]
    mp = h * w / 1e6
    denoise, sr, inpaint = task_case("denoise", clean), task_case("sr", clean), task_case("inpaint", clean)
    sr_h, sr_w = sr.clean.shape[:2]
    peers = [
        ("CBM3D", "denoise", lambda: bm3d_peer(denoise.degraded, SIGMA), mp),
        ("FFDNet (in this process)", "denoise", lambda: ffdnet_peer(denoise.degraded, SIGMA), mp),
        ("OpenCV non-local means", "denoise", lambda: nlm_peer(denoise.degraded, SIGMA), mp),
        ("bicubic x2", "sr", lambda: deg.bicubic_resize(sr.degraded, (sr_w, sr_h)), sr_h * sr_w / 1e6),
        (
            "cv2.inpaint (Telea)",
            "inpaint",
            lambda: opencv_inpaint_peer(inpaint.degraded, inpaint.options["mask"], "telea"),
            mp,
        ),
    ]
    rows = []
    for name, task, fn, megapixels in peers:
        if state is not None:
            state.check()
        try:
            seconds = _timed_once(fn)
            rows.append({"peer": name, "task": task, "seconds": seconds, "s_per_mp": seconds / megapixels})
        except ImportError as exc:
            rows.append(
                {"peer": name, "task": task, "seconds": None, "s_per_mp": None, "note": f"not installed ({exc})"}
            )
    return rows


# --- the whole benchmark -------------------------------------------------------------------------
def run_bench(
    models=None,
    *,
    quick: bool = False,
    device: str = "auto",
    memory_megapixels: tuple[float, ...] | None = None,
    photo_size: tuple[int, int] | None = None,
    peers: bool = True,
    whole_commands: bool = True,
    state: TaskState | SubState | None = None,
) -> dict:
    """Run everything; returns the JSON-able result (see `markdown` for the table). `whole_commands`:
    also the fresh-process ratios of `bench_ratios` (the I/O floor, FFDNet's process, the app)."""
    import torch

    from rednet.engine.device import cpu_has_fast_bf16, default_precision

    state = ensure_state(state)
    t_start = time.perf_counter()
    info = machine_info()
    devices = ["cpu"]
    if device in ("auto", "cuda") and torch.cuda.is_available():
        devices.append("cuda")
    if device == "cuda":
        devices = devices[1:] or ["cpu"]
    width, height = photo_size or (QUICK_SIZE if quick else TIMING_SIZE)
    mem_sizes = tuple(
        memory_megapixels
        if memory_megapixels is not None
        else (QUICK_MEMORY_MEGAPIXELS if quick else MEMORY_MEGAPIXELS)
    )
    reps = 2 if quick else 1

    with tempfile.TemporaryDirectory(prefix="rednet-bench-") as tmp:
        folder = Path(tmp)
        bench_models = find_models(models, folder)
        clean, photo_source = bench_photo(width, height)

        # the machine's peaks, per device and dtype
        state.report(0.01, "measuring peak matmul throughput")
        precisions = {"cpu": ["fp32"] + (["bf16"] if cpu_has_fast_bf16() else [])}
        if "cuda" in devices:
            precisions["cuda"] = ["fp32", default_precision(torch.device("cuda"))]
        peak, conv = {}, {}
        for dev in devices:
            n = 1024 if quick else (8192 if dev == "cuda" else 2048)
            side = 128 if quick else 512
            peak[dev] = {p: matmul_peak(p, dev, n=n, reps=3 if quick else 5) for p in precisions[dev]}
            conv[dev] = {p: conv_peak(p, dev, side=side) for p in precisions[dev]}

        # the models
        rows = []
        steps = len(bench_models) + (1 if peers else 0) + len(bench_models) * len(mem_sizes)
        step = 0
        for bm in bench_models:
            state.report(0.02 + 0.96 * step / steps, f"timing {bm.name}")
            d = bm.loaded.descriptor
            case = task_case(d.task, clean)
            runs, outputs = [], {}
            for dev in devices:
                for prec in precisions[dev]:
                    state.check()
                    r, out = time_model(bm, case, dev, prec, reps)
                    r["peak_gflops"] = peak[dev][prec]
                    r["peak_ratio"] = r["gflops"] / peak[dev][prec]
                    r["conv_gflops"] = conv[dev][prec]
                    r["conv_ratio"] = r["gflops"] / conv[dev][prec]
                    runs.append(r)
                    if dev == "cpu":
                        outputs[prec] = out
            restores = [time_restore(bm, case, dev, reps) for dev in devices]
            rows.append(
                {
                    "name": bm.name,
                    "task": d.task,
                    "depth": d.depth,
                    "width": d.width,
                    "source": bm.source,
                    "trained": _trained(bm),
                    "weights": weight_count(d),
                    "flops_per_pixel": flops_per_pixel(d),
                    "runs": runs,
                    "restore": restores,
                    "bf16_psnr": psnr_cost(case, outputs),
                    "memory": [],
                }
            )
            step += 1

        peer_rows = []
        if peers:
            state.report(0.02 + 0.96 * step / steps, "timing the peers (CBM3D is slow)")
            peer_rows = time_peers(clean, state)
            step += 1

        # memory and start-up, each in a fresh process
        photos: dict = {}
        startup = []
        for row, bm in zip(rows, bench_models):
            for mp in mem_sizes:
                state.check()
                state.report(0.02 + 0.96 * step / steps, f"memory: {bm.name} on {mp:g} MP")
                for dev in devices:
                    args = _probe_args(bm, folder, mp, dev, photos)
                    probe = run_probe(args)
                    w, h = _size_for(mp)
                    probe.update({"megapixels": w * h / 1e6, "device": dev})
                    row["memory"].append(probe)
                step += 1
        if bench_models:  # start-up alone: stopped at its first progress line
            bm = bench_models[0]
            args = _probe_args(bm, folder, width * height / 1e6, devices[0], photos)
            startup.append(
                {"model": bm.name, "megapixels": width * height / 1e6, **run_probe(args, kill_at_first_progress=True)}
            )
        commands = None
        if whole_commands:
            state.report(0.97, "whole commands against the I/O floor, FFDNet's process and a minimal viewer")
            commands = whole_command_ratios(folder / "commands", quick=quick, reps=1 if quick else 2)

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info["load_after"] = list(load) if load else None
    cores = info["logical_cores"] or 1
    loads = [x for x in (info["load_before"], info["load_after"]) if x]
    info["busy"] = bool(loads) and max(x[0] for x in loads) > 0.5 * cores
    result = {
        "machine": info,
        "photo": {"width": width, "height": height, "source": photo_source, "megapixels": width * height / 1e6},
        "peak_gflops": peak,
        "single_conv_gflops": conv,
        "models": rows,
        "peers": peer_rows,
        "startup": startup,
        "whole_commands": commands,
        "quick": quick,
        "wall_s": time.perf_counter() - t_start,
    }
    result["targets"] = targets(result)
    state.report(1.0, "done")
    return result

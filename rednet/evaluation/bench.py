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

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rednet.progress import SubState, TaskState, ensure_state

TIMING_SIZE = (1155, 866)  # 1.0 MP, 4:3
QUICK_SIZE = (160, 120)
MEMORY_MEGAPIXELS = (12.0, 24.0)
QUICK_MEMORY_MEGAPIXELS = (0.03,)
SIGMA, JPEG_QUALITY, SR_SCALE = 25.0, 20, 2

# What `rednet restore` is run as in the probes: the console script's own code, instrumented to print
# the wall-clock time of its first progress callback (start-up = that minus the process's start) and,
# after the command has finished, its peak RSS (VmHWM; ru_maxrss from wait4 is no good on Linux: a
# child inherits its parent's high-water mark across fork and exec) and the CUDA peak when it used CUDA.
_PROBE_DRIVER = (
    "import sys, time\n"
    "import rednet.cli.progress as cp\n"
    "_call = cp.ProgressPrinter.__call__\n"
    "def first(self, p, _seen=[]):\n"
    "    if not _seen:\n"
    "        _seen.append(1)\n"
    "        sys.stderr.write('REDNET_FIRST_PROGRESS %.6f\\n' % time.time())\n"
    "        sys.stderr.flush()\n"
    "    return _call(self, p)\n"
    "cp.ProgressPrinter.__call__ = first\n"
    "from rednet.cli.main import main\n"
    "rc = main(sys.argv[1:])\n"
    "t = sys.modules.get('torch')\n"
    "if t is not None and t.cuda.is_available() and t.cuda.is_initialized():\n"
    "    print('CUDA_MAX_ALLOCATED', t.cuda.max_memory_allocated(), file=sys.stderr)\n"
    "try:\n"
    "    hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
    "    print('VMHWM_KB', hwm[0].split()[1], file=sys.stderr)\n"
    "except (OSError, IndexError):\n"
    "    pass\n"
    "sys.exit(rc)\n"
)


# --- model arithmetic ----------------------------------------------------------------------------
def layer_channels(descriptor) -> list[tuple[int, int]]:
    """(Cin, Cout) of every 3x3 layer of a RED-Net: N convolutions, then N transposed convolutions
    (a space-to-depth one folds each 2x2 block into 4x the colour and condition channels)."""
    d = descriptor
    n, fold = d.depth // 2, d.block**2
    convs = [((d.colors + d.cond_channels) * fold if i == 0 else d.width, d.width) for i in range(n)]
    deconvs = [(d.width, d.colors * fold if j == n - 1 else d.width) for j in range(n)]
    return convs + deconvs


def flops_per_pixel(descriptor) -> int:
    """FLOPs per output pixel of the conv stack: 2 * 9 * Cin * Cout per layer (a MAC counts 2), per
    network position, which a space-to-depth network shares among a block's pixels."""
    per_position = sum(2 * 9 * cin * cout for cin, cout in layer_channels(descriptor))
    return -(-per_position // descriptor.block**2)


def weight_count(descriptor) -> int:
    """Weights of the 3x3 kernels (biases left out): FLOPs per pixel are twice this."""
    return sum(9 * cin * cout for cin, cout in layer_channels(descriptor))


# --- machine -------------------------------------------------------------------------------------
def _physical_cores() -> int | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    cores, phys = set(), None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            phys = value.strip()
        elif key == "core id":
            cores.add((phys, value.strip()))
    return len(cores) or None


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    import torch

    from rednet.engine.device import cpu_has_fast_bf16
    from rednet.engine.inference import available_memory

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info = {"omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "cpu": _cpu_name(), "logical_cores": os.cpu_count(), "physical_cores": _physical_cores(),
            "torch_threads": torch.get_num_threads(), "fast_bf16": cpu_has_fast_bf16(),
            "torch": torch.__version__, "python": platform.python_version(),
            "mem_available_gb": (available_memory() or 0) / 2**30,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "load_before": list(load) if load else None}
    return info


def _best_time(fn, reps: int, min_total: float = 0.0, median: bool = False) -> float:
    """Best (or median) wall time of `fn` over at least `reps` calls and `min_total` seconds."""
    fn()  # warm-up: primitive creation, caches
    times: list[float] = []
    while len(times) < reps or sum(times) < min_total:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) if median else min(times)


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def matmul_peak(dtype: str, device: str = "cpu", n: int = 2048, reps: int = 5) -> float:
    """GFLOP/s of an n x n x n matmul in `dtype` ("fp32", "bf16", "fp16"): the machine's practical peak."""
    import torch

    dt = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    a = torch.randn(n, n, device=device).to(dt)
    b = torch.randn(n, n, device=device).to(dt)

    def run():
        a @ b
        _sync(device)

    # the median over ~2 s: on a shared machine the model timings see average contention, not the best moment
    return 2 * n**3 / _best_time(run, reps, min_total=2.0 if n >= 2048 else 0.0, median=True) / 1e9


def conv_peak(dtype: str, device: str = "cpu", side: int = 512, width: int = 64, reps: int = 3) -> float:
    """GFLOP/s of one width->width 3x3 convolution on a side x side map (channels-last) in `dtype`."""
    import torch
    import torch.nn.functional as F

    dt = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    x = torch.randn(1, width, side, side, device=device).to(dt).contiguous(memory_format=torch.channels_last)
    w = (torch.randn(width, width, 3, 3, device=device) * 0.05).to(dt).contiguous(memory_format=torch.channels_last)

    def run():
        with torch.inference_mode():
            F.conv2d(x, w, None, padding=1)
        _sync(device)

    return 2 * 9 * width * width * side * side / _best_time(run, reps, median=True) / 1e9


# --- photos --------------------------------------------------------------------------------------
def synthetic_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth photo-like image (gradients, blobs, a few edges), float32 HxWx3 in 0..1, 8-bit values.
    Built plane by plane from a row and a column vector: a few bytes per pixel beyond the result."""
    rng = np.random.default_rng(seed)
    yy = (np.arange(height, dtype=np.float32) / max(height, 1))[:, None]
    xx = (np.arange(width, dtype=np.float32) / max(width, 1))[None, :]
    img = np.empty((height, width, 3), np.float32)
    for c in range(3):
        fx, fy = rng.uniform(2, 9, 2)
        plane = np.sin(xx * np.float32(fx * 6.28) + c) * np.cos(yy * np.float32(fy * 6.28))
        plane *= 0.25
        plane += 0.5
        plane += np.float32(0.15) * ((xx * 7 + yy * 3 + c) % 1.0 > 0.5)
        img[..., c] = plane
        del plane
    np.clip(img, 0, 1, out=img)
    img *= 255
    np.round(img, out=img)
    img /= 255
    return img


def bench_photo(width: int, height: int) -> tuple[np.ndarray, str]:
    """A real photo (scikit-image's motorcycle, resized) when scikit-image is there, else synthetic."""
    try:
        import cv2

        from rednet.evaluation.evalset import load_eval_photo

        img = load_eval_photo("motorcycle_left", long_side=4096)
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA if img.shape[1] > width
                         else cv2.INTER_CUBIC)
        return np.clip(np.round(img * 255) / 255, 0, 1).astype(np.float32), "scikit-image motorcycle_left, resized"
    except (ImportError, OSError, ValueError, TypeError):
        return synthetic_photo(height, width), "synthetic"


def small_mask(height: int, width: int) -> np.ndarray:
    """A small inpainting mask: a few text-sized strokes, well under 1 % of the photo."""
    mask = np.zeros((height, width), bool)
    for k in range(3):
        y = int(height * (0.3 + 0.2 * k))
        x0, x1 = int(width * 0.2), int(width * (0.2 + 0.05 + 0.02 * k))
        mask[y:y + max(2, height // 150), x0:max(x0 + 2, x1)] = True
    return mask


@dataclass
class Case:
    """One task's degraded input for the timing photo and how to score the result."""
    task: str
    degraded: np.ndarray  # what restore() gets (for sr: the low-resolution photo)
    options: dict
    clean: np.ndarray


def task_case(task: str, clean: np.ndarray, seed: int = 0) -> Case:
    from rednet.tasks import degradations as deg

    rng = np.random.default_rng(seed)
    h, w = clean.shape[:2]
    if task == "denoise":
        return Case(task, deg.add_gaussian_noise(clean, SIGMA, rng), {"sigma": SIGMA}, clean)
    if task == "jpeg":
        return Case(task, deg.jpeg_degrade(clean, JPEG_QUALITY), {"quality": JPEG_QUALITY}, clean)
    if task == "sr":
        small = deg.quantize8(deg.bicubic_resize(clean, (w // SR_SCALE, h // SR_SCALE)))
        target = clean[: h // SR_SCALE * SR_SCALE, : w // SR_SCALE * SR_SCALE]
        return Case(task, small, {"scale": float(SR_SCALE)}, target)
    if task == "inpaint":
        mask = small_mask(h, w)
        return Case(task, np.where(mask[..., None], 1.0, clean).astype(np.float32), {"mask": mask}, clean)
    raise ValueError(f"unknown task {task!r}")


def _as_photo(pixels: np.ndarray):
    from rednet.io.imageio import Photo

    return Photo(pixels=pixels, alpha=None, bit_depth=8, format="PNG")


# --- models --------------------------------------------------------------------------------------
@dataclass
class BenchModel:
    loaded: object  # LoadedModel
    path: Path
    source: str  # "shipped", "given" or "random-init"

    @property
    def name(self) -> str:
        return self.loaded.name


def find_models(given, workdir: Path) -> list[BenchModel]:
    """The models to bench: those given ({task: model} or [(task, model), ...], several per task
    allowed), else the shipped ones, else random-init RED20/RED30-64 denoisers."""
    from rednet.paths import shipped_weights_dir
    from rednet.models.registry import list_models, load_model

    if given:
        out = []
        for task, spec in (given.items() if isinstance(given, dict) else given):
            loaded = load_model(spec, task=task)
            path = Path(loaded.path)
            shipped = path.resolve().parent == shipped_weights_dir().resolve()
            out.append(BenchModel(loaded, path, "shipped" if shipped else "given"))
        return out
    shipped = [m for m in list_models() if m.source == "shipped"]
    if shipped:
        return [BenchModel(load_model(m.path, task=m.task), m.path, "shipped") for m in shipped]
    return random_models(workdir)


def _trained(bm: BenchModel) -> bool:
    """Whether the model's card says it was trained (`rednet train` writes its data and recipe there)."""
    card = getattr(bm.loaded, "card", None) or {}
    return bm.source != "random-init" and ("training_data" in card or "recipe" in card)


def random_models(workdir: Path, depths=(20, 30), width: int = 64, task: str = "denoise") -> list[BenchModel]:
    import torch

    from rednet.models.registry import build_network, descriptor_for_task, load_model, save_model

    out = []
    for depth in depths:
        torch.manual_seed(depth)
        d = descriptor_for_task(task, depth=depth, width=width)
        path = save_model(build_network(d), d, Path(workdir) / f"random-red{depth}-{width}-{task}.safetensors",
                          card={"summary": f"RED{depth}-{width}, random weights (benchmark only)"})
        out.append(BenchModel(load_model(path, task=task), path, "random-init"))
    return out


# --- timing the models ---------------------------------------------------------------------------
def _network_input(case: Case) -> np.ndarray:
    from rednet.tasks import degradations as deg
    from rednet.tasks import inputs as T

    if case.task == "sr":
        h, w = case.clean.shape[:2]
        return T.network_input("sr", deg.bicubic_resize(case.degraded, (w, h)))
    return T.network_input(case.task, case.degraded, **case.options)


def _finish(case: Case, pred: np.ndarray) -> np.ndarray:
    out = np.clip(pred, 0.0, 1.0)
    if case.task == "inpaint":
        out = np.where(case.options["mask"][..., None], out, case.degraded)
    return out


def time_model(bm: BenchModel, case: Case, device: str, precision: str, reps: int, tile: int | None = None,
               state=None) -> tuple[dict, np.ndarray]:
    """The conv stack alone (run_model on the whole network input): s/MP and GFLOP/s; and its output."""
    from rednet.engine.inference import auto_tile, run_model
    from rednet.engine.device import resolve_device

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
    return {"device": device, "precision": precision, "seconds": best, "megapixels": mp,
            "s_per_mp": best / mp, "gflops": fpp * mp * 1e6 / best / 1e9, "tile": size}, out


def time_restore(bm: BenchModel, case: Case, device: str, reps: int) -> dict:
    """restore() end to end (default precision): what a user waits for, without file I/O."""
    from rednet.engine.device import default_precision, resolve_device
    from rednet.engine.restore import restore

    photo = _as_photo(case.degraded)
    run = lambda: restore(photo, case.task, model=bm.loaded, device=device, **case.options)  # noqa: E731
    best = _best_time(run, reps) if reps > 1 else _timed_once(run)
    out_h, out_w = case.clean.shape[:2] if case.task == "sr" else case.degraded.shape[:2]
    mp = out_h * out_w / 1e6
    return {"device": device, "precision": default_precision(resolve_device(device)), "seconds": best,
            "s_per_mp": best / mp}


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
    return {"fp32_db": psnr(clean, a), "bf16_db": psnr(clean, b), "cost_db": psnr(clean, a) - psnr(clean, b),
            "bf16_vs_fp32_db": psnr(a, b)}


# --- peers ---------------------------------------------------------------------------------------
def time_peers(clean: np.ndarray, state=None) -> list[dict]:
    """The classical tools on the same photo: seconds per megapixel (None with the reason if missing)."""
    from rednet.tasks import degradations as deg
    from rednet.evaluation.evaluate import bm3d_peer, nlm_peer, opencv_inpaint_peer

    h, w = clean.shape[:2]
    mp = h * w / 1e6
    denoise, sr, inpaint = task_case("denoise", clean), task_case("sr", clean), task_case("inpaint", clean)
    sr_h, sr_w = sr.clean.shape[:2]
    peers = [
        ("CBM3D", "denoise", lambda: bm3d_peer(denoise.degraded, SIGMA), mp),
        ("OpenCV non-local means", "denoise", lambda: nlm_peer(denoise.degraded, SIGMA), mp),
        ("bicubic x2", "sr", lambda: deg.bicubic_resize(sr.degraded, (sr_w, sr_h)), sr_h * sr_w / 1e6),
        ("cv2.inpaint (Telea)", "inpaint",
         lambda: opencv_inpaint_peer(inpaint.degraded, inpaint.options["mask"], "telea"), mp),
    ]
    rows = []
    for name, task, fn, megapixels in peers:
        if state is not None:
            state.check()
        try:
            seconds = _timed_once(fn)
            rows.append({"peer": name, "task": task, "seconds": seconds, "s_per_mp": seconds / megapixels})
        except ImportError as exc:
            rows.append({"peer": name, "task": task, "seconds": None, "s_per_mp": None,
                         "note": f"not installed ({exc})"})
    return rows


# --- memory and start-up, in a fresh process -----------------------------------------------------
def _size_for(megapixels: float) -> tuple[int, int]:
    """(width, height) at 4:3 with about `megapixels`."""
    h = max(8, int(round(math.sqrt(megapixels * 1e6 * 3 / 4))))
    return max(8, int(round(h * 4 / 3))), h


def run_probe(args: list[str], *, kill_at_first_progress: bool = False, timeout: float | None = None,
              env: dict | None = None) -> dict:
    """Run `rednet ARGS` in a fresh Python process; returns wall time, peak RSS (MB), the time from
    process start to its first progress line, the CUDA peak it printed, and its exit status."""
    cmd = [sys.executable, "-c", _PROBE_DRIVER, *[str(a) for a in args]]
    t0, start = time.perf_counter(), time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or os.environ.copy())
    first: list[float] = []
    err_lines: list[str] = []

    def read_stderr():
        for line in proc.stderr:
            if not first and line.startswith("REDNET_FIRST_PROGRESS"):
                first.append(float(line.split()[1]) - start)
                if kill_at_first_progress:
                    proc.kill()
            err_lines.append(line)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    timer = threading.Timer(timeout, proc.kill) if timeout else None
    if timer:
        timer.start()
    rss_mb = None
    try:
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            # the fallback where the probe cannot read VmHWM: KiB on Linux, bytes on macOS
            rss_mb = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
        else:  # pragma: no cover - Windows
            proc.wait()
    finally:
        if timer:
            timer.cancel()
    wall = time.perf_counter() - t0
    reader.join(timeout=5)
    proc.stdout.read()
    cuda = None
    for line in err_lines:
        if line.startswith("CUDA_MAX_ALLOCATED"):
            cuda = int(line.split()[1]) / 2**20
        elif line.startswith("VMHWM_KB"):
            rss_mb = int(line.split()[1]) / 2**10
    errors = [ln.strip() for ln in err_lines if "error" in ln.lower()]
    return {"wall_s": wall, "peak_rss_mb": rss_mb, "startup_s": first[0] if first else None,
            "cuda_max_allocated_mb": cuda, "rc": proc.returncode, "killed_at_first_progress": kill_at_first_progress,
            "error": errors[-1] if errors else None}


def _probe_args(bm: BenchModel, folder: Path, megapixels: float, device: str,
                photos: dict) -> list[str]:
    """Write (once per size) the synthetic photo a probe restores and return `rednet restore` args."""
    from rednet.io.imageio import Photo, write_mask, write_photo

    task = bm.loaded.descriptor.task
    w, h = _size_for(megapixels)
    if task == "sr":
        w, h = w // SR_SCALE, h // SR_SCALE
    key = (w, h)
    if key not in photos:
        path = folder / f"probe-{w}x{h}.png"
        rng = np.random.default_rng(1)
        px = synthetic_photo(h, w)
        px += rng.standard_normal(px.shape, dtype=np.float32) * np.float32(SIGMA / 255)
        np.clip(px, 0, 1, out=px)
        write_photo(Photo(pixels=px), path)
        mask_path = folder / f"probe-{w}x{h}-mask.png"
        write_mask(small_mask(h, w), mask_path)
        photos[key] = (path, mask_path)
    src, mask_path = photos[key]
    args = ["restore", src, "-o", folder / "probe-out.png", "--task", task, "--model", bm.path,
            "--device", device]
    args += {"denoise": ["--sigma", str(SIGMA)], "jpeg": ["--quality", str(JPEG_QUALITY)],
             "sr": ["--scale", str(SR_SCALE)], "inpaint": ["--mask", mask_path]}[task]
    return args


# --- the whole benchmark -------------------------------------------------------------------------
def run_bench(models=None, *, quick: bool = False, device: str = "auto",
              memory_megapixels: tuple[float, ...] | None = None, photo_size: tuple[int, int] | None = None,
              peers: bool = True, state: TaskState | SubState | None = None) -> dict:
    """Run everything; returns the JSON-able result (see `markdown` for the table)."""
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
    mem_sizes = tuple(memory_megapixels if memory_megapixels is not None else
                      (QUICK_MEMORY_MEGAPIXELS if quick else MEMORY_MEGAPIXELS))
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
            rows.append({"name": bm.name, "task": d.task, "depth": d.depth, "width": d.width,
                         "source": bm.source, "trained": _trained(bm),
                         "weights": weight_count(d), "flops_per_pixel": flops_per_pixel(d),
                         "runs": runs, "restore": restores, "bf16_psnr": psnr_cost(case, outputs),
                         "memory": []})
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
            startup.append({"model": bm.name, "megapixels": width * height / 1e6,
                            **run_probe(args, kill_at_first_progress=True)})

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info["load_after"] = list(load) if load else None
    cores = info["logical_cores"] or 1
    loads = [x for x in (info["load_before"], info["load_after"]) if x]
    info["busy"] = bool(loads) and max(x[0] for x in loads) > 0.5 * cores
    result = {"machine": info, "photo": {"width": width, "height": height, "source": photo_source,
                                         "megapixels": width * height / 1e6},
              "peak_gflops": peak, "single_conv_gflops": conv, "models": rows, "peers": peer_rows,
              "startup": startup, "quick": quick, "wall_s": time.perf_counter() - t_start}
    result["targets"] = targets(result)
    state.report(1.0, "done")
    return result


def targets(result: dict) -> list[dict]:
    """The issue's targets, checked against this run's figures."""
    out = []
    cbm3d = next((p["s_per_mp"] for p in result["peers"] if p["peer"] == "CBM3D" and p["s_per_mp"]), None)
    for m in result["models"]:
        cpu_restore = next((r for r in m["restore"] if r["device"] == "cpu"), None)
        if m["task"] == "denoise" and cbm3d and cpu_restore:
            ratio = cpu_restore["s_per_mp"] / cbm3d
            out.append({"target": f"{m['name']}: denoise time <= 1/10 of CBM3D's", "value": ratio,
                        "shown": f"{ratio:.3f} of CBM3D", "met": ratio <= 0.1})
        best = max((r for r in m["runs"] if r["device"] == "cpu"), key=lambda r: r["gflops"], default=None)
        if best and m["width"] >= 32:  # narrower nets are not compute-bound: no peak to speak of
            out.append({"target": f"{m['name']}: conv stack >= 70% of matmul peak ({best['precision']})",
                        "value": best["peak_ratio"], "shown": f"{best['peak_ratio'] * 100:.0f}%",
                        "met": best["peak_ratio"] >= 0.7})
        for probe in m["memory"]:
            limit = {12: 1536, 24: 2048}.get(int(round(probe["megapixels"])))
            if limit and m["task"] == "denoise" and probe["device"] == "cpu" and probe["peak_rss_mb"]:
                out.append({"target": f"{m['name']}: {probe['megapixels']:.0f} MP denoise peak RSS < {limit} MB",
                            "value": probe["peak_rss_mb"], "shown": f"{probe['peak_rss_mb']:.0f} MB",
                            "met": probe["peak_rss_mb"] < limit})
            if m["task"] == "inpaint" and int(round(probe["megapixels"])) == 12:
                out.append({"target": f"{m['name']}: 12 MP inpaint (small mask), whole command < 5 s",
                            "value": probe["wall_s"], "shown": f"{probe['wall_s']:.1f} s",
                            "met": probe["wall_s"] < 5 and probe["rc"] == 0})
    for s in result["startup"]:
        if s["startup_s"] is not None:
            out.append({"target": "rednet restore start-up (process start to first tile) < 2 s",
                        "value": s["startup_s"], "shown": f"{s['startup_s']:.2f} s", "met": s["startup_s"] < 2})
    return out


# --- output --------------------------------------------------------------------------------------
def _f(value, fmt: str = "{:.2f}", none: str = "—") -> str:
    return none if value is None else fmt.format(value)


def markdown(result: dict) -> str:
    m, photo = result["machine"], result["photo"]
    lines = [
        f"Machine: {m['cpu']}, {m['logical_cores']} logical / {m['physical_cores']} physical cores, "
        f"{m['torch_threads']} torch threads, native bf16: {'yes' if m['fast_bf16'] else 'no'}, "
        f"CUDA: {m['cuda'] or 'none'}; torch {m['torch']}. Load average before/after: "
        f"{_f((m['load_before'] or [None])[0])} / {_f((m['load_after'] or [None])[0])}"
        + (" — **the machine was busy with other work: absolute times are pessimistic**"
           if m.get("busy") else "")
        + ".",
        f"Photo: {photo['width']}x{photo['height']} ({photo['megapixels']:.2f} MP, {photo['source']}).",
        "",
        "| model | task | source | FLOP/pixel | device | precision | tile | s/MP | GFLOP/s | matmul peak | of peak "
        "| single conv | of conv |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["models"]:
        for r in row["runs"]:
            lines.append(
                f"| {row['name']} (RED{row['depth']}-{row['width']}) | {row['task']} | {row['source']} | "
                f"{row['flops_per_pixel'] / 1e6:.2f} M | {r['device']} | {r['precision']} | {r['tile']} | "
                f"{r['s_per_mp']:.2f} | {r['gflops']:.0f} | {r['peak_gflops']:.0f} | {r['peak_ratio'] * 100:.0f}% | "
                f"{r['conv_gflops']:.0f} | {r['conv_ratio'] * 100:.0f}% |")
    lines += ["", "| model | restore() s/MP (default precision) | bf16 vs fp32: PSNR to clean (dB) | bf16 cost "
                  "| bf16 vs fp32 output |", "|---|---|---|---|---|"]
    for row in result["models"]:
        restores = ", ".join(f"{r['device']} {r['precision']}: {r['s_per_mp']:.2f}" for r in row["restore"])
        p = row["bf16_psnr"]
        note = "" if row["trained"] else " (random weights)"
        if p:
            lines.append(f"| {row['name']}{note} | {restores} | {p['fp32_db']:.2f} / {p['bf16_db']:.2f} | "
                         f"{p['cost_db']:+.3f} dB | {p['bf16_vs_fp32_db']:.1f} dB |")
        else:
            lines.append(f"| {row['name']}{note} | {restores} | — | — | — |")
    if result["peers"]:
        lines += ["", "| peer (same photo) | task | s/MP |", "|---|---|---|"]
        for p in result["peers"]:
            note = f" — {p['note']}" if p.get("note") else ""
            lines.append(f"| {p['peer']} | {p['task']} | {_f(p['s_per_mp'])}{note} |")
    probes = [(row, p) for row in result["models"] for p in row["memory"]]
    if probes or result["startup"]:
        lines += ["", "`rednet restore` in a fresh process (synthetic noisy photo, PNG in and out):", "",
                  "| model | task | photo | device | peak RSS | CUDA max allocated | wall | start-up to first tile "
                  "| exit |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for row, p in probes:
            lines.append(f"| {row['name']} | {row['task']} | {p['megapixels']:.2f} MP | {p['device']} | "
                         f"{_f(p['peak_rss_mb'], '{:.0f} MB')} | {_f(p['cuda_max_allocated_mb'], '{:.0f} MB')} | "
                         f"{p['wall_s']:.1f} s | {_f(p['startup_s'], '{:.2f} s')} | {p['rc']} |")
        for s in result["startup"]:
            lines.append(f"| {s['model']} | (start-up only) | {s['megapixels']:.2f} MP | — | — | — | — | "
                         f"{_f(s['startup_s'], '{:.2f} s')} | stopped |")
    if result["targets"]:
        lines += ["", "| target | this run | met |", "|---|---|---|"]
        for t in result["targets"]:
            lines.append(f"| {t['target']} | {t['shown']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def write_json(result: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(result, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

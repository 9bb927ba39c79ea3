"""Restoring every photo in a folder: the core of `rednet batch` and of the GUI's batch panel.

    job = BatchJob(input_dir="scans", output_dir="restored", task="denoise", recursive=True)
    validate_job(job)                      # UsageError for anything the user must fix (optional:
                                           # run_batch calls it too)
    plan = plan_batch(job)                 # what would be done: [PlannedFile(src, dst, rel, error)]
    report = run_batch(job, state, on_file=show_row)
    report.write_csv("report.csv")

* The work list is deterministic: files sorted by their path relative to `input_dir` (POSIX form),
  hidden files and folders (names starting with ".") left out, symlinked folders not followed.
  The folder tree is kept under `output_dir`. When `output_dir` lies inside `input_dir` it is left
  out of the listing, so a batch never re-processes its own outputs. The input tree is never written.
* `shard=(k, n)` (1-based k) keeps the files whose CRC-32 of the relative POSIX path (NFC) is
  `k - 1` modulo n: the n shards are disjoint and together cover every file once, on any machine.
* Two inputs with the same destination (a.png and a.jpg with format "png") are found over the whole
  listing, before sharding: the second in sorted order fails, whichever shard it is in.
* The model is loaded once. Each file is read, restored and written atomically (a temp file then a
  rename), so a failed or cancelled file never leaves a partial output. Per-file errors are recorded
  in a `FileResult` and the run goes on; cancelling (`state.cancel()`, or Ctrl-C in the CLI) stops
  before the next tile or file and `run_batch` returns a report with `cancelled=True`.
* Progress: `state` gets the overall fraction with messages "file 3 of 12: name.jpg" (plus the
  restore step, e.g. "tile 2 of 4"); the `TaskState` computes the ETA.
* Job-level problems (missing input folder, bad options, bad shard, unreadable mask, unknown model)
  raise `UsageError` / `ModelError` (both ValueErrors) from `validate_job` / `run_batch` before any
  file is touched.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import os
import string
import time
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from rednet.engine.device import DeviceError, resolve_device
from rednet.engine.restore import UsageError, resolve_model, restore_file, validate_options
from rednet.io import (
    SUPPORTED_WRITE_EXTENSIONS,
    ImageReadError,
    ImageWriteError,
    MaskSizeError,
    is_supported_image_path,
    read_mask,
)
from rednet.io.atomic import atomic_write_bytes
from rednet.io.safe_files import problem as _file_problem
from rednet.io.temp_files import remove_stale
from rednet.io.write import DEFAULT_PNG_COMPRESSION, PNG_COMPRESSIONS
from rednet.models.registry import LoadedModel, ModelError
from rednet.progress import Cancelled, SubState, TaskState, ensure_state
from rednet.tasks import get_task

__all__ = [
    "OUTPUT_FORMATS",
    "IF_EXISTS",
    "NAME_FIELDS",
    "EXISTS_REASON",
    "BatchJob",
    "PlannedFile",
    "FileResult",
    "BatchReport",
    "parse_shard",
    "validate_job",
    "plan_batch",
    "run_batch",
]

OUTPUT_FORMATS = ("png", "jpg", "tif", "webp", "same")
"""Output formats; "same" keeps the input's extension (.gif becomes .png, .jpe/.jfif become .jpg)."""

IF_EXISTS = ("fail", "skip", "overwrite")
"""What to do when an output file already exists: a per-file failure, skip the file, or replace it."""

NAME_FIELDS = ("stem", "task", "ext")
"""Fields of `BatchJob.name_template`: input name without extension, task, input extension (no dot)."""

EXISTS_REASON = "output exists (use --skip-existing or --overwrite)"

_FORMAT_SUFFIX = {"png": ".png", "jpg": ".jpg", "tif": ".tif", "webp": ".webp"}
_SAME_FALLBACK = {".jpe": ".jpg", ".jfif": ".jpg"}  # readable but not a write extension; else .png
_FILE_ERRORS = (
    ImageReadError,
    ImageWriteError,
    UsageError,
    MaskSizeError,
    ModelError,
    OSError,
    RuntimeError,
    ValueError,
    MemoryError,
)


@dataclass
class BatchJob:
    """Everything a batch run needs. Paths may be given as str; they become Paths."""

    input_dir: Path
    output_dir: Path
    task: str
    # task options, as in rednet.engine.restore.restore (None = its default)
    sigma: float | None = None
    scale: float | None = None
    quality: int | None = None
    mask: Path | None = None  # inpaint: one mask (white = fill) for every photo; sizes must match
    model: str | Path | LoadedModel | None = None
    device: str = "auto"
    tile: int | None = None
    precision: str | None = None  # None or "auto" = chosen for the device
    ensemble: bool = False  # best quality: the mean over 8 flips/rotations, 8x slower
    # what to process
    recursive: bool = False
    pattern: str | None = None  # glob on the file name or relative path (case-insensitive);
    #                             None = every supported image extension
    shard: tuple[int, int] | None = None  # (k, n), 1 <= k <= n
    # how to write
    output_format: str = "same"  # one of OUTPUT_FORMATS
    name_template: str = "{stem}"  # fields NAME_FIELDS; the extension is added
    if_exists: str = "fail"  # one of IF_EXISTS
    jpeg_quality: int = 95  # quality of JPEG / WebP outputs (1..100)
    png_compression: str = DEFAULT_PNG_COMPRESSION  # PNG outputs: one of rednet.io.write.PNG_COMPRESSIONS

    def __post_init__(self) -> None:
        self.input_dir = Path(self.input_dir)
        self.output_dir = Path(self.output_dir)
        if self.mask is not None:
            self.mask = Path(self.mask)


@dataclass(frozen=True)
class PlannedFile:
    """One entry of the work list. Unpacks as `(src, dst)`."""

    src: Path
    dst: Path
    rel: str  # src relative to input_dir, POSIX form
    error: str | None = None  # set when the file cannot be done (a duplicate destination name)

    def __iter__(self) -> Iterator[Path]:
        return iter((self.src, self.dst))


@dataclass(frozen=True)
class FileResult:
    src: Path
    dst: Path | None
    status: str  # "ok" | "failed" | "skipped"
    reason: str = ""  # one line; empty for "ok"
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()  # notes from reading/restoring/writing (e.g. estimated sigma)


@dataclass
class BatchReport:
    results: list[FileResult] = field(default_factory=list)
    total: int = 0  # files planned (after the shard filter)
    elapsed_s: float = 0.0
    cancelled: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """{"ok", "failed", "skipped", "not_done"}: not_done are planned files a cancel left out."""
        c = {"ok": 0, "failed": 0, "skipped": 0}
        for r in self.results:
            c[r.status] += 1
        c["not_done"] = self.total - len(self.results)
        return c

    @property
    def ok(self) -> int:
        return self.counts["ok"]

    @property
    def failed(self) -> int:
        return self.counts["failed"]

    @property
    def skipped(self) -> int:
        return self.counts["skipped"]

    @property
    def files_per_minute(self) -> float:
        """Restored files per minute of wall time."""
        return self.ok * 60.0 / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def succeeded(self) -> bool:
        """Every planned file restored or skipped, and not cancelled."""
        return not self.cancelled and self.failed == 0 and len(self.results) == self.total

    def summary(self) -> str:
        c = self.counts
        line = (
            f"restored {c['ok']}, skipped {c['skipped']}, failed {c['failed']} of {self.total} files "
            f"in {self.elapsed_s:.1f} s ({self.files_per_minute:.1f} files/min)"
        )
        if self.cancelled:
            line += f"; cancelled, {c['not_done']} not done"
        return line

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        """Columns input, output, status, reason, seconds (UTF-8). Written atomically."""
        buf = io.StringIO(newline="")
        w = csv.writer(buf)
        w.writerow(["input", "output", "status", "reason", "seconds"])
        for r in self.results:
            w.writerow([str(r.src), "" if r.dst is None else str(r.dst), r.status, r.reason, f"{r.seconds:.3f}"])
        atomic_write_bytes(path, buf.getvalue().encode("utf-8"))


# ------------------------------------------------------------------------------------------------
# Validation and planning
# ------------------------------------------------------------------------------------------------
def parse_shard(text: str) -> tuple[int, int]:
    """ "K/N" -> (k, n) with 1 <= k <= n; UsageError otherwise."""
    parts = str(text).strip().split("/")
    try:
        if len(parts) != 2:
            raise ValueError
        k, n = int(parts[0]), int(parts[1])
    except ValueError:
        raise UsageError(f"must be K/N (e.g. 1/4), got {text!r}", option="shard") from None
    _check_shard((k, n))
    return k, n


def _check_shard(shard) -> None:
    k, n = shard
    if not (isinstance(k, int) and isinstance(n, int) and n >= 1 and 1 <= k <= n):
        raise UsageError(f"K/N needs 1 <= K <= N, got {k}/{n}", option="shard")


def _check_template(template: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise UsageError(f"{template!r}: {exc}", option="name") from None
    unknown = [f for f in fields if f not in NAME_FIELDS]
    if unknown:
        raise UsageError(
            f"{template!r}: unknown field {{{unknown[0]}}}; use " + ", ".join("{" + f + "}" for f in NAME_FIELDS),
            option="name",
        )
    sample = template.format(stem="x", task="x", ext="x")
    if not sample.strip() or "/" in template or "\\" in template or sample in (".", ".."):
        raise UsageError(f"{template!r}: must give a plain file name (no folders)", option="name")


def _is_within(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def validate_job(job: BatchJob) -> None:
    """Raise UsageError for anything that makes the whole job impossible (nothing is touched)."""
    needs_mask = get_task(job.task).mask_option is not None
    validate_options(
        job.task, sigma=job.sigma, scale=job.scale, quality=job.quality, mask=(job.mask or None) if needs_mask else None
    )
    if needs_mask and not job.mask.is_file():
        reason = _file_problem(job.mask, "mask") or "file not found"  # "is a named pipe, not a mask"
        raise UsageError(f"{job.mask}: {'mask file not found' if reason == 'file not found' else reason}")
    if not job.input_dir.is_dir():
        what = "is not a folder" if job.input_dir.exists() else "input folder not found"
        raise UsageError(f"{job.input_dir}: {what}")
    if job.output_dir.exists() and not job.output_dir.is_dir():
        raise UsageError(f"{job.output_dir}: output exists and is not a folder")
    src, out = job.input_dir.resolve(), job.output_dir.resolve()
    if src == out:
        raise UsageError("the output folder must not be the input folder (the input is never modified)")
    if _is_within(src, out):
        raise UsageError("the output folder must not contain the input folder")
    if job.output_format not in OUTPUT_FORMATS:
        raise UsageError(f"must be one of {', '.join(OUTPUT_FORMATS)}, got {job.output_format!r}", option="format")
    if job.if_exists not in IF_EXISTS:
        raise UsageError(f"must be one of {', '.join(IF_EXISTS)}, got {job.if_exists!r}", option="if_exists")
    _check_template(job.name_template)
    if job.shard is not None:
        _check_shard(job.shard)
    if not 1 <= int(job.jpeg_quality) <= 100:
        raise UsageError(f"must be between 1 and 100, got {job.jpeg_quality}", option="output_quality")
    if job.png_compression not in PNG_COMPRESSIONS:
        raise UsageError(
            f"must be one of {', '.join(PNG_COMPRESSIONS)}, got {job.png_compression!r}", option="png_compression"
        )
    if job.tile is not None and int(job.tile) <= 0:
        raise UsageError(f"must be a positive whole number, got {job.tile}", option="tile")
    try:
        resolve_device(job.device)
    except DeviceError as exc:
        raise UsageError(str(exc), option="device") from None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _shard_of(rel: str, n: int) -> int:
    return zlib.crc32(_nfc(rel).encode("utf-8")) % n


def _list_inputs(job: BatchJob) -> list[str]:
    """Relative POSIX paths of the input files, sorted."""
    root = job.input_dir
    out_res = job.output_dir.resolve()
    pattern = job.pattern.lower() if job.pattern else None
    found: list[str] = []

    def wanted(rel: str, name: str) -> bool:
        if pattern is None:
            return is_supported_image_path(name)
        return fnmatch.fnmatchcase(name.lower(), pattern) or fnmatch.fnmatchcase(rel.lower(), pattern)

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if job.recursive:
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and (here / d).resolve() != out_res]
        else:
            dirnames[:] = []
        for name in filenames:
            if name.startswith("."):
                continue
            path = here / name
            rel = path.relative_to(root).as_posix()
            # Pipes, devices and broken links with a photo's name are listed too: read_photo refuses
            # them (without opening them) and the report names what they are.
            if wanted(rel, name) and not path.is_dir():
                found.append(rel)
    found.sort()
    return found


def _output_suffix(src_suffix: str, output_format: str) -> str:
    if output_format != "same":
        return _FORMAT_SUFFIX[output_format]
    low = src_suffix.lower()
    if low in SUPPORTED_WRITE_EXTENSIONS:
        return src_suffix
    return _SAME_FALLBACK.get(low, ".png")


def _destination_rel(rel: str, job: BatchJob) -> str:
    p = Path(rel)
    name = job.name_template.format(stem=p.stem, task=job.task, ext=p.suffix[1:])
    name += _output_suffix(p.suffix, job.output_format)
    return (p.parent / name).as_posix()


def plan_batch(job: BatchJob) -> list[PlannedFile]:
    """The work list (sorted, after the shard filter). Raises UsageError like `validate_job`."""
    validate_job(job)
    plan: list[PlannedFile] = []
    first_for: dict[str, str] = {}
    n = job.shard[1] if job.shard else 1
    k = job.shard[0] if job.shard else 1
    for rel in _list_inputs(job):
        dst_rel = _destination_rel(rel, job)
        key = _nfc(dst_rel)
        error = None
        if key in first_for:
            error = (
                f"same output name {dst_rel} as {first_for[key]} (use a name template with {{ext}} to tell them apart)"
            )
        else:
            first_for[key] = rel
        if _shard_of(rel, n) == k - 1:
            plan.append(PlannedFile(job.input_dir / rel, job.output_dir / dst_rel, rel, error))
    return plan


# ------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------
class _FileState(SubState):
    """A file's slice of the overall progress; its messages start with "file i of n: name"."""

    def __init__(self, parent, start: float, end: float, prefix: str):
        super().__init__(parent, start, end)
        self._prefix = prefix

    def report(self, fraction: float, message: str = "") -> None:
        detail = f" ({message})" if message and message != "done" else ""
        super().report(fraction, self._prefix + detail)


def _one_line(exc: BaseException, src: Path) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else ""
    if not line:
        line = type(exc).__name__
    for prefix in (f"{src}: ", f"{src.name}: "):
        if line.startswith(prefix) and len(line) > len(prefix):
            line = line[len(prefix) :]
            break
    return line


def run_batch(
    job: BatchJob, state: TaskState | SubState | None = None, on_file: Callable[[FileResult], None] | None = None
) -> BatchReport:
    """Restore every planned file of `job`; returns the report (also when cancelled).

    `on_file` is called (on this thread) with each file's result as soon as it is known.
    Raises UsageError / ModelError before any file is processed for job-level problems.
    """
    state = ensure_state(state)
    start = time.monotonic()
    plan = plan_batch(job)
    for folder in sorted({item.dst.parent for item in plan}):
        remove_stale(folder)  # temporary files left by an earlier run that was killed while writing
    mask = None
    if get_task(job.task).mask_option is not None:
        try:
            mask = read_mask(job.mask)
        except ImageReadError as exc:
            raise UsageError(f"mask: {exc}") from None
    model = resolve_model(job.model, job.task)
    precision = None if job.precision in (None, "auto") else job.precision
    options = dict(
        sigma=job.sigma,
        scale=job.scale,
        quality=job.quality,
        model=model,
        device=job.device,
        tile=job.tile,
        precision=precision,
        ensemble=job.ensemble,
    )
    report = BatchReport(total=len(plan))
    written: set[tuple[int, int]] = set()  # (st_dev, st_ino) of outputs of this run
    n = len(plan)
    if n == 0:
        state.report(1.0, "no files to restore")

    def record(result: FileResult) -> None:
        report.results.append(result)
        if on_file is not None:
            on_file(result)

    try:
        for i, item in enumerate(plan):
            name = item.src.name
            # restoring is 95% of a file's share of the progress, writing the rest
            file_state = _FileState(state, i / n, (i + 0.95) / n, f"file {i + 1} of {n}: {name}")
            file_state.report(0.0)
            state.check()
            t0 = time.monotonic()
            status, reason, notes = "ok", "", ()
            try:
                if item.error:
                    raise UsageError(item.error)
                if os.path.lexists(item.dst):
                    st = os.stat(item.dst)
                    if (st.st_dev, st.st_ino) in written:
                        raise UsageError("another input of this batch was written to the same output file")
                    if item.src.exists() and os.path.samefile(item.src, item.dst):
                        raise UsageError("output would overwrite the input photo")
                    if job.if_exists == "skip":
                        status, reason = "skipped", "output exists"
                    elif job.if_exists == "fail":
                        raise UsageError(EXISTS_REASON)
                if status == "ok":
                    item.dst.parent.mkdir(parents=True, exist_ok=True)
                    result = restore_file(
                        item.src,
                        item.dst,
                        task=job.task,
                        mask=mask,
                        state=file_state,
                        jpeg_quality=job.jpeg_quality,
                        png_compression=job.png_compression,
                        overwrite=job.if_exists == "overwrite",
                        **options,
                    )
                    notes = tuple(result.warnings)
                    st = os.stat(item.dst)
                    written.add((st.st_dev, st.st_ino))
            except _FILE_ERRORS as exc:
                status, reason = "failed", _one_line(exc, item.src)
            record(FileResult(item.src, item.dst, status, reason, time.monotonic() - t0, notes))
        if n:
            state.report(1.0, f"done: {n} files")
    except (Cancelled, KeyboardInterrupt):
        report.cancelled = True
    finally:
        report.elapsed_s = time.monotonic() - start
    return report

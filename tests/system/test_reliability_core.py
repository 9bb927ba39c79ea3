"""Reliability of the core (issue 9): bad and odd inputs, untrusted weights files, and faults.

Every input comes from tests/bad_inputs.py, generated into tmp folders; every model is a tiny one.
Each case goes through the core API (rednet.engine.restore) and the command line (rednet.cli.main.main, in
process): valid-but-odd inputs must restore correctly with every task; broken ones must fail with one
clear line naming the file, exit status 1 (2 for model and mask problems, which are usage errors),
no traceback, no output file and no temporary file left behind.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import rednet.io as imageio
from rednet.cli.main import main
from rednet.engine import inference
from rednet.engine import restore as R
from rednet.io import ImageReadError, ImageWriteError, read_mask, read_photo, write_photo
from rednet.models.registry import ModelError
from rednet.progress import Cancelled, TaskState
from tests.support import bad_inputs as B
from tests.support.photos import smooth_photo
from tests.support.unprivileged import run_python

TASKS = R.TASK_NAMES


BROKEN, ODD = B.case_names()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, B.ImageCase]:
    return {c.name: c for c in B.write_image_corpus(tmp_path_factory.mktemp("corpus"))}


@pytest.fixture(scope="module")
def evil_models(tmp_path_factory, tiny_models):
    folder = tmp_path_factory.mktemp("evil models")
    marker = folder / "PWNED"
    return B.write_model_corpus(folder / "weights", tiny_models["denoise"], marker), marker


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def cli(argv, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if ": error: " in line]


def temp_files(folder: Path) -> list[str]:
    """Temporary files a writer left behind (ours are hidden and end in .tmp)."""
    if not Path(folder).exists():
        return []
    return sorted(p.name for p in Path(folder).rglob("*") if p.name.startswith(".") or p.suffix == ".tmp")


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def api_options(task: str, case: B.ImageCase, folder: Path) -> dict:
    if task == "sr":
        return {"scale": 2.0}
    if task == "inpaint":
        mask = B.write_mask_for(case, folder / "mask.png")
        return {"mask": read_mask(mask, (case.width, case.height))}
    return {}  # denoise: sigma estimated; jpeg: quality from the file or unknown


def cli_options(task: str, case: B.ImageCase, folder: Path) -> list:
    if task == "sr":
        return ["--scale", "2"]
    if task == "inpaint":
        return ["--mask", B.write_mask_for(case, folder / "mask.png")]
    return []


def check_restored(case: B.ImageCase, task: str, out: Path) -> None:
    """The written output keeps size (x2 for sr), gray/colour, alpha, bit depth and orientation."""
    photo = read_photo(out)
    s = 2 if task == "sr" else 1
    assert (photo.width, photo.height) == (case.width * s, case.height * s)
    assert photo.is_gray == case.gray, "gray must stay gray and colour colour"
    assert photo.bit_depth == case.bit_depth, "16-bit must stay 16-bit"
    if case.alpha is None:
        assert photo.alpha is None
    else:
        assert photo.alpha is not None and photo.alpha.shape == (case.height * s, case.width * s)
        if task != "sr":  # alpha is carried through untouched
            assert np.array_equal(np.round(photo.alpha * 255).astype(np.uint8), case.alpha)
    if case.marker:
        assert B.marker_is_upright(photo.pixels, s), "the picture was flipped, rotated or transposed"
    assert np.isfinite(photo.pixels).all()


# ------------------------------------------------------------------------------------------------
# 1. the image corpus
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", ODD)
def test_odd_inputs_restore_correctly_through_the_api(corpus, tiny_models, tmp_path, name, task):
    case = corpus[name]
    before = case.path.read_bytes()
    out = tmp_path / "out folder é" / f"restored ü{case.out_ext}"
    out.parent.mkdir()
    result = R.restore_file(case.path, out, task=task, model=tiny_models[task], **api_options(task, case, tmp_path))
    check_restored(case, task, out)
    assert case.warning in " | ".join(result.warnings)
    assert case.path.read_bytes() == before
    assert temp_files(out.parent) == []


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", ODD)
def test_odd_inputs_restore_correctly_through_the_cli(corpus, tiny_models, tmp_path, capsys, name, task):
    case = corpus[name]
    out = tmp_path / "sortie à espaces" / f"résultat{case.out_ext}"
    code, stdout, err = cli(
        [
            "restore",
            case.path,
            "-o",
            out,
            "--task",
            task,
            "--model",
            tiny_models[task],
            *cli_options(task, case, tmp_path),
        ],
        capsys,
    )
    assert code == 0, err
    assert error_lines(err) == [] and f"-> {out}" in stdout
    if case.warning:
        assert f"{case.path.name}: " in err and case.warning in err
    check_restored(case, task, out)
    assert temp_files(out.parent) == []


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", BROKEN)
def test_broken_inputs_fail_cleanly_through_the_api(corpus, tiny_models, tmp_path, name, task):
    case = corpus[name]
    out = tmp_path / "out" / "restored.png"
    out.parent.mkdir()
    options = {"mask": np.ones((24, 32), bool)} if task == "inpaint" else {}
    with pytest.raises(ImageReadError) as info:
        R.restore_file(case.path, out, task=task, model=tiny_models[task], **options)
    message = str(info.value)
    assert message.startswith(f"{case.path.name}: ") and case.error in message
    assert "\n" not in message
    assert files(out.parent) == []


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", BROKEN)
def test_broken_inputs_fail_cleanly_through_the_cli(corpus, tiny_models, tmp_path, capsys, name, task):
    case = corpus[name]
    out = tmp_path / "out" / "restored.png"
    mask = tmp_path / "mask.png"
    Image.new("L", (32, 24), 255).save(mask)
    extra = ["--mask", mask] if task == "inpaint" else []
    code, stdout, err = cli(
        ["restore", case.path, "-o", out, "--task", task, "--model", tiny_models[task], *extra], capsys
    )
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rednet restore: error: {case.path.name}: ")
    assert lines[0].endswith(case.error) or case.error in lines[0]
    assert stdout == ""
    assert not out.exists() and temp_files(tmp_path / "out") == []


def test_several_inputs_odd_and_broken_in_one_cli_call(corpus, tiny_models, tmp_path, capsys):
    """Good files are restored, each bad one gets exactly one line, the exit status is 1."""
    names = ODD + BROKEN
    inputs = [corpus[n].path for n in names]
    out = tmp_path / "all outputs"
    code, stdout, err = cli(["restore", *inputs, "-o", out, "--task", "sr", "--model", tiny_models["sr"]], capsys)
    assert code == 1
    lines = error_lines(err)
    assert len(lines) == len(BROKEN)
    for line, name in zip(lines, BROKEN):
        assert corpus[name].path.name in line and corpus[name].error in line
    assert len(stdout.splitlines()) == len(ODD)
    written = files(out)
    assert len(written) == len(ODD) and temp_files(out) == []


@pytest.mark.parametrize("task", TASKS)
def test_batch_over_the_whole_corpus(corpus, tiny_models, tmp_path, capsys, task):
    """`rednet batch -r` over the corpus: one line per broken file, the rest restored, input untouched."""
    root = next(iter(corpus.values())).path.parent
    before = snapshot(root)
    out = tmp_path / "batch out ü"
    extra = []
    if task == "inpaint":  # one mask for every photo: the 1x1 and 2x3 ones fail on its size
        extra = ["--mask", B.write_mask_for(corpus["cmyk-jpg"], tmp_path / "mask.png")]
    code, stdout, err = cli(
        [
            "batch",
            root,
            "-r",
            "-o",
            out,
            "--task",
            task,
            "--model",
            tiny_models[task],
            "--format",
            "png",
            "--name",
            "{stem}-{ext}",
            *extra,
        ],
        capsys,
    )
    assert code == 1
    lines = error_lines(err)
    expected_failures = {corpus[n].path.name: corpus[n].error for n in BROKEN}
    if task == "inpaint":
        expected_failures.update(
            {
                corpus[n].path.name: "mask is 32x24 but the photo is"
                for n in ODD
                if (corpus[n].width, corpus[n].height) != (32, 24)
            }
        )
    assert len(lines) == len(expected_failures)
    for line in lines:
        assert line.startswith("rednet batch: error: ")
        name = line.removeprefix("rednet batch: error: ").split(": ", 1)[0]
        assert expected_failures[name] in line
    ok_cases = [corpus[n] for n in ODD if corpus[n].path.name not in expected_failures]
    assert f"restored {len(ok_cases)}, skipped 0, failed {len(expected_failures)}" in stdout
    for case in ok_cases:
        rel = case.path.relative_to(root)
        photo = read_photo(out / rel.parent / f"{rel.stem}-{rel.suffix[1:]}.png")
        s = 2 if task == "sr" else 1
        assert (photo.width, photo.height) == (case.width * s, case.height * s)
        assert photo.is_gray == case.gray and (photo.alpha is None) == (case.alpha is None)
        assert photo.bit_depth == case.bit_depth
        if case.marker:
            assert B.marker_is_upright(photo.pixels, s), case.name
    assert len(files(out)) == len(ok_cases) and temp_files(out) == []
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "kind,message",
    [
        ("wrong-size", "mask-10x10.png: mask is 10x10 but the photo is 32x24"),
        ("not-an-image", "mask.png: not an image file (unrecognised format)"),
        ("empty", "mask-empty.png: file is empty (0 bytes)"),
    ],
)
@pytest.mark.parametrize("command", ["restore", "batch"])
def test_bad_masks_fail_with_one_line(corpus, tiny_models, tmp_path, capsys, kind, message, command):
    """An unreadable mask is a usage error (exit 2); a mask of another size too, except in a batch,
    where it is that photo's failure (exit 1): other photos of the folder may have the mask's size."""
    masks = B.write_bad_masks(tmp_path / "masks")
    case = corpus["unicode-path"]
    src = case.path if command == "restore" else case.path.parent
    out = tmp_path / "out" / ("o.png" if command == "restore" else "")
    code, stdout, err = cli(
        [command, src, "-o", out, "--task", "inpaint", "--mask", masks[kind], "--model", tiny_models["inpaint"]], capsys
    )
    per_photo = (command, kind) == ("batch", "wrong-size")
    assert code == (1 if per_photo else 2)
    if per_photo:  # the photo is named, then what is wrong
        message = f"{case.path.name}: " + message.split(": ", 1)[1]
    lines = error_lines(err)
    assert len(lines) == 1 and lines[0].startswith(f"rednet {command}: error: ") and message in lines[0]
    assert lines[0].count("mask") <= 3  # the file is named once, not once per layer
    assert len(err.splitlines()) == 1 or command == "batch"  # batch adds its progress lines
    assert files(tmp_path / "out") == []


# ------------------------------------------------------------------------------------------------
# 2. weights files are untrusted input
# ------------------------------------------------------------------------------------------------
def _model_case_ids():
    with tempfile.TemporaryDirectory() as folder:
        from rednet.models.registry import build_network, descriptor_for_task, save_model

        d = descriptor_for_task("denoise", depth=4, width=8)
        good = save_model(build_network(d), d, Path(folder) / "good.safetensors")
        return list(B.write_model_corpus(Path(folder) / "w", good, Path(folder) / "marker"))


MODEL_CASES = _model_case_ids()


@pytest.mark.parametrize("name", MODEL_CASES)
def test_bad_weights_are_refused_through_the_cli(evil_models, corpus, tmp_path, capsys, name):
    cases, marker = evil_models
    path, message = cases[name]
    out = tmp_path / "out.png"
    code, stdout, err = cli(
        ["restore", corpus["unicode-path"].path, "-o", out, "--task", "denoise", "--model", path], capsys
    )
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rednet restore: error: ")
    assert path.name in lines[0] and message in lines[0]
    assert not marker.exists(), "code in a weights file ran"
    assert not out.exists() and stdout == ""


@pytest.mark.parametrize("name", MODEL_CASES)
def test_bad_weights_are_refused_through_the_api(evil_models, tmp_path, name):
    cases, marker = evil_models
    path, message = cases[name]
    photo = imageio.Photo(smooth_photo(12, 16))
    with pytest.raises(ModelError) as info:
        R.restore(photo, "denoise", model=path)
    assert path.name in str(info.value) and message in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    "name", ["pickle2-payload.pt", "pickle4-payload.ckpt", "torch-zip-os-system", "descriptor-width-1e9"]
)
def test_bad_weights_are_refused_by_batch_and_finetune(evil_models, corpus, tmp_path, capsys, name):
    cases, marker = evil_models
    path, message = cases[name]
    root = corpus["unicode-path"].path.parent
    code, _, err = cli(["batch", root, "-o", tmp_path / "out", "--task", "denoise", "--model", path], capsys)
    assert code == 2 and len(error_lines(err)) == 1 and message in err
    assert files(tmp_path / "out") == []
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray((smooth_photo(40, 40, seed=i) * 255).astype(np.uint8)).save(photos / f"p{i}.png")
    code, stdout, err = cli(
        [
            "finetune",
            "--task",
            "denoise",
            "--data",
            photos,
            "-o",
            tmp_path / "ft.safetensors",
            "--base",
            path,
            "--iters",
            "2",
            "--batch",
            "2",
            "--patch",
            "16",
        ],
        capsys,
    )
    assert code == 2 and len(error_lines(err)) == 1 and path.name in err and message in err
    assert not (tmp_path / "ft.safetensors").exists() and not (tmp_path / "ft.ckpt").exists()
    assert not marker.exists()


@pytest.mark.parametrize("task,other", [("denoise", "sr"), ("inpaint", "jpeg"), ("sr", "inpaint")])
def test_a_model_for_another_task_is_a_usage_error(corpus, tiny_models, tmp_path, capsys, task, other):
    case = corpus["unicode-path"]
    out = tmp_path / "o.png"
    code, _, err = cli(
        [
            "restore",
            case.path,
            "-o",
            out,
            "--task",
            task,
            "--model",
            tiny_models[other],
            *cli_options(task, case, tmp_path),
        ],
        capsys,
    )
    assert code == 2 and err.splitlines() == [
        f"rednet restore: error: tiny-{other}.safetensors: is a {other} model, not a {task} model"
    ]
    assert not out.exists()
    with pytest.raises(ValueError, match=f"is a {other} model, not a {task} model"):
        R.restore_file(case.path, out, task=task, model=tiny_models[other], **api_options(task, case, tmp_path))
    assert not out.exists()


def test_a_huge_descriptor_is_refused_before_anything_is_allocated(evil_models, tiny_models, monkeypatch):
    """depth 100000 / width 10**9 never reach the network constructor or the tensor reader."""
    import safetensors

    from rednet.models import registry

    cases, _ = evil_models
    built, read = [], []
    monkeypatch.setattr(
        registry,
        "ARCHITECTURES",
        {"rednet": registry.Architecture(lambda d: built.append(d) or registry._build_rednet(d), 1, "RED")},
    )
    real_open = safetensors.safe_open

    class HeaderOnly:  # the real reader, but reading tensor data is recorded
        def __init__(self, *a, **k):
            self.f = real_open(*a, **k)

        def __enter__(self):
            self.f.__enter__()
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def get_tensor(self, key):
            read.append(key)
            return self.f.get_tensor(key)

    monkeypatch.setattr(safetensors, "safe_open", HeaderOnly)
    for name in ("descriptor-depth-100000", "descriptor-width-1e9", "descriptor-depth-odd"):
        with pytest.raises(ModelError, match="refused: the model descriptor claims"):
            registry.load_model(cases[name][0])
    assert built == [] and read == []
    with pytest.raises(ModelError, match="do not match"):  # shapes are checked on the header too
        registry.load_model(cases["descriptor-depth-6-weights-4"][0])
    assert read == []
    assert [d.depth for d in built] == [6]  # built once, on the meta device, to learn the shapes
    registry.load_model(tiny_models["denoise"])  # a good file: its tensors are read (the probe works)
    assert read


# ------------------------------------------------------------------------------------------------
# 3. faults
# ------------------------------------------------------------------------------------------------
def _src(tmp_path: Path, h: int = 24, w: int = 32) -> Path:
    src = tmp_path / "in put.png"
    write_photo(imageio.Photo(smooth_photo(h, w)), src)
    return src


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("when", ["before", "first", "middle", "last"])
def test_cancel_at_any_tile_leaves_no_file(tiny_models, tmp_path, task, when):
    from rednet.engine.tiling import tile_grid

    src = _src(tmp_path)  # 32x24; sr x2 -> 64x48, in tiles of 16; the others in tiles of 8
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    options = {"sr": {"scale": 2.0}, "inpaint": {"mask": np.ones((24, 32), bool)}}.get(task, {"sigma": 10})
    tile = 16 if task == "sr" else 8
    n = len(tile_grid(24 * (2 if task == "sr" else 1), tile)) * len(tile_grid(32 * (2 if task == "sr" else 1), tile))
    assert n == 12
    k = {"before": 0, "first": 1, "middle": n // 2, "last": n}[when]
    tiles = []

    def on_progress(p):
        if p.message.startswith("tile "):
            tiles.append(p.message)
            if len(tiles) == k:
                state.cancel()

    state = TaskState(on_progress)
    if k == 0:
        state.cancel()
    with pytest.raises(Cancelled):
        R.restore_file(src, out_dir / "out.png", task=task, model=tiny_models[task], tile=tile, state=state, **options)
    assert len(tiles) == k  # cancelled right after the k-th tile (after the last one too: nothing written)
    assert files(out_dir) == []


@pytest.mark.parametrize("when", [1, 3])
def test_ctrl_c_in_the_cli_leaves_no_file(tiny_models, tmp_path, capsys, monkeypatch, when):
    from rednet.cli import progress as cli_progress

    src = _src(tmp_path)
    calls = []

    def interrupt(self, p):
        if p.message.startswith("tile "):
            calls.append(p)
            if len(calls) == when:
                raise KeyboardInterrupt

    monkeypatch.setattr(cli_progress.ProgressPrinter, "__call__", interrupt)
    out = tmp_path / "out" / "o.png"
    code, _, err = cli(
        [
            "restore",
            src,
            "-o",
            out,
            "--task",
            "denoise",
            "--sigma",
            "5",
            "--tile",
            "8",
            "--model",
            tiny_models["denoise"],
        ],
        capsys,
    )
    assert code == 130 and err.strip() == "rednet restore: interrupted"
    assert files(tmp_path / "out") == []


def test_interrupt_during_the_write_leaves_no_temp_file_and_the_old_output(tiny_models, tmp_path, monkeypatch):
    src = _src(tmp_path)
    out = tmp_path / "out.png"
    out.write_bytes(b"previous output")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        R.restore_file(src, out, task="denoise", sigma=5, model=tiny_models["denoise"], overwrite=True)
    assert out.read_bytes() == b"previous output" and temp_files(tmp_path) == []


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["replace", "fsync"])
def test_disk_full_through_the_api_keeps_input_and_previous_output(tiny_models, tmp_path, monkeypatch, where):
    src = _src(tmp_path)
    src_bytes = src.read_bytes()
    out = tmp_path / "out" / "o.png"
    out.parent.mkdir()
    out.write_bytes(b"previous output")
    monkeypatch.setattr(os, where, _disk_full)
    with pytest.raises(ImageWriteError) as info:
        R.restore_file(src, out, task="sr", scale=2, model=tiny_models["sr"], overwrite=True)
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == "o.png: cannot write: No space left on device"
    assert src.read_bytes() == src_bytes and out.read_bytes() == b"previous output"
    assert files(out.parent) == ["o.png"]


def test_disk_full_through_the_cli(tiny_models, tmp_path, capsys, monkeypatch):
    src = _src(tmp_path)
    src_bytes = src.read_bytes()
    out = tmp_path / "out" / "o.png"
    out.parent.mkdir()
    out.write_bytes(b"previous output")
    monkeypatch.setattr(os, "replace", _disk_full)
    code, stdout, err = cli(["restore", src, "-o", out, "--task", "jpeg", "--model", tiny_models["jpeg"]], capsys)
    assert code == 1 and stdout == ""
    assert error_lines(err) == [f"rednet restore: error: {src}: o.png: cannot write: No space left on device"]
    assert src.read_bytes() == src_bytes and out.read_bytes() == b"previous output"
    assert files(out.parent) == ["o.png"]


def test_disk_full_through_batch(tiny_models, corpus, tmp_path, capsys, monkeypatch):
    root = tmp_path / "in"
    root.mkdir()
    for i in range(3):
        write_photo(imageio.Photo(smooth_photo(20, 24, seed=i)), root / f"p{i}.png")
    monkeypatch.setattr(os, "fsync", _disk_full)
    out = tmp_path / "out"
    code, stdout, err = cli(["batch", root, "-o", out, "--task", "denoise", "--model", tiny_models["denoise"]], capsys)
    assert code == 1 and "failed 3 of 3" in stdout
    assert error_lines(err) == [
        f"rednet batch: error: p{i}.png: cannot write: No space left on device" for i in range(3)
    ]
    assert files(out) == []


def _no_permission_for_new_files(monkeypatch):
    real_open = open

    def fake_open(file, mode="r", *args, **kwargs):
        if "x" in mode or "w" in mode:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("rednet.io.atomic.open", fake_open, raising=False)  # the module's own open()


def test_read_only_output_folder_simulated(tiny_models, tmp_path, capsys, monkeypatch):
    src = _src(tmp_path)
    out = tmp_path / "ro" / "o.png"
    out.parent.mkdir()
    _no_permission_for_new_files(monkeypatch)
    with pytest.raises(ImageWriteError, match=r"^o.png: cannot write: Permission denied$"):
        R.restore_file(src, out, task="denoise", model=tiny_models["denoise"])
    code, _, err = cli(["restore", src, "-o", out, "--task", "denoise", "--model", tiny_models["denoise"]], capsys)
    assert code == 1 and error_lines(err) == [f"rednet restore: error: {src}: o.png: cannot write: Permission denied"]
    assert files(out.parent) == []


def test_read_only_output_folder_for_real(tiny_models, tmp_path):
    """Under root the check runs with permission-bypassing capabilities dropped (tests/unprivileged.py)."""
    src = _src(tmp_path)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    code = (
        f"import sys\nfrom rednet.cli.main import main\n"
        f"sys.exit(main(['restore', {str(src)!r}, '-o', 'ro/o.png', '--task', 'sr', "
        f"'--model', {str(tiny_models['sr'])!r}]))"
    )
    try:
        proc = run_python(code, tmp_path)
    finally:
        folder.chmod(0o755)
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert proc.returncode == 1 and len(errors) == 1 and "o.png: cannot write: Permission denied" in errors[0]
    assert "Traceback" not in proc.stderr and files(folder) == []


# --- CUDA out of memory, simulated on the CPU ----------------------------------------------------
class FakeCuda:
    """Pretends `device` cuda works: the network runs on the CPU but raises CUDA OOM for patches
    larger than `limit` pixels a side, and on the network calls numbered in `fail_calls` (1-based)."""

    def __init__(self, monkeypatch, limit: int = 10**9, fail_calls: tuple[int, ...] = ()):
        self.limit, self.fail_calls = limit, set(fail_calls)
        self.attempts: list[tuple[str, int]] = []  # (device type, tile) of every run_tiled call
        self.gpu_calls = 0
        self.ooms = 0
        self.emptied = 0
        real_run_tiled, real_prepare = inference.run_tiled, inference._prepare

        def prepare(net, device):
            cpu_net = real_prepare(net, torch.device("cpu"))
            if device.type != "cuda":
                return cpu_net

            def on_gpu(patch):
                self.gpu_calls += 1
                if self.gpu_calls in self.fail_calls or max(patch.shape[-2:]) > self.limit:
                    self.ooms += 1
                    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
                return cpu_net(patch)

            return on_gpu

        def run_tiled(net, x, *, tile, device, dtype=None, channels_last=False, **kw):
            self.attempts.append((device.type, tile))
            if device.type == "cuda":
                device, dtype = torch.device("cpu"), None
            return real_run_tiled(net, x, tile=tile, device=device, dtype=dtype, channels_last=channels_last, **kw)

        def empty_cache():
            self.emptied += 1

        monkeypatch.setattr(inference, "_prepare", prepare)
        monkeypatch.setattr(inference, "run_tiled", run_tiled)
        monkeypatch.setattr(torch.cuda, "empty_cache", empty_cache)


def _oom_photo():
    return imageio.Photo(smooth_photo(300, 300, seed=3))


def _reference(tiny_models):
    return R.restore(
        _oom_photo(), "denoise", sigma=10, model=tiny_models["denoise"], device="cpu", precision="fp32", tile=1024
    ).pixels


def test_cuda_oom_halves_the_tile_until_it_fits(tiny_models, monkeypatch):
    reference = _reference(tiny_models)
    fake = FakeCuda(monkeypatch, limit=120)  # 300 px in tiles of 256 -> 150 + margins: too big; of 128 -> fits
    out = R.restore(
        _oom_photo(),
        "denoise",
        sigma=10,
        model=tiny_models["denoise"],
        device=torch.device("cuda"),
        tile=256,
        precision="fp32",
    )
    assert fake.attempts == [("cuda", 256), ("cuda", 128)]
    assert fake.ooms == 1 and fake.emptied == 1
    assert np.abs(out.pixels - reference).max() < 1e-5  # no stale tile from the failed attempt


def test_cuda_oom_in_the_middle_of_a_run_restarts_with_half_the_tile(tiny_models, monkeypatch):
    reference = _reference(tiny_models)
    fake = FakeCuda(monkeypatch, fail_calls=(3,))  # 4 tiles of 150: two done, the third runs out of memory
    out = R.restore(
        _oom_photo(),
        "denoise",
        sigma=10,
        model=tiny_models["denoise"],
        device=torch.device("cuda"),
        tile=256,
        precision="fp32",
    )
    assert fake.attempts == [("cuda", 256), ("cuda", 128)]
    assert fake.ooms == 1 and fake.gpu_calls == 3 + 9  # then all 9 tiles of 100 again, on the "GPU"
    assert np.abs(out.pixels - reference).max() < 1e-5  # the two tiles done before the failure are not mixed in


def test_cuda_oom_the_first_times_halves_the_tile_each_time(tiny_models, monkeypatch):
    fake = FakeCuda(monkeypatch, fail_calls=(1, 2))  # the first tile at 256 and at 128 both fail
    R.restore(
        _oom_photo(),
        "denoise",
        sigma=10,
        model=tiny_models["denoise"],
        device=torch.device("cuda"),
        tile=256,
        precision="fp32",
    )
    assert fake.attempts == [("cuda", 256), ("cuda", 128), ("cuda", 64)] and fake.emptied == 2


def test_cuda_oom_at_the_smallest_tile_falls_back_to_the_cpu(tiny_models, monkeypatch):
    reference = _reference(tiny_models)
    fake = FakeCuda(monkeypatch, limit=0)  # nothing fits on the "GPU"
    out = R.restore(
        _oom_photo(),
        "denoise",
        sigma=10,
        model=tiny_models["denoise"],
        device=torch.device("cuda"),
        tile=256,
        precision="fp32",
    )
    devices = [d for d, _ in fake.attempts]
    tiles = [t for _, t in fake.attempts]
    assert devices == ["cuda", "cuda", "cuda", "cpu"]
    assert tiles[:3] == [256, 128, 64] and tiles[3] >= inference.MIN_TILE  # cpu: its own tile size
    assert fake.emptied == 3
    assert next(R.resolve_model(tiny_models["denoise"], "denoise").net.parameters()).device.type == "cpu"
    assert np.abs(out.pixels - reference).max() < 0.02  # the CPU may run in bf16


# --- training interrupted -------------------------------------------------------------------------
@pytest.fixture
def photo_dir(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        Image.fromarray((smooth_photo(60, 72, seed=i) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_ctrl_c_during_training_leaves_a_checkpoint_that_resume_continues(photo_dir, tmp_path):
    from rednet.train.loop import TrainConfig, checkpoint_path, train

    cfg = TrainConfig(
        task="denoise",
        data=photo_dir,
        out=tmp_path / "m.safetensors",
        depth=4,
        width=8,
        patch=24,
        batch=4,
        iters=10,
        val_every=5,
        checkpoint_every=3,
        val_patches=8,
        warmup=1,
        device="cpu",
        precision="fp32",
    )

    def ctrl_c(p):
        if p.message.startswith("step 7/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, TaskState(ctrl_c))
    ckpt = checkpoint_path(cfg.out)
    assert ckpt.is_file() and not cfg.out.exists() and temp_files(tmp_path) == []
    assert torch.load(ckpt, weights_only=True)["step"] == 7  # saved at the interrupt, not at step 6
    cfg.resume = True
    result = train(cfg)
    assert result.steps == 10 and [h["step"] for h in result.history if "loss" in h] == list(range(1, 11))
    assert cfg.out.is_file() and not ckpt.exists()


def test_ctrl_c_in_rednet_train_then_resume(photo_dir, tmp_path, capsys, monkeypatch):
    from rednet.cli import progress as cli_progress
    from rednet.models.registry import load_model
    from rednet.train.loop import checkpoint_path

    out = tmp_path / "cli model.safetensors"
    argv = [
        "train",
        "--task",
        "jpeg",
        "--data",
        photo_dir,
        "-o",
        out,
        "--depth",
        "10",
        "--width",
        "8",
        "--iters",
        "6",
        "--batch",
        "2",
        "--patch",
        "24",
        "--checkpoint-every",
        "2",
        "--device",
        "cpu",
        "--precision",
        "fp32",
    ]
    real_call = cli_progress.ProgressPrinter.__call__

    def ctrl_c(self, p):
        if p.message.startswith("step 3/"):
            raise KeyboardInterrupt
        return real_call(self, p)

    monkeypatch.setattr(cli_progress.ProgressPrinter, "__call__", ctrl_c)
    code, _, err = cli(argv, capsys)
    assert code == 130 and "rednet train: interrupted" in err
    assert checkpoint_path(out).is_file() and not out.exists()
    monkeypatch.setattr(cli_progress.ProgressPrinter, "__call__", real_call)
    code, stdout, err = cli(argv + ["--resume"], capsys)
    assert code == 0, err
    assert "6 steps" in stdout and out.is_file() and not checkpoint_path(out).exists()
    assert load_model(out).card["recipe"]["steps_done"] == 6

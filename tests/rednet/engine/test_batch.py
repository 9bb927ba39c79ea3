"""Batch restoring a folder: rednet.engine.batch (the core the GUI calls) and `rednet batch`."""

from __future__ import annotations

import csv
import io
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import rednet.engine.batch as batch
from rednet.cli.main import main
from rednet.engine.batch import BatchJob, parse_shard, plan_batch, run_batch
from rednet.engine.restore import UsageError
from rednet.progress import TaskState

GOOD = ["a.png", "café ☕.png", "sub/b.jpg", "sub/deeper/c.png", "фото.jpg"]
BAD = {"broken.jpg": "truncated or corrupt", "empty.png": "empty", "notes.png": "not"}


def _pixels(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((30, 40, 3)) * 255).astype(np.uint8)


def _save(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_pixels(seed)).save(path, quality=80) if path.suffix == ".jpg" else Image.fromarray(
        _pixels(seed)
    ).save(path)
    return path


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def tree(tmp_path) -> Path:
    """Good photos (nested, unicode names) and bad ones: cut JPEG, empty PNG, text named .png."""
    root = tmp_path / "in"
    for i, rel in enumerate(GOOD):
        _save(root / rel, seed=i)
    buf = io.BytesIO()
    Image.fromarray(_pixels(9)).save(buf, "JPEG", quality=80)
    (root / "broken.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (root / "empty.png").write_bytes(b"")
    (root / "notes.png").write_text("hello, not a photo")
    (root / "readme.txt").write_text("not selected")
    (root / ".hidden.png").write_bytes(b"")  # hidden files are left out
    return root


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def cli(tree, out, tiny_models, *extra, task="denoise"):
    return ["batch", tree, "-o", out, "--task", task, "--model", tiny_models[task], "--recursive", *extra]


def job(tree, out, tiny_models, task="denoise", **kw) -> BatchJob:
    return BatchJob(input_dir=tree, output_dir=out, task=task, model=tiny_models[task], recursive=True, **kw)


def assert_no_partial_files(out: Path) -> None:
    for p in out.rglob("*"):
        assert not p.name.startswith(".") and not p.name.endswith(".tmp"), p
        if p.is_dir():
            assert any(p.iterdir()), f"empty folder {p}"
        if p.is_file():
            assert p.stat().st_size > 0, p
            with Image.open(p) as im:
                im.load()  # complete, decodable


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------
def test_good_files_are_restored_with_the_tree_and_bad_ones_reported(tiny_models, tree, tmp_path, capsys):
    before = _snapshot(tree)
    out, report = tmp_path / "out", tmp_path / "report.csv"
    code, stdout, err = run(cli(tree, out, tiny_models, "--report", report, "--sigma", "10"), capsys)

    assert code == 1
    assert _files(out) == sorted(GOOD)
    for rel in GOOD:
        with Image.open(out / rel) as im:
            assert im.size == (40, 30) and im.format == ("JPEG" if rel.endswith(".jpg") else "PNG")
    assert_no_partial_files(out)
    assert _snapshot(tree) == before  # the input tree is never modified

    errors = [line for line in err.splitlines() if line.startswith("rednet batch: error: ")]
    assert len(errors) == len(BAD)
    for name, why in BAD.items():
        line = next(line for line in errors if line.startswith(f"rednet batch: error: {name}: "))
        assert why in line
    assert "restored 5, skipped 0, failed 3 of 8 files in" in stdout and "files/min" in stdout

    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert list(rows[0]) == ["input", "output", "status", "reason", "seconds"]
    by_input = {Path(r["input"]).relative_to(tree).as_posix(): r for r in rows}
    assert sorted(by_input) == sorted(GOOD + list(BAD))
    for rel in GOOD:
        r = by_input[rel]
        assert r["status"] == "ok" and r["reason"] == "" and Path(r["output"]) == out / rel
        assert float(r["seconds"]) >= 0
    for name, why in BAD.items():
        assert by_input[name]["status"] == "failed" and why in by_input[name]["reason"]
        assert "\n" not in by_input[name]["reason"]
    assert not list(tmp_path.glob(".report.csv*"))


def test_rerun_with_skip_existing_writes_nothing(tiny_models, tree, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run(cli(tree, out, tiny_models), capsys)[0] == 1
    before = _snapshot(out)
    calls = []
    monkeypatch.setattr("rednet.engine.restore.write_photo", lambda *a, **k: calls.append(a))
    code, stdout, _ = run(cli(tree, out, tiny_models, "--skip-existing"), capsys)
    assert code == 1  # the bad files still fail
    assert calls == [] and _snapshot(out) == before
    assert "restored 0, skipped 5, failed 3 of 8" in stdout


def test_existing_outputs_fail_by_default_and_are_replaced_with_overwrite(tiny_models, tree, tmp_path, capsys):
    for name in BAD:
        (tree / name).unlink()
    out = tmp_path / "out"
    assert run(cli(tree, out, tiny_models), capsys)[0] == 0
    before = _snapshot(out)
    code, _, err = run(cli(tree, out, tiny_models), capsys)
    assert code == 1 and err.count("output exists (use --skip-existing or --overwrite)") == len(GOOD)
    assert _snapshot(out) == before
    code, stdout, _ = run(cli(tree, out, tiny_models, "--overwrite"), capsys)
    assert code == 0 and "restored 5, skipped 0, failed 0 of 5" in stdout
    after = _snapshot(out)
    assert all(after[k][1] != before[k][1] for k in before)  # all rewritten
    assert_no_partial_files(out)


def test_two_shards_cover_every_file_exactly_once(tiny_models, tree, tmp_path, capsys):
    out = tmp_path / "out"
    full = [p.rel for p in plan_batch(job(tree, out, tiny_models))]
    one = [p.rel for p in plan_batch(job(tree, out, tiny_models, shard=(1, 2)))]
    two = [p.rel for p in plan_batch(job(tree, out, tiny_models, shard=(2, 2)))]
    assert not set(one) & set(two) and sorted(one + two) == full and one and two
    codes = [run(cli(tree, out, tiny_models, "--shard", s), capsys)[0] for s in ("1/2", "2/2")]
    assert max(codes) == 1  # bad files are in one of them
    assert _files(out) == sorted(GOOD)


def test_shards_are_stable_and_balanced_on_many_names(tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(60):
        (root / f"img_{i:03d}.png").write_bytes(b"")
    plans = [plan_batch(BatchJob(root, tmp_path / "o", "sr", shard=(k, 3))) for k in (1, 2, 3)]
    rels = [p.rel for plan in plans for p in plan]
    assert sorted(rels) == [f"img_{i:03d}.png" for i in range(60)]
    assert all(8 <= len(plan) <= 32 for plan in plans)
    assert [p.rel for p in plan_batch(BatchJob(root, tmp_path / "o", "sr", shard=(2, 3)))] == [p.rel for p in plans[1]]


def test_output_folder_inside_the_input_is_not_reprocessed(tiny_models, tree, tmp_path, capsys):
    for name in BAD:
        (tree / name).unlink()
    out = tree / "restored"
    assert run(cli(tree, out, tiny_models), capsys)[0] == 0
    assert _files(out) == sorted(GOOD)
    code, stdout, _ = run(cli(tree, out, tiny_models, "--overwrite"), capsys)
    assert code == 0 and "of 5 files" in stdout
    assert not (out / "restored").exists() and _files(out) == sorted(GOOD)
    assert all(not p.rel.startswith("restored/") for p in plan_batch(job(tree, out, tiny_models)))


def test_ctrl_c_stops_cleanly_with_exit_130_and_a_report(tiny_models, tree, tmp_path, capsys, monkeypatch):
    real_restore = batch.restore_file
    calls = []

    def restore_then_interrupt(*a, **k):
        calls.append(1)
        if len(calls) == 2:  # Ctrl-C while the second photo is being restored
            os.kill(os.getpid(), signal.SIGINT)
        return real_restore(*a, **k)

    monkeypatch.setattr(batch, "restore_file", restore_then_interrupt)
    out, report = tmp_path / "out", tmp_path / "r.csv"
    handler = signal.getsignal(signal.SIGINT)
    code, stdout, err = run(cli(tree, out, tiny_models, "--report", report), capsys)
    assert code == 130 and "interrupted" in err and "cancelled" in stdout
    assert signal.getsignal(signal.SIGINT) is handler  # restored
    assert len(_files(out)) == 1
    assert_no_partial_files(out)
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [r["status"] for r in rows if r["status"] == "ok"] == ["ok"]


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--shard", "0/2"], "1 <= K <= N"),
        (["--shard", "3/2"], "1 <= K <= N"),
        (["--shard", "x"], "--shard: must be K/N"),
        (["--shard", "1/0"], "1 <= K <= N"),
        (["--sigma", "-1"], "--sigma: must be between 0 and 75"),
        (["--name", "{foo}"], "unknown field {foo}"),
        (["--name", "sub/{stem}"], "plain file name"),
        (["--output-quality", "0"], "--output-quality: must be between 1 and 100"),
    ],
)
def test_usage_errors_exit_2(tiny_models, tree, tmp_path, capsys, extra, message):
    code, _, err = run(cli(tree, tmp_path / "out", tiny_models, *extra), capsys)
    assert code == 2 and message in err and not (tmp_path / "out").exists()


def test_folder_usage_errors_exit_2(tiny_models, tree, tmp_path, capsys):
    before = _snapshot(tree)
    for src, out, message in [
        (tmp_path / "missing", tmp_path / "out", "input folder not found"),
        (tree, tree, "must not be the input folder"),
        (tree, tree / ".", "must not be the input folder"),
        (tree / "sub", tree, "must not contain the input folder"),
    ]:
        code, _, err = run(cli(src, out, tiny_models, "--format", "same", "--overwrite"), capsys)
        assert code == 2 and message in err, err
    code, _, err = run(cli(tree, tmp_path / "o", tiny_models, task="inpaint"), capsys)
    assert code == 2 and "inpaint needs a mask" in err
    code, _, err = run(["batch", tree, "-o", tmp_path / "o", "--task", "sr", "--model", "nope"], capsys)
    assert code == 2 and "no model named 'nope'" in err
    if not torch.cuda.is_available():
        code, _, err = run(cli(tree, tmp_path / "o", tiny_models, "--device", "cuda"), capsys)
        assert code == 2 and "device 'cuda' is not available" in err
    assert _snapshot(tree) == before and not (tmp_path / "o").exists() and not (tmp_path / "out").exists()


def test_skip_existing_and_overwrite_are_exclusive(tree, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(tree), "-o", str(tmp_path / "o"), "--task", "sr", "--skip-existing", "--overwrite"])
    assert exc.value.code == 2


def test_same_destination_name_fails_the_second_file(tiny_models, tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    _save(src / "a.jpg", 1)
    _save(src / "a.png", 2)
    code, _, err = run(cli(src, out, tiny_models, "--format", "png"), capsys)
    assert code == 1 and _files(out) == ["a.png"]
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("rednet batch: error: a.png: same output name a.png as a.jpg")
    # the collision is found over the whole listing, whichever shard the second file falls in
    for k in (1, 2):
        for p in plan_batch(job(src, out, tiny_models, output_format="png", shard=(k, 2))):
            assert (p.error is not None) == (p.rel == "a.png")
    code, _, err = run(cli(src, tmp_path / "out2", tiny_models, "--format", "png", "--name", "{stem}_{ext}"), capsys)
    assert code == 0, err
    assert _files(tmp_path / "out2") == ["a_jpg.png", "a_png.png"]


def test_format_name_template_glob_and_non_recursive(tiny_models, tree, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(
        [
            "batch",
            tree,
            "-o",
            out,
            "--task",
            "sr",
            "--scale",
            "2",
            "--model",
            tiny_models["sr"],
            "--glob",
            "*.JPG",
            "--format",
            "webp",
            "--name",
            "{stem}-{task}",
        ],
        capsys,
    )
    assert code == 1 and "broken.jpg" in err  # not recursive: фото.jpg and broken.jpg only
    assert _files(out) == ["фото-sr.webp"]
    with Image.open(out / "фото-sr.webp") as im:
        assert im.format == "WEBP" and im.size == (80, 60)
    plan = plan_batch(job(tree, out, tiny_models, pattern="sub/*"))
    assert [p.rel for p in plan] == ["sub/b.jpg", "sub/deeper/c.png"]
    plan = plan_batch(job(tree, out, tiny_models, output_format="tif"))
    assert [(p.rel, p.dst.relative_to(out).as_posix()) for p in plan][:2] == [
        ("a.png", "a.tif"),
        ("broken.jpg", "broken.tif"),
    ]
    src, dst = plan[0]  # a planned file unpacks as (src, dst)
    assert src == tree / "a.png" and dst == out / "a.tif"


def test_batch_has_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["batch", "--help"])
    assert exc.value.code == 0 and "--shard" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------
# Core API (what the GUI calls)
# ------------------------------------------------------------------------------------------------
def test_run_batch_reports_every_file_and_progress(tiny_models, tree, tmp_path):
    progress, seen = [], []
    report = run_batch(
        job(tree, tmp_path / "out", tiny_models, sigma=5.0), TaskState(progress.append), on_file=seen.append
    )
    assert report.total == 8 and report.counts == {"ok": 5, "failed": 3, "skipped": 0, "not_done": 0}
    assert seen == report.results and not report.cancelled and not report.succeeded
    assert [r.src.relative_to(tree).as_posix() for r in report.results] == sorted(GOOD + list(BAD))
    assert all(r.reason == "" for r in report.results if r.status == "ok")
    assert report.elapsed_s > 0 and report.files_per_minute > 0
    assert progress[-1].fraction == 1.0
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions)
    assert any(p.message.startswith("file 3 of 8: café ☕.png") for p in progress)
    assert any(p.eta_s is not None for p in progress)


def test_cancel_after_the_first_file_leaves_only_complete_files(tiny_models, tree, tmp_path):
    state = TaskState(lambda p: p.message.startswith("file 2 of") and state.cancel())
    out = tmp_path / "out"
    report = run_batch(job(tree, out, tiny_models), state)
    assert report.cancelled and [r.status for r in report.results] == ["ok"]
    assert report.counts["not_done"] == 7 and "cancelled" in report.summary()
    assert _files(out) == ["a.png"]
    assert_no_partial_files(out)


def test_cancel_inside_a_file_writes_nothing_for_it(tiny_models, tree, tmp_path):
    """Cancelled between tiles of the second photo: its output never appears."""
    for name in BAD:
        (tree / name).unlink()
    state = TaskState(lambda p: "file 2 of" in p.message and "tile" in p.message and state.cancel())
    out = tmp_path / "out"
    report = run_batch(job(tree, out, tiny_models, tile=16), state)
    assert report.cancelled and len(report.results) == 1 and _files(out) == ["a.png"]
    assert_no_partial_files(out)


def test_mask_size_mismatch_is_a_per_file_failure(tiny_models, tmp_path):
    src = tmp_path / "in"
    _save(src / "fits.png", 1)
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(src / "small.png")
    mask = np.zeros((30, 40), np.uint8)
    mask[5:10, 5:15] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    report = run_batch(job(src, tmp_path / "out", tiny_models, task="inpaint", mask=tmp_path / "mask.png"))
    status = {r.src.name: (r.status, r.reason) for r in report.results}
    assert status["fits.png"] == ("ok", "")
    assert status["small.png"] == ("failed", "mask is 40x30 but the photo is 20x20")


def test_job_level_problems_raise_before_any_file(tiny_models, tree, tmp_path):
    with pytest.raises(UsageError, match="not found"):
        run_batch(job(tmp_path / "nope", tmp_path / "out", tiny_models))
    with pytest.raises(UsageError):
        run_batch(job(tree, tmp_path / "out", tiny_models, output_format="gif"))
    with pytest.raises(UsageError):
        run_batch(job(tree, tmp_path / "out", tiny_models, if_exists="ask"))
    with pytest.raises(UsageError):
        parse_shard("1/2/3")
    assert parse_shard(" 2/5 ") == (2, 5)
    assert not (tmp_path / "out").exists()


def test_empty_folder_is_a_success(tiny_models, tmp_path):
    (tmp_path / "in").mkdir()
    report = run_batch(job(tmp_path / "in", tmp_path / "out", tiny_models))
    assert report.total == 0 and report.succeeded and report.files_per_minute == 0.0
    report.write_csv(tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").splitlines() == ["input,output,status,reason,seconds"]

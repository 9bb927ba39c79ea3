import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rednet.cli.main import main
from rednet.models.registry import list_models, load_model
from rednet.paths import user_models_dir
from rednet.tasks.degradations import add_gaussian_noise
from rednet.train.data import DataError, load_pairs
from rednet.train.finetune import finetune, output_path
from tests.support.photos import smooth_photo


def _save(arr, path):
    Image.fromarray((np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path)


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(4):
        _save(smooth_photo(80, 96, seed=10 + i), folder / f"scan{i}.png")
    return folder


def test_finetune_starts_from_the_base_and_lands_in_the_user_models(tiny_models, photos):
    result = finetune(
        "denoise",
        photos,
        "my-scans",
        base=tiny_models["denoise"],
        iters=20,
        batch=4,
        patch=32,
        lr=1e-3,
        val_every=5,
        patience=None,
    )
    assert result.path == user_models_dir() / "my-scans.safetensors"
    card = load_model("my-scans").card
    assert card["base_model"].endswith("tiny-denoise") and card["fine_tuned"]
    assert card["training_data"]["train_images"] + card["training_data"]["val_images"] == 4
    assert card["validation"]["psnr_after_db"] >= card["validation"]["psnr_before_db"]
    assert "my-scans" in [m.name for m in list_models("denoise")]


def test_early_stopping_ends_a_run_that_stops_improving(tiny_models, photos):
    result = finetune(
        "sr", photos, "early", base=tiny_models["sr"], iters=400, batch=2, patch=32, lr=1e-9, val_every=2, patience=2
    )
    assert result.stopped == "early stop" and result.steps < 400


def test_pairs_are_matched_by_name_and_used_as_they_are(tiny_models, photos, tmp_path):
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    rng = np.random.default_rng(0)
    for p in photos.iterdir():
        clean = np.asarray(Image.open(p), dtype=np.float32) / 255
        _save(add_gaussian_noise(clean, 20, rng), noisy / (p.stem + ".png"))
    pairs = load_pairs(photos, noisy, "denoise", min_side=32)
    assert len(pairs) == 4 and all(15 < cond["sigma"] < 25 for _, _, cond in pairs)
    result = finetune(
        "denoise",
        photos,
        tmp_path / "paired.safetensors",
        base=tiny_models["denoise"],
        pairs=noisy,
        iters=4,
        batch=2,
        patch=32,
        val_every=2,
    )
    assert result.path.is_file()


def test_bad_data_is_refused_before_training(tiny_models, tmp_path, photos):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images found"):
        finetune("denoise", tmp_path / "empty", "x", base=tiny_models["denoise"])
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(photos / "scan0.png", one)
    (one / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(DataError, match="need at least 2 readable photos"):
        finetune("denoise", one, "x", base=tiny_models["denoise"])
    small = tmp_path / "small"
    small.mkdir()
    for i in range(3):
        Image.new("RGB", (20, 20)).save(small / f"{i}.png")
    with pytest.raises(DataError, match="of at least 64 px"):
        finetune("denoise", small, "x", base=tiny_models["denoise"])
    other = tmp_path / "other"
    other.mkdir()
    Image.new("RGB", (90, 90)).save(other / "unrelated.png")
    with pytest.raises(DataError, match="matches a file"):
        finetune("denoise", photos, "x", base=tiny_models["denoise"], pairs=other)
    with pytest.raises(DataError, match="not pairs"):
        finetune("inpaint", photos, "x", base=tiny_models["inpaint"], pairs=other)
    assert not (user_models_dir() / "x.safetensors").exists()


def test_mismatched_pair_sizes_are_named(tmp_path, photos):
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in photos.iterdir():
        Image.new("RGB", (50, 50)).save(bad / p.name)
    with pytest.raises(DataError, match="corrupted is 50x50 but clean is 96x80"):
        load_pairs(photos, bad, "denoise", min_side=32)


def test_cli_finetune_and_bad_folder_exit_code(tiny_models, photos, tmp_path, capsys):
    code = main(
        [
            "finetune",
            "--task",
            "jpeg",
            "--data",
            str(photos),
            "-o",
            "cli-model",
            "--base",
            str(tiny_models["jpeg"]),
            "--iters",
            "3",
            "--batch",
            "2",
            "--patch",
            "32",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "cli-model.safetensors" in out and (user_models_dir() / "cli-model.safetensors").is_file()
    code = main(["finetune", "--task", "jpeg", "--data", str(tmp_path / "nowhere"), "-o", "y"])
    assert code == 2 and "not a folder" in capsys.readouterr().err


def test_output_path_rules(tmp_path):
    assert output_path("name") == user_models_dir() / "name.safetensors"
    assert output_path(tmp_path / "a.safetensors") == tmp_path / "a.safetensors"


def test_two_torchrun_processes_match_one_process(photos, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    worker = Path(__file__).with_name("ddp_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[3])}
    single = tmp_path / "single.safetensors"
    subprocess.run([sys.executable, str(worker), str(photos), str(single)], check=True, env=env, timeout=300)
    double = tmp_path / "double.safetensors"
    proc = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node", "2", str(worker), str(photos), str(double)],
        env=env,
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    a, b = load_model(single).net.state_dict(), load_model(double).net.state_dict()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-4
    assert "x2 processes" in load_model(double).card["hardware"]


def test_an_existing_model_is_not_replaced_unless_asked(tiny_models, photos):
    finetune("sr", photos, "taken", base=tiny_models["sr"], iters=2, batch=2, patch=32)
    before = (user_models_dir() / "taken.safetensors").read_bytes()
    with pytest.raises(DataError, match="already exists"):
        finetune("sr", photos, "taken", base=tiny_models["sr"], iters=2, batch=2, patch=32)
    assert (user_models_dir() / "taken.safetensors").read_bytes() == before
    finetune("sr", photos, "taken", base=tiny_models["sr"], iters=2, batch=2, patch=32, overwrite=True)


def test_the_starting_score_is_logged_and_pauses_do_not_count_against_the_budget(tiny_models, photos):
    import threading

    from rednet.progress import TaskState

    logs = []
    state = TaskState()

    def on_log(entry):
        logs.append(entry)
        if entry.get("step") == 1:  # pause for longer than the whole budget, from another thread
            state.pause()
            threading.Timer(4.0, state.resume).start()

    # A 3 s budget and a 4 s pause after step 1: were the pause counted, the run would end at step 2.
    result = finetune(
        "denoise",
        photos,
        "paused",
        base=tiny_models["denoise"],
        iters=10_000,
        minutes=0.05,
        batch=2,
        patch=32,
        state=state,
        on_log=on_log,
        patience=None,
    )
    assert logs[0]["step"] == 0 and "val_psnr" in logs[0]
    assert result.stopped == "time" and result.steps > 2

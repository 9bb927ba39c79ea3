import numpy as np
import pytest
from PIL import Image

from rednet.models.registry import load_model
from rednet.progress import Cancelled, TaskState
from rednet.train.data import DataError, PatchSampler, augment, load_image_source
from rednet.train.loop import TrainConfig, checkpoint_path, train
from tests.support.photos import smooth_photo


@pytest.fixture
def photo_dir(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        img = smooth_photo(90, 120, seed=i)
        Image.fromarray((img * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def _cfg(photo_dir, tmp_path, **kw):
    base = dict(
        task="denoise",
        data=photo_dir,
        out=tmp_path / "out.safetensors",
        depth=4,
        width=8,
        patch=24,
        batch=4,
        iters=30,
        val_every=10,
        checkpoint_every=5,
        val_patches=8,
        lr=2e-3,
        warmup=1,
    )
    return TrainConfig(**{**base, **kw})


def test_short_training_improves_validation_psnr_and_writes_a_card(photo_dir, tmp_path):
    logs = []
    result = train(_cfg(photo_dir, tmp_path), on_log=logs.append)
    assert result.steps == 30 and result.path.is_file() and len(logs) == 31  # the starting score, then 30 steps
    assert logs[0]["step"] == 0 and "val_psnr" in logs[0]
    assert result.val_psnr > result.val_psnr_before
    loaded = load_model(result.path, task="denoise")
    assert loaded.card["recipe"]["steps_done"] == 30 and loaded.card["validation"]["psnr_after_db"] > 0
    assert not checkpoint_path(result.path).exists()


@pytest.mark.parametrize("task", ["sr", "jpeg", "inpaint"])
def test_every_task_trains(photo_dir, tmp_path, task):
    result = train(_cfg(photo_dir, tmp_path, task=task, iters=3, val_every=3))
    assert load_model(result.path).descriptor.task == task


def test_cancel_saves_a_checkpoint_and_resume_finishes_the_run(photo_dir, tmp_path):
    cfg = _cfg(photo_dir, tmp_path, iters=12)
    state = TaskState(lambda p: state.cancel() if p.fraction >= 7 / 12 else None)
    with pytest.raises(Cancelled):
        train(cfg, state)
    assert checkpoint_path(cfg.out).is_file() and not cfg.out.exists()
    cfg.resume = True
    result = train(cfg)
    assert result.steps == 12 and result.history[-1]["step"] == 12


def test_bad_data_is_reported_before_training(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images found"):
        load_image_source(tmp_path / "empty", 64)
    small = tmp_path / "small"
    small.mkdir()
    Image.new("RGB", (20, 20)).save(small / "a.png")
    with pytest.raises(DataError, match="at least 64 px"):
        load_image_source(small, 64)
    with pytest.raises(DataError, match="not a folder"):
        load_image_source(tmp_path / "missing", 64)


def test_packed_npy_crops_are_a_data_source(tmp_path):
    crops = (np.random.default_rng(0).random((3, 80, 80, 3)) * 255).astype(np.uint8)
    np.save(tmp_path / "crops.npy", crops)
    images = load_image_source(tmp_path / "crops.npy", 64)
    sampler = PatchSampler(images, "sr", 48, np.random.default_rng(0))
    x, y = sampler.batch(2)
    assert x.shape == (2, 3, 48, 48) and y.shape == (2, 3, 48, 48)


def test_augment_covers_the_eight_symmetries():
    patch = np.arange(9).reshape(3, 3)
    variants = {augment(patch, k).tobytes() for k in range(8)}
    assert len(variants) == 8


def test_a_blind_denoiser_trains_and_restores_without_a_noise_map(photo_dir, tmp_path):
    from rednet.engine.restore import restore
    from rednet.io import Photo

    result = train(_cfg(photo_dir, tmp_path, iters=3, val_every=3, blind=True))
    model = load_model(result.path)
    assert model.descriptor.cond is None and model.net.convs[0].in_channels == 3
    photo = Photo(pixels=np.random.default_rng(0).random((20, 30, 3), dtype=np.float32))
    assert restore(photo, "denoise", sigma=10, model=model).pixels.shape == (20, 30, 3)


def test_a_space_to_depth_model_trains_and_warm_starts_keep_the_whole_history(photo_dir, tmp_path):
    first = train(_cfg(photo_dir, tmp_path, arch="rednet-s2d", iters=12, out=tmp_path / "a.safetensors"))
    assert first.val_psnr > first.val_psnr_before
    second = train(_cfg(photo_dir, tmp_path, base=first.path, iters=8, out=tmp_path / "b.safetensors"))
    card = load_model(second.path, task="denoise").card
    assert card["descriptor"]["arch"] == card["recipe"]["arch"] == "rednet-s2d"  # the base's, not the default
    assert [r["steps"] for r in card["training_history"]] == [12, 8] and card["total_steps"] == 20
    assert card["architecture"].startswith("space-to-depth RED4-8")

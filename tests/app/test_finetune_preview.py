"""The fine-tune preview: its crop degraded by each task's own `degrade` (rednet.train.preview) with the
preview's fixed setting, the app-side job that restores it and makes the display images, and its
score told apart from the validation score."""

from __future__ import annotations

import numpy as np
import pytest

from app.tools.finetune_preview import FinetunePreview, preview_job
from app.tools.training_plot import TrainingPlot, metrics_text
from rednet.tasks import TASK_NAMES, get_task
from rednet.tasks import degradations as deg
from rednet.train.preview import (
    PREVIEW_FILL,
    PREVIEW_SEED,
    describe_setting,
    prepare_preview,
    preview_setting,
)

PW, PH = 120, 90


@pytest.fixture
def folder(tmp_path, make_photo):
    d = tmp_path / "photos"
    d.mkdir()
    (d / "a-broken.png").write_bytes(b"not a photo")  # skipped: the first readable photo is used
    make_photo("b.png", PW, PH, seed=4, folder=d)
    return d


@pytest.mark.parametrize("task", TASK_NAMES)
def test_the_crop_is_degraded_by_the_task(folder, task):
    spec = get_task(task)
    sample = prepare_preview(folder, task, size=64)
    assert sample.source.name == "b.png" and sample.task == task
    assert sample.clean.shape == (64, 64, 3) and sample.shown.shape == (64, 64, 3)
    assert set(sample.options) == {o.name for o in spec.options}
    small = spec.output_size((64, 64), sample.options) != (64, 64)
    size = (sample.restore_input.width, sample.restore_input.height)
    assert size == ((32, 32) if small else (64, 64))  # sr: the ×2 smaller photo
    again = prepare_preview(folder, task, size=64)
    assert np.array_equal(again.shown, sample.shown)  # a fixed seed: every preview shows the same damage
    assert not np.allclose(sample.shown, sample.clean, atol=1 / 255)


def test_the_preview_settings_are_the_ones_it_always_used(folder):
    assert preview_setting(TASK_NAMES[0]) == {"sigma": 25.0}
    assert {k: v for t in TASK_NAMES for k, v in preview_setting(t).items() if k != "mask"} == {
        "sigma": 25.0,
        "scale": 2,
        "quality": 20,
        "fill": PREVIEW_FILL,
    }
    sample = prepare_preview(folder, "denoise", size=64)
    expected = deg.add_gaussian_noise(sample.clean, 25.0, np.random.default_rng(PREVIEW_SEED))
    assert np.array_equal(sample.shown, expected)
    holes = prepare_preview(folder, "inpaint", size=64)
    mask = holes.options["mask"]
    assert mask.any() and np.allclose(holes.shown[mask], PREVIEW_FILL)  # the holes are painted red
    assert np.array_equal(holes.shown[~mask], holes.clean[~mask])
    assert describe_setting("denoise", preview_setting("denoise")) == "Noise level σ 25"
    assert describe_setting("inpaint", preview_setting("inpaint")) == "a random mask (red)"


def test_the_job_restores_the_crop_and_makes_the_images(folder, tiny_models):
    for task in TASK_NAMES:
        shown = preview_job(None, str(folder), task, tiny_models[task], "cpu", state=None)
        s = shown.sample.clean.shape[0]
        assert shown.sample.task == task and shown.step is None
        assert (shown.degraded.width(), shown.degraded.height()) == (s, s)
        assert (shown.restored.width(), shown.restored.height()) == (s, s)
        assert np.isfinite(shown.psnr_degraded) and np.isfinite(shown.psnr_restored)
        again = preview_job(shown.sample, str(folder), task, tiny_models[task], "cpu", state=None)
        assert again.sample is shown.sample  # the crop is prepared once per run


def test_the_preview_score_is_told_apart_from_validation(qtbot, folder, tiny_models):
    """The preview's dB score one crop at one damage level; validation pools held-out photos over the
    whole range: they can move apart (the preview falling while validation rises), so each says which it is."""
    preview = FinetunePreview(device=lambda: "cpu")
    qtbot.addWidget(preview)
    with qtbot.waitSignal(preview.shown, timeout=30000):
        preview.start(tiny_models["denoise"], "Base model", str(folder), "denoise")
    text = preview.label.text()
    assert text.startswith("Base model\n\nA 90 px crop of b.png with Noise level σ 25. ")
    assert "measure this one crop, at this one damage level, against its clean original" in text
    assert "the plot's validation score averages patches of held-out photos" in text
    assert preview.after_caption.text().startswith("Restored · ")
    assert "not the validation score" in preview.after_caption.toolTip()

    plot = TrainingPlot()
    qtbot.addWidget(plot)
    assert plot.series["psnr"].name == "validation PSNR (held-out photos)"
    log = [{"step": 0, "val_psnr": 24.0}, {"step": 2, "loss": 0.01, "val_psnr": 25.5}]
    assert metrics_text(log, []) == "Step 2 · loss 0.01000 · validation PSNR (held-out photos) 25.50 dB (best 25.50)"

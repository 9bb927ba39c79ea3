import numpy as np
import pytest

from rednet.engine import restore as R
from rednet.io import Photo
from rednet.progress import Cancelled, TaskState
from tests.support.photos import smooth_photo


def _photo(channels=3, alpha=False, bit_depth=8, h=67, w=101):
    px = smooth_photo(h, w, channels)
    a = np.linspace(0, 1, h * w, dtype=np.float32).reshape(h, w) if alpha else None
    return Photo(
        pixels=px, alpha=a, bit_depth=bit_depth, exif=None, icc=None, format="PNG", jpeg_quality=None, path=None
    )


def _options(task, photo):
    if task == "inpaint":
        mask = np.zeros((photo.height, photo.width), bool)
        mask[20:30, 10:40] = True
        mask[60:64, 90:99] = True
        return {"mask": mask}
    return {"sr": {"scale": 2.5}, "denoise": {"sigma": 25}, "jpeg": {"quality": 20}}[task]


@pytest.mark.parametrize("task", R.TASK_NAMES)
@pytest.mark.parametrize("kind", ["rgb", "gray", "rgba", "16bit"])
def test_every_task_restores_every_kind_of_photo_at_an_odd_size(tiny_models, task, kind):
    photo = _photo(channels=1 if kind == "gray" else 3, alpha=kind == "rgba", bit_depth=16 if kind == "16bit" else 8)
    before = photo.pixels.copy()
    out = R.restore(photo, task, model=tiny_models[task], **_options(task, photo))
    w, h = R.output_size(photo, task, 2.5)
    assert (out.width, out.height) == (w, h) == ((253, 168) if task == "sr" else (101, 67))
    assert out.pixels.shape[2] == photo.pixels.shape[2] and out.pixels.dtype == np.float32
    assert out.bit_depth == photo.bit_depth
    assert 0.0 <= out.pixels.min() and out.pixels.max() <= 1.0
    if kind == "rgba":
        assert out.alpha.shape == (h, w)
        if task != "sr":
            assert np.array_equal(out.alpha, photo.alpha)  # alpha carried through untouched
    assert np.array_equal(photo.pixels, before)  # the input photo is never modified


def test_inpaint_changes_only_masked_pixels_and_runs_only_around_the_mask(tiny_models, monkeypatch):
    photo = _photo(h=300, w=400)
    mask = np.zeros((300, 400), bool)
    mask[100:110, 50:80] = True
    shapes = []
    import rednet.engine.inference as inference

    real = inference.run_model  # what restore calls (imported when it runs)
    monkeypatch.setattr(inference, "run_model", lambda m, x, **kw: (shapes.append(x.shape), real(m, x, **kw))[1])
    out = R.restore(photo, "inpaint", mask=mask, model=tiny_models["inpaint"])
    assert np.array_equal(out.pixels[~mask], photo.pixels[~mask])
    assert not np.array_equal(out.pixels[mask], photo.pixels[mask])
    assert len(shapes) == 1 and shapes[0][0] * shapes[0][1] < 0.1 * 300 * 400


def test_empty_mask_returns_the_photo_unchanged(tiny_models):
    photo = _photo()
    out = R.restore(photo, "inpaint", mask=np.zeros((67, 101), bool), model=tiny_models["inpaint"])
    assert np.array_equal(out.pixels, photo.pixels)


@pytest.mark.parametrize(
    "task,opts,message",
    [
        ("denoise", {"sigma": -1}, "^must be between 0 and 75"),
        ("denoise", {"sigma": 300}, "^must be between 0 and 75"),
        ("sr", {"scale": 0}, "^must be between 1.25 and 4"),
        ("sr", {"scale": 1000}, "^must be between 1.25 and 4"),
        ("jpeg", {"quality": 0}, "^must be between 1 and 100"),
        ("inpaint", {}, "inpaint needs a mask"),
        ("inpaint", {"mask": np.ones((5, 5), bool)}, "mask is 5x5 but the photo is 101x67"),
        ("blur", {}, "unknown task"),
    ],
)
def test_out_of_range_options_are_usage_errors(tiny_models, task, opts, message):
    with pytest.raises(R.UsageError, match=message) as err:
        R.restore(_photo(), task, model=tiny_models.get(task), **opts)
    assert err.value.option == ({"blur": "task", "inpaint": "mask"}.get(task) or next(iter(opts)))


def test_a_model_for_another_task_is_refused(tiny_models):
    with pytest.raises(ValueError, match="not a denoise model"):
        R.restore(_photo(), "denoise", model=tiny_models["sr"])


def test_denoise_without_sigma_uses_the_estimate_and_says_so(tiny_models):
    out = R.restore(_photo(), "denoise", model=tiny_models["denoise"])
    assert any("estimated noise level" in w for w in out.warnings)


def test_cancel_raises_and_progress_reaches_one(tiny_models):
    seen = []
    R.restore(
        _photo(), "sr", scale=2, model=tiny_models["sr"], tile=64, state=TaskState(lambda p: seen.append(p.fraction))
    )
    assert seen[-1] == 1.0 and len(seen) > 2
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        R.restore(_photo(), "sr", scale=2, model=tiny_models["sr"], state=state)


def test_tiled_restore_equals_whole_image_restore(tiny_models):
    photo = _photo(h=90, w=130)
    whole = R.restore(photo, "denoise", sigma=20, model=tiny_models["denoise"], tile=1024, precision="fp32")
    tiled = R.restore(photo, "denoise", sigma=20, model=tiny_models["denoise"], tile=24, precision="fp32")
    assert np.abs(whole.pixels - tiled.pixels).max() < 1e-3


def test_restore_file_never_overwrites_its_input(tiny_models, tmp_path):
    from rednet.io import write_photo

    src = tmp_path / "in.png"
    write_photo(_photo(), src)
    original = src.read_bytes()
    with pytest.raises(R.UsageError, match="overwrite the input"):
        R.restore_file(src, src, task="sr", scale=2, model=tiny_models["sr"])
    assert src.read_bytes() == original

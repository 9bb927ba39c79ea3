import numpy as np
import pytest

from rednet.errors import UsageError
from rednet.tasks import TASK_NAMES, TASKS, get_task
from tests.support.photos import smooth_photo


def test_the_registry_lists_every_task_once_in_order():
    assert TASK_NAMES == ("denoise", "sr", "jpeg", "inpaint")
    assert all(TASKS[name].name == name for name in TASK_NAMES)
    assert get_task(TASKS["sr"]) is TASKS["sr"]
    with pytest.raises(UsageError) as err:
        get_task("deblur")
    assert err.value.option == "task" and "choose one of denoise, sr, jpeg, inpaint" in str(err.value)


@pytest.mark.parametrize("task,channels", [("denoise", 4), ("sr", 3), ("jpeg", 4), ("inpaint", 4)])
def test_training_pairs_have_the_network_layout(task, channels):
    clean = smooth_photo(64, 64)
    x, y = get_task(task).training_pair(clean, np.random.default_rng(0), patch=48)
    assert x.shape == (48, 48, channels) and y.shape == (48, 48, 3)
    assert x.dtype == np.float32 and y.dtype == np.float32


def test_condition_maps_carry_sigma_and_quality():
    img = smooth_photo(8, 8)
    denoise, jpeg = get_task("denoise"), get_task("jpeg")
    assert np.allclose(denoise.network_input(img, sigma=51)[..., 3], 0.2)
    assert np.allclose(jpeg.network_input(img, quality=30)[..., 3], 0.3)
    assert np.allclose(jpeg.network_input(img, quality=None)[..., 3], 0.0)
    assert np.allclose(jpeg.network_input(img, quality=99)[..., 3], 0.9)  # clamped to the trained range
    assert get_task("sr").network_input(img).shape == (8, 8, 3)


def test_inpaint_input_prefills_only_the_hole():
    img = smooth_photo(32, 32)
    mask = np.zeros((32, 32), bool)
    mask[10:14, 5:25] = True
    holed = np.where(mask[..., None], 0.0, img).astype(np.float32)
    x = get_task("inpaint").network_input(holed, mask=mask)
    assert np.array_equal(x[~mask, :3], holed[~mask])
    assert np.abs(x[mask, :3] - img[mask]).mean() < 0.1  # Telea is a fair first guess on a smooth photo
    assert np.array_equal(x[..., 3] > 0.5, mask)


@pytest.mark.parametrize("task", ["denoise", "jpeg"])
def test_some_training_pairs_are_gray_with_identical_channels(task):
    rng = np.random.default_rng(0)
    pairs = [get_task(task).training_pair(smooth_photo(64, 64), rng, patch=48) for _ in range(40)]
    gray = [x for x, y in pairs if np.array_equal(y[..., 0], y[..., 1])]
    assert 2 <= len(gray) <= 20
    assert all(np.array_equal(x[..., 0], x[..., 2]) for x in gray)  # the corruption is gray too


@pytest.mark.parametrize(
    "task,option,bad",
    [
        ("denoise", "sigma", 76),
        ("denoise", "sigma", -1),
        ("sr", "scale", 4.5),
        ("sr", "scale", 1.0),
        ("jpeg", "quality", 0),
        ("jpeg", "quality", 101),
    ],
)
def test_an_option_out_of_range_is_a_usage_error_naming_it(task, option, bad):
    with pytest.raises(UsageError) as err:
        get_task(task).validate({option: bad})
    assert err.value.option == option
    assert str(err.value).startswith("must be between") and f"--{option}" not in str(err.value)
    assert err.value.for_cli().startswith(f"--{option}: must be between")


def test_the_mask_is_required_and_must_match_the_photo():
    inpaint = get_task("inpaint")
    with pytest.raises(UsageError) as err:
        inpaint.validate({})
    assert err.value.option == "mask"
    with pytest.raises(UsageError, match="mask is 4x3 but the photo is 5x3") as err:
        inpaint.validate({"mask": np.zeros((3, 4), bool)}, size=(5, 3))
    assert err.value.option == "mask"
    inpaint.validate({"mask": np.zeros((3, 5), bool)}, size=(5, 3))


def test_output_size_and_step_labels():
    assert get_task("sr").output_size((101, 40), {"scale": 2.5}) == (253, 100)  # half up
    assert get_task("sr").output_size((10, 10), {}) == (20, 20)  # the default scale
    assert get_task("denoise").output_size((101, 40), {"sigma": 5}) == (101, 40)
    assert get_task("denoise").step_label({"sigma": 25.0}) == "Denoise σ 25"
    assert get_task("denoise").step_label({}) == "Denoise (auto)"
    assert get_task("jpeg").step_label({"quality": 20}) == "JPEG clean-up q 20"
    assert get_task("sr").step_label({"scale": 3}) == "Upscale ×3"
    assert get_task("inpaint").step_label({}) == "Inpaint"


@pytest.mark.parametrize("task", TASK_NAMES)
def test_degrade_gives_what_restore_and_the_peers_need(task):
    spec = get_task(task)
    clean = smooth_photo(65, 67)
    d = spec.degrade(clean, np.random.default_rng(0))
    assert d.shown.shape == d.clean.shape
    assert spec.output_size(d.pixels.shape[1::-1], d.options) == d.clean.shape[1::-1]
    spec.validate(d.options, size=d.pixels.shape[1::-1])  # a valid restore request
    assert not np.array_equal(d.shown, d.clean)  # it is degraded
    again = spec.degrade(clean, np.random.default_rng(0))
    assert np.array_equal(again.pixels, d.pixels)  # the same generator, the same case


def test_degrade_settings():
    clean = smooth_photo(64, 64)
    rng = np.random.default_rng(0)
    assert get_task("sr").degrade(clean, rng, scale=3).clean.shape == (63, 63, 3)  # a multiple of 3
    jpeg = get_task("jpeg").degrade(clean, rng, quality=10)
    assert jpeg.jpeg_quality == 10 and jpeg.extra["jpeg"][:2] == b"\xff\xd8"
    mask = np.zeros((64, 64), bool)
    mask[5:9, 5:30] = True
    holed = get_task("inpaint").degrade(clean, rng, mask=mask, fill=(1.0, 0.0, 0.0))
    assert np.array_equal(holed.options["mask"], mask) and np.all(holed.pixels[mask] == [1, 0, 0])
    assert np.array_equal(holed.pixels[~mask], clean[~mask])
    noisy = get_task("denoise").degrade(clean, rng, sigma=50)
    assert noisy.options == {"sigma": 50.0} and 0.1 < np.std(noisy.pixels - clean) < 0.3

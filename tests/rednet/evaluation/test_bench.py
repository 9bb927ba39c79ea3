"""`rednet bench` and the speed/memory machinery it measures: fast tests, tiny models, no timing asserts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rednet.cli.main import main
from rednet.engine import inference
from rednet.engine.tiling import flexible_grid, run_tiled
from rednet.evaluation import bench as B
from rednet.evaluation import bench_inputs, bench_machine, bench_report
from rednet.models.arch import REDNet
from rednet.models.registry import build_network, descriptor_for_task, load_model


# --- FLOPs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("task", ["sr", "denoise"])
def test_red30_64_flops_match_the_parameter_count(task):
    d = descriptor_for_task(task, depth=30, width=64)
    params = sum(p.numel() for p in build_network(d).parameters())
    fpp = bench_machine.flops_per_pixel(d)
    assert (
        fpp
        == 2 * bench_machine.weight_count(d)
        == 2 * sum(p.numel() for n, p in build_network(d).named_parameters() if n.endswith("weight"))
    )
    assert abs(fpp - 2 * params) / fpp < 0.05  # biases are the only difference
    assert abs(fpp - 2.1e6) / 2.1e6 < 0.05  # ~2.1 MFLOP per pixel for RED30-64, 3 colours


# --- memory-bounded tiles ------------------------------------------------------------------------
@pytest.fixture
def red30():
    d = descriptor_for_task("denoise", depth=30, width=64)
    return inference.LoadedModel(net=build_network(d).eval(), descriptor=d)


def _with_memory(monkeypatch, available):
    monkeypatch.setattr(inference, "_meminfo_available", lambda: available)
    monkeypatch.setattr(inference, "_cgroup_available", lambda: None)


def test_tile_shrinks_when_memory_is_scarce(monkeypatch, red30):
    cpu = torch.device("cpu")
    tiles = {}
    for label, available in {"plenty": 32 * 2**30, "some": 1 * 2**30, "scarce": 200 * 2**20}.items():
        _with_memory(monkeypatch, available)
        tiles[label] = {p: inference.auto_tile(red30, cpu, p) for p in ("fp32", "bf16")}
    for p in ("fp32", "bf16"):
        assert tiles["plenty"][p] > tiles["some"][p] > tiles["scarce"][p] >= inference.MIN_TILE
        assert tiles["plenty"][p] % 32 == 0
    assert tiles["plenty"]["bf16"] > tiles["plenty"]["fp32"]  # half the bytes per value
    # the activations of the chosen tile stay within a quarter of what is available (and the cap)
    _with_memory(monkeypatch, 1 * 2**30)
    side = inference.auto_tile(red30, cpu, "bf16") + 2 * 30
    assert side**2 * inference.activation_bytes_per_pixel(red30.descriptor, "bf16") <= 2**30 / 4


def test_memory_reader_falls_back_when_meminfo_is_unreadable(monkeypatch):
    _with_memory(monkeypatch, None)
    assert inference.available_memory() is None or inference.available_memory() > 0
    monkeypatch.setattr(inference.os, "sysconf", lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert inference.available_memory() is None
    assert inference.cpu_budget() == inference.CPU_BUDGET_FALLBACK


def test_meminfo_reader_reads_mem_available():
    value = inference._meminfo_available()
    assert value is None or value > 0


# --- the fast forward pass and tiling ------------------------------------------------------------
def _live_weights(net):
    """Random-init RED-Nets shrink their residual to ~0; scale them so every layer matters."""
    torch.manual_seed(1)
    for p in net.parameters():
        if p.dim() == 4:
            torch.nn.init.kaiming_normal_(p, nonlinearity="relu")
            p.data *= 0.7
        else:
            p.data.uniform_(-0.1, 0.1)
    return net.eval()


@pytest.mark.parametrize("depth,skips", [(4, True), (10, None), (20, None)])
def test_fast_rednet_equals_the_module(depth, skips):
    net = _live_weights(REDNet(depth, 8, 3, 1, skips=skips))
    x = torch.rand(1, 4, 29, 41)
    fast = inference.FastREDNet(net, torch.device("cpu"))
    with torch.inference_mode():
        ref = net(x)
        assert float((ref - x[:, :3]).abs().mean()) > 1e-3  # the network does something
        assert float((fast(x.contiguous(memory_format=torch.channels_last)) - ref).abs().max()) < 1e-5
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf_ref, bf_fast = net(x), fast(x)
    assert bf_fast.dtype == torch.float32
    assert float((bf_fast - bf_ref).abs().max()) < 0.03
    assert next(net.parameters()).device.type == "cpu"  # the module itself is never moved


@pytest.mark.parametrize(
    "h,w,tile,margin", [(866, 1155, 640, 30), (300, 4000, 200, 20), (50, 37, 8, 4), (1, 1, 64, 10)]
)
def test_flexible_grid_covers_every_pixel_within_the_area_budget(h, w, tile, margin):
    rows, cols = flexible_grid(h, w, tile, margin)
    for spans, length in ((rows, h), (cols, w)):
        assert spans[0][0] == 0 and spans[-1][1] == length
        assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(spans, spans[1:]))
    for y0, y1 in rows:
        for x0, x1 in cols:
            ph = min(h, y1 + margin) - max(0, y0 - margin)
            pw = min(w, x1 + margin) - max(0, x0 - margin)
            assert ph * pw <= (tile + 2 * margin) ** 2
    squares = len(range(0, h, tile)) * len(range(0, w, tile))
    assert len(rows) * len(cols) <= squares


@pytest.mark.parametrize("flexible", [False, True])
def test_tiled_with_a_per_tile_condition_equals_the_whole_image(flexible):
    net = _live_weights(REDNet(10, 8, 3, 1))
    rgb = torch.rand(1, 3, 67, 101)
    whole_in = torch.cat([rgb, torch.full((1, 1, 67, 101), 0.3)], dim=1)
    fast = inference.FastREDNet(net, torch.device("cpu"))
    with torch.inference_mode():
        whole = net(whole_in)
        tiled = run_tiled(
            fast,
            rgb,
            tile=24,
            margin=10,
            out_channels=3,
            device=torch.device("cpu"),
            channels_last=True,
            cond=0.3,
            flexible=flexible,
        )
    assert tiled.shape == (1, 3, 67, 101)
    assert float((tiled - whole).abs().max()) < 1e-5


def test_run_model_takes_hwc_views_without_copying_and_matches(tiny_models):
    model = load_model(tiny_models["denoise"])
    rgb = np.random.default_rng(0).random((40, 50, 3), dtype=np.float32)
    full = np.concatenate([rgb, np.full((40, 50, 1), 0.1, np.float32)], axis=2)
    a = inference.run_model(model, full, device="cpu", precision="fp32")
    b = inference.run_model(model, rgb, cond=0.1, device="cpu", precision="fp32", tile=16)
    view = rgb[5:35, 7:47]  # a strided crop, as inpainting passes
    c = inference.run_model(model, np.concatenate([view, full[5:35, 7:47, 3:]], axis=2), device="cpu", precision="fp32")
    d = inference.run_model(model, view, cond=0.1, device="cpu", precision="fp32")
    assert a.shape == (40, 50, 3) and a.flags.c_contiguous
    assert np.abs(a - b).max() < 1e-5 and np.abs(c - d).max() < 1e-5


# --- the benchmark itself ------------------------------------------------------------------------
RUN_KEYS = {
    "device",
    "precision",
    "seconds",
    "megapixels",
    "s_per_mp",
    "gflops",
    "tile",
    "peak_gflops",
    "peak_ratio",
    "conv_gflops",
    "conv_ratio",
}


def _check_result(result, tasks, with_peers, with_memory):
    assert {
        "machine",
        "photo",
        "peak_gflops",
        "single_conv_gflops",
        "models",
        "peers",
        "startup",
        "targets",
        "quick",
        "wall_s",
    } <= set(result)
    assert result["machine"]["logical_cores"] >= 1 and result["machine"]["torch_threads"] >= 1
    assert set(result["peak_gflops"]["cpu"]) >= {"fp32"} and result["peak_gflops"]["cpu"]["fp32"] > 0
    assert [m["task"] for m in result["models"]] == tasks
    for m in result["models"]:
        assert {
            "name",
            "task",
            "depth",
            "width",
            "source",
            "flops_per_pixel",
            "runs",
            "restore",
            "memory",
            "bf16_psnr",
        } <= set(m)
        precisions = [r["precision"] for r in m["runs"] if r["device"] == "cpu"]
        assert precisions[0] == "fp32"
        for r in m["runs"]:
            assert RUN_KEYS <= set(r) and r["s_per_mp"] > 0 and r["gflops"] > 0
        assert m["restore"][0]["s_per_mp"] > 0
        if with_memory:
            probe = m["memory"][0]
            assert probe["rc"] == 0, probe
            assert probe["peak_rss_mb"] > 50 and probe["startup_s"] > 0 and probe["wall_s"] >= probe["startup_s"]
    if with_peers:
        assert [p["peer"] for p in result["peers"]] == [
            "CBM3D",
            "FFDNet (in this process)",
            "OpenCV non-local means",
            "bicubic x2",
            "cv2.inpaint (Telea)",
        ]
    json.dumps(result, default=bench_report._json_default)  # JSON-able


def test_quick_bench_cli_writes_json_and_markdown(tiny_models, tmp_path, capsys):
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    code = main(
        [
            "bench",
            "--quick",
            "--no-peers",
            "--json",
            str(out_json),
            "--markdown",
            str(out_md),
            "--model",
            f"denoise={tiny_models['denoise']}",
            "--model",
            f"inpaint={tiny_models['inpaint']}",
        ]
    )
    assert code == 0
    result = json.loads(out_json.read_text())
    _check_result(result, ["denoise", "inpaint"], with_peers=False, with_memory=True)
    assert result["models"][0]["source"] == "given"
    assert result["startup"] and result["startup"][0]["startup_s"] > 0
    table = out_md.read_text()
    assert table == capsys.readouterr().out.rstrip("\n") + "\n"
    assert "| model | task | source | FLOP/pixel |" in table and "tiny-denoise" in table
    assert "peak RSS" in table and "| target | this run | met |" in table
    rows = result["whole_commands"]["rows"]
    assert [r["peer"] for r in rows] == ["Pillow read + write", "FFDNet whole process", "minimal PySide6 viewer"]
    for r in rows:  # each whole command ran, and so did what it is measured against
        assert r["ours_s"] > 0 and r["peer_s"] > 0 and r["ratio"] == r["ours_s"] / r["peer_s"], r
    assert "Whole commands, each in a fresh process" in table and "<= 1.5x Pillow read + write" in table


def test_run_bench_with_peers_on_a_small_photo(tiny_models):
    result = B.run_bench(
        {"sr": str(tiny_models["sr"])}, quick=True, memory_megapixels=(), photo_size=(64, 48), whole_commands=False
    )
    _check_result(result, ["sr"], with_peers=True, with_memory=False)
    assert all(p["s_per_mp"] is None or p["s_per_mp"] > 0 for p in result["peers"])
    md = bench_report.markdown(result)
    assert "CBM3D" in md and "bicubic x2" in md


def test_bench_rejects_a_bad_model_option(capsys):
    assert main(["bench", "--quick", "--model", "blur=x.safetensors"]) == 2
    assert "--model expects TASK=MODEL" in capsys.readouterr().err


def test_random_models_are_the_shipped_architecture(tmp_path):
    models = bench_inputs.random_models(tmp_path, depths=(20,), width=8)
    d = models[0].loaded.descriptor
    assert (d.depth, d.width, d.task, d.cond) == (20, 8, "denoise", "sigma") and models[0].source == "random-init"
    assert models[0].path.is_file()

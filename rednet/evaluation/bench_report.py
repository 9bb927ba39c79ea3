"""`rednet bench`'s figures against its targets, as a Markdown table and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


# --- targets ---------------------------------------------------------------------------------------
def targets(result: dict) -> list[dict]:
    """The issue's targets, checked against this run's figures."""
    out = []
    cbm3d = next((p["s_per_mp"] for p in result["peers"] if p["peer"] == "CBM3D" and p["s_per_mp"]), None)
    for m in result["models"]:
        cpu_restore = next((r for r in m["restore"] if r["device"] == "cpu"), None)
        if m["task"] == "denoise" and cbm3d and cpu_restore:
            ratio = cpu_restore["s_per_mp"] / cbm3d
            out.append(
                {
                    "target": f"{m['name']}: denoise time <= 1/10 of CBM3D's",
                    "value": ratio,
                    "shown": f"{ratio:.3f} of CBM3D",
                    "met": ratio <= 0.1,
                }
            )
        best = max((r for r in m["runs"] if r["device"] == "cpu"), key=lambda r: r["gflops"], default=None)
        if best and m["width"] >= 32:  # narrower nets are not compute-bound: no peak to speak of
            out.append(
                {
                    "target": f"{m['name']}: conv stack >= 70% of matmul peak ({best['precision']})",
                    "value": best["peak_ratio"],
                    "shown": f"{best['peak_ratio'] * 100:.0f}%",
                    "met": best["peak_ratio"] >= 0.7,
                }
            )
        for probe in m["memory"]:
            limit = {12: 1536, 24: 2048}.get(int(round(probe["megapixels"])))
            if limit and m["task"] == "denoise" and probe["device"] == "cpu" and probe["peak_rss_mb"]:
                out.append(
                    {
                        "target": f"{m['name']}: {probe['megapixels']:.0f} MP denoise peak RSS < {limit} MB",
                        "value": probe["peak_rss_mb"],
                        "shown": f"{probe['peak_rss_mb']:.0f} MB",
                        "met": probe["peak_rss_mb"] < limit,
                    }
                )
            if m["task"] == "inpaint" and int(round(probe["megapixels"])) == 12:
                out.append(
                    {
                        "target": f"{m['name']}: 12 MP inpaint (small mask), whole command < 5 s",
                        "value": probe["wall_s"],
                        "shown": f"{probe['wall_s']:.1f} s",
                        "met": probe["wall_s"] < 5 and probe["rc"] == 0,
                    }
                )
    for row in (result.get("whole_commands") or {}).get("rows", []):
        if row["ratio"] is not None:
            out.append(
                {
                    "target": f"{row['name']} <= {row['limit']:g}x {row['peer']}",
                    "value": row["ratio"],
                    "shown": f"{row['ratio']:.2f}x ({row['ours_s']:.2f} s / {row['peer_s']:.2f} s)",
                    "met": row["met"],
                }
            )
    for s in result["startup"]:
        if s["startup_s"] is not None:
            out.append(
                {
                    "target": "rednet restore start-up (process start to first tile) < 2 s",
                    "value": s["startup_s"],
                    "shown": f"{s['startup_s']:.2f} s",
                    "met": s["startup_s"] < 2,
                }
            )
    return out


# --- output --------------------------------------------------------------------------------------
def _f(value, fmt: str = "{:.2f}", none: str = "—") -> str:
    return none if value is None else fmt.format(value)


def markdown(result: dict) -> str:
    m, photo = result["machine"], result["photo"]
    lines = [
        f"Machine: {m['cpu']}, {m['logical_cores']} logical / {m['physical_cores']} physical cores, "
        f"{m['torch_threads']} torch threads, native bf16: {'yes' if m['fast_bf16'] else 'no'}, "
        f"CUDA: {m['cuda'] or 'none'}; torch {m['torch']}. Load average before/after: "
        f"{_f((m['load_before'] or [None])[0])} / {_f((m['load_after'] or [None])[0])}"
        + (" — **the machine was busy with other work: absolute times are pessimistic**" if m.get("busy") else "")
        + ".",
        f"Photo: {photo['width']}x{photo['height']} ({photo['megapixels']:.2f} MP, {photo['source']}).",
        "",
        "| model | task | source | FLOP/pixel | device | precision | tile | s/MP | GFLOP/s | matmul peak | of peak "
        "| single conv | of conv |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["models"]:
        for r in row["runs"]:
            lines.append(
                f"| {row['name']} (RED{row['depth']}-{row['width']}) | {row['task']} | {row['source']} | "
                f"{row['flops_per_pixel'] / 1e6:.2f} M | {r['device']} | {r['precision']} | {r['tile']} | "
                f"{r['s_per_mp']:.2f} | {r['gflops']:.0f} | {r['peak_gflops']:.0f} | {r['peak_ratio'] * 100:.0f}% | "
                f"{r['conv_gflops']:.0f} | {r['conv_ratio'] * 100:.0f}% |"
            )
    lines += [
        "",
        "| model | restore() s/MP (default precision) | bf16 vs fp32: PSNR to clean (dB) | bf16 cost "
        "| bf16 vs fp32 output |",
        "|---|---|---|---|---|",
    ]
    for row in result["models"]:
        restores = ", ".join(f"{r['device']} {r['precision']}: {r['s_per_mp']:.2f}" for r in row["restore"])
        p = row["bf16_psnr"]
        note = "" if row["trained"] else " (random weights)"
        if p:
            lines.append(
                f"| {row['name']}{note} | {restores} | {p['fp32_db']:.2f} / {p['bf16_db']:.2f} | "
                f"{p['cost_db']:+.3f} dB | {p['bf16_vs_fp32_db']:.1f} dB |"
            )
        else:
            lines.append(f"| {row['name']}{note} | {restores} | — | — | — |")
    if result["peers"]:
        lines += ["", "| peer (same photo) | task | s/MP |", "|---|---|---|"]
        for p in result["peers"]:
            note = f" — {p['note']}" if p.get("note") else ""
            lines.append(f"| {p['peer']} | {p['task']} | {_f(p['s_per_mp'])}{note} |")
    probes = [(row, p) for row in result["models"] for p in row["memory"]]
    if probes or result["startup"]:
        lines += [
            "",
            "`rednet restore` in a fresh process (synthetic noisy photo, PNG in and out):",
            "",
            "| model | task | photo | device | peak RSS | CUDA max allocated | wall | start-up to first tile | exit |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row, p in probes:
            lines.append(
                f"| {row['name']} | {row['task']} | {p['megapixels']:.2f} MP | {p['device']} | "
                f"{_f(p['peak_rss_mb'], '{:.0f} MB')} | {_f(p['cuda_max_allocated_mb'], '{:.0f} MB')} | "
                f"{p['wall_s']:.1f} s | {_f(p['startup_s'], '{:.2f} s')} | {p['rc']} |"
            )
        for s in result["startup"]:
            lines.append(
                f"| {s['model']} | (start-up only) | {s['megapixels']:.2f} MP | — | — | — | — | "
                f"{_f(s['startup_s'], '{:.2f} s')} | stopped |"
            )
    commands = result.get("whole_commands")
    if commands:
        lines += [
            "",
            "Whole commands, each in a fresh process (fastest of the runs), against what a user would "
            f"otherwise run ({commands['photos']['source']}):",
            "",
            "| command | ours | against | theirs | ratio | target |",
            "|---|---|---|---|---|---|",
        ]
        for row in commands["rows"]:
            note = f" — {row['note']}" if row.get("note") else ""
            lines.append(
                f"| {row['name']} | {_f(row['ours_s'], '{:.2f} s')} | {row['peer']} | "
                f"{_f(row['peer_s'], '{:.2f} s')} | {_f(row['ratio'], '{:.2f}x')}{note} | <= {row['limit']:g}x |"
            )
    if result["targets"]:
        lines += ["", "| target | this run | met |", "|---|---|---|"]
        for t in result["targets"]:
            lines.append(f"| {t['target']} | {t['shown']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def write_json(result: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(result, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

"""`rednet eval`'s summaries as Markdown tables (README, model cards)."""

from __future__ import annotations

import math

from rednet.evaluation.peers import bm3d_peer, ffdnet_peer, nlm_peer, opencv_inpaint_peer  # noqa: F401 (bench imports them here)


# --- the Markdown tables -------------------------------------------------------------------------
def _f(value, spec: str) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def _db(value) -> str:
    text = _f(value, "+.2f")
    return text if text == "–" else f"{text} dB"


def markdown_table(summaries: list[dict]) -> str:
    """Per task: the peers table (each setting: ours, then every peer and our gain over it), then the
    self-ensemble and noise-estimate tables when the summaries have them."""
    lines = []
    cached_any = False
    for task in dict.fromkeys(s["task"] for s in summaries):
        mine = [s for s in summaries if s["task"] == task]
        lines += [
            f"### {task}",
            "",
            "| setting | photos | input PSNR | ours PSNR / SSIM | ours s/MP | peer | peer PSNR / SSIM | gain "
            "| peer s/MP |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        previous = None
        for s in (s for s in mine if s.get("kind", "peer") == "peer"):
            first = s["setting"] != previous
            previous = s["setting"]
            ours = (
                f"{s['setting']} | {s['photos']} | {_f(s['input_psnr'], '.2f')} | "
                f"{_f(s['ours_psnr'], '.2f')} / {_f(s['ours_ssim'], '.4f')} | {_f(s['ours_s_per_mp'], '.2f')}"
                if first
                else " | | | |"
            )
            mark = "†" if s.get("peer_cached") else ""
            cached_any |= bool(mark)
            gain = _db(s["gain_db"])
            lines.append(
                f"| {ours} | {s['peer']} | {_f(s['peer_psnr'], '.2f')} / {_f(s['peer_ssim'], '.4f')} | "
                f"{gain} | {_f(s['peer_s_per_mp'], '.2f')}{mark} |"
            )
        ens = [s for s in mine if s.get("kind") == "ensemble"]
        if ens:
            lines += [
                "",
                "Self-ensemble (`restore(..., ensemble=True)`) against the plain run:",
                "",
                "| setting | photos | plain PSNR / SSIM | ensemble PSNR / SSIM | gain | plain s/MP | ensemble s/MP "
                "| time |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for s in ens:
                lines.append(
                    f"| {s['setting']} | {s['photos']} | {_f(s['ours_psnr'], '.2f')} / {_f(s['ours_ssim'], '.4f')} | "
                    f"{_f(s['ensemble_psnr'], '.2f')} / {_f(s['ensemble_ssim'], '.4f')} | "
                    f"{_db(s['ensemble_gain_db'])} | {_f(s['ours_s_per_mp'], '.2f')} | "
                    f"{_f(s['ensemble_s_per_mp'], '.2f')} | x{_f(s['ensemble_time_x'], '.1f')} |"
                )
        noise = [s for s in mine if s.get("kind") == "noise_estimate"]
        if noise:
            lines += [
                "",
                "Noise estimate (`estimate_sigma` on the noisy inputs) against the true sigma:",
                "",
                "| setting | photos | true sigma | mean estimate | mean abs error | max abs error |",
                "|---|---|---|---|---|---|",
            ]
            for s in noise:
                lines.append(
                    f"| {s['setting']} | {s['photos']} | {s['sigma']:g} | {_f(s['estimate_mean'], '.2f')} | "
                    f"{_f(s['mean_abs_error'], '.2f')} | {_f(s['max_abs_error'], '.2f')} |"
                )
        lines.append("")
    if cached_any:
        lines += [
            "† peer figures from the eval cache: seconds as measured when they were cached "
            "(`rednet eval --no-cache` measures again).",
            "",
        ]
    return "\n".join(lines)

"""The peer-score cache: a peer's scores on one case, keyed by a hash of everything that decides
them (its inputs, settings and code), so that evaluating after a stretch of training costs only our
own model's time."""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
from functools import cache
from pathlib import Path

import numpy as np

from rednet.evaluation import peers as P
from rednet.evaluation.peers import bm3d_peer, ffdnet_peer, nlm_peer, opencv_inpaint_peer  # noqa: F401 (bench imports them here)
from rednet.evaluation.protocol import Case, Peer

CACHE_VERSION = 1  # bump when what a cache entry means changes


# --- the peer-score cache ------------------------------------------------------------------------
def eval_cache_dir() -> Path:
    """$REDNET_EVAL_CACHE, else `eval/` in the user cache folder."""
    override = os.environ.get("REDNET_EVAL_CACHE")
    if override:
        return Path(override)
    from rednet.paths import user_cache_dir

    return user_cache_dir() / "eval"


@cache
def _code_fingerprint() -> str:
    """The peers' and the metrics' code, as syntax trees: editing what they compute invalidates the
    cache, reformatting or commenting them does not. (Degradations need no fingerprint: the key hashes
    the degraded inputs themselves.)"""
    from rednet.evaluation import metrics

    h = hashlib.sha256()
    for module in (P, metrics):
        try:
            h.update(ast.dump(ast.parse(Path(module.__file__).read_text(encoding="utf-8"))).encode())
        except (OSError, TypeError, SyntaxError):  # a frozen bundle without sources
            h.update(module.__name__.encode())
    return h.hexdigest()


def cache_key(peer: Peer, case: Case) -> str:
    h = hashlib.sha256()
    h.update(
        json.dumps(
            {
                "version": CACHE_VERSION,
                "code": _code_fingerprint(),
                "peer": peer.name,
                "settings": peer.settings,
                "border": case.border,
                "luma": case.luma,
            },
            sort_keys=True,
        ).encode()
    )
    for label, value in [("clean", case.clean), ("degraded", case.degraded), *sorted(case.extra.items())]:
        h.update(label.encode() + b"\0")
        if isinstance(value, (bytes, bytearray)):
            h.update(b"bytes\0" + bytes(value))
        else:
            a = np.ascontiguousarray(value)
            h.update(f"{a.dtype.str}{a.shape}\0".encode() + a.tobytes())
    return h.hexdigest()


_SCORE_FIELDS = ("psnr", "ssim", "seconds", "input_psnr")


def _read_cached(path: Path, key: str) -> dict | None:
    """The cached scores, or None when absent, unreadable, corrupt or for another key."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    scores = {f: entry.get(f) for f in _SCORE_FIELDS}
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v) for v in scores.values()):
        return None
    return {f: float(v) for f, v in scores.items()}


def _write_cached(path: Path, key: str, peer: Peer, scores: dict) -> None:
    from rednet.io.atomic import atomic_write_text

    try:
        atomic_write_text(
            path, json.dumps({"key": key, "peer": peer.name, "settings": peer.settings, **scores}, indent=1) + "\n"
        )
    except OSError:  # a read-only or full cache folder only costs the next run time
        pass


def peer_scores(peer: Peer, case: Case, cache_dir: Path | None) -> tuple[dict, bool]:
    """(psnr, ssim, seconds, input_psnr) of `peer` on `case`, and whether they came from the cache."""
    key = path = None
    if cache_dir is not None:
        key = cache_key(peer, case)
        path = cache_dir / f"{key}.json"
        cached = _read_cached(path, key)
        if cached is not None:
            return cached, True
    out, seconds = peer.run(case)
    p, s = case.score(out)
    scores = {"psnr": p, "ssim": s, "seconds": float(seconds), "input_psnr": case.input_psnr()}
    if path is not None:
        _write_cached(path, key, peer, scores)
    return scores, False

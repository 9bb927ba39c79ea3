#!/usr/bin/env bash
# Build the RED-Net Studio desktop bundle, then check it:
#   1. pyinstaller build.spec -> dist/rednet-studio/ (rednet-studio + rednet, one shared _internal/)
#   2. the bundle's own self-test, offscreen (rednet-studio --selftest): every task on a sample
#   3. its size, the biggest parts, and that OpenCV brought no Qt of its own
#   4. start-up times: to `--version`, and to the self-test's window shown
#
# Usage: scripts/build_bundle.sh [--no-build]     (--no-build: check an existing dist/rednet-studio/)
# Environment: PYTHON (default .venv/bin/python, else python3) must have PyInstaller
# (pip install -e '.[bundle]'). If rednet_resources/weights/ lacks a task's model, the self-test runs
# against tiny untrained models written with $PYTHON (REDNET_RESOURCES), and says so: the bundle
# itself ships whatever rednet_resources/weights/ held at build time.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
BUNDLE=dist/rednet-studio
TASKS=(denoise sr jpeg inpaint)

if [ "${1:-}" != "--no-build" ]; then
    if ! "$PYTHON" -m PyInstaller --version >/dev/null 2>&1; then
        echo "build_bundle: PyInstaller is not installed for $PYTHON: pip install -e '.[bundle]'" >&2
        exit 2
    fi
    echo "== building $BUNDLE with PyInstaller $("$PYTHON" -m PyInstaller --version)"
    start=$(date +%s)
    "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN build.spec
    echo "built in $(( $(date +%s) - start )) s"
fi
[ -x "$BUNDLE/rednet-studio" ] && [ -x "$BUNDLE/rednet" ] || { echo "build_bundle: no bundle in $BUNDLE" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Keep the checks away from the user's settings and models.
export XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}

# ------------------------------------------------------------------ which models the self-test uses
shipped="$BUNDLE/_internal/resources"
missing=()
for t in "${TASKS[@]}"; do [ -f "$shipped/weights/$t.safetensors" ] || missing+=("$t"); done
if [ "${#missing[@]}" -gt 0 ] && [ -z "${REDNET_RESOURCES:-}" ]; then
    echo
    echo "NOTE: the bundle ships no model for: ${missing[*]} (rednet_resources/weights/ at build time)."
    echo "      The self-test runs against tiny untrained models for those instead"
    echo "      (REDNET_RESOURCES=$scratch/resources); rebuild once the shipped weights are in"
    echo "      rednet_resources/weights/ to test the real ones."
    mkdir -p "$scratch/resources/weights"
    cp -R "$shipped/samples" "$shipped/icons" "$scratch/resources/"
    cp "$shipped"/weights/* "$scratch/resources/weights/" 2>/dev/null || true
    # Untrained (random) depth-4 RED-Nets: a freshly trained model starts as the identity, which the
    # self-test rightly rejects as "unchanged".
    "$PYTHON" - "$scratch/resources/weights" "${missing[@]}" <<'PY'
import sys

import torch

from rednet.models.registry import build_network, descriptor_for_task, save_model

from rednet.tasks import TASKS

folder, tasks = sys.argv[1], sys.argv[2:]
for task in tasks:
    torch.manual_seed(TASKS.index(task))
    d = descriptor_for_task(task, depth=4, width=8)
    save_model(build_network(d), d, f"{folder}/{task}.safetensors", card={"summary": f"tiny untrained {task} model"})
PY
    export REDNET_RESOURCES="$scratch/resources"
fi

# ------------------------------------------------------------------ self-test
echo
echo "== $BUNDLE/rednet-studio --selftest"
set +e
"$BUNDLE/rednet-studio" --selftest 2>"$scratch/selftest.err" | tee "$scratch/selftest.out"
selftest=${PIPESTATUS[0]}
set -e
if [ "$selftest" -ne 0 ]; then
    echo "build_bundle: the self-test FAILED (exit $selftest); its stderr:" >&2
    tail -n 40 "$scratch/selftest.err" >&2
fi
echo
echo "== $BUNDLE/rednet models"
"$BUNDLE/rednet" models

# ------------------------------------------------------------------ size
echo
echo "== size"
du -sh "$BUNDLE"
echo "biggest parts of $BUNDLE/_internal:"
du -sh "$BUNDLE"/_internal/* | sort -h | tail -n 12
cv2_qt=$(find "$BUNDLE" -path '*cv2*' \( -iname '*qt*' -o -path '*/plugins/*' \) | head -n 5)
# Real files only: PyInstaller links libraries into _internal/ with symlinks.
qtcore=$(find "$BUNDLE" -type f \( -name 'libQt*Core*' -o -name 'Qt*Core*.dll' \) | wc -l)
if [ -n "$cv2_qt" ] || [ "$qtcore" -gt 1 ]; then
    echo "build_bundle: a second Qt is in the bundle (OpenCV's?):" >&2
    echo "$cv2_qt" >&2
    selftest=1
else
    echo "Qt: one copy (PySide6); OpenCV brought no Qt plugins"
fi

# ------------------------------------------------------------------ start-up times
best_of_3() {  # the fastest of three runs of a command, in seconds (warm file cache)
    local best="" t0 t1 t
    for _ in 1 2 3; do
        t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
        t=$(( (t1 - t0) / 1000000 ))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    printf '%d.%03d s' $((best / 1000)) $((best % 1000))
}
echo
echo "== start-up"
echo "rednet-studio --version: $(best_of_3 "$BUNDLE/rednet-studio" --version)"
echo "rednet --version:        $(best_of_3 "$BUNDLE/rednet" --version)"
shown=$(sed -n 's/^PASS window .* shown in \([0-9.]* s\).*/\1/p' "$scratch/selftest.out")
echo "window shown (self-test): ${shown:-unknown}"

echo
if [ "$selftest" -eq 0 ]; then
    echo "build_bundle: OK — $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
else
    echo "build_bundle: FAILED" >&2
fi
exit "$selftest"

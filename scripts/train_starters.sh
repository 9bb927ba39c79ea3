#!/usr/bin/env bash
# Train the four shipped starter models on this machine's CPU, then measure them with `rednet eval`
# and write the tables into their model cards.
#   bash scripts/train_starters.sh [MINUTES_PER_TASK] [DEPTH] [WIDTH]
# Needs the training set: .venv/bin/python scripts/make_training_set.py
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-12}
depth=${2:-20}
width=${3:-32}
mkdir -p runs rednet_resources/weights
for task in denoise sr jpeg inpaint; do
  .venv/bin/rednet train --task "$task" --data data/train -o "runs/$task.safetensors" \
      --depth "$depth" --width "$width" --iters 1000000 --minutes "$minutes" --batch 32 --patch 48 \
      --lr 1e-3 --seed 0 2>&1 | tee "runs/train-$task.log"
  cp "runs/$task.safetensors" "rednet_resources/weights/$task.safetensors"
  cp "runs/$task.card.json" "rednet_resources/weights/$task.card.json"
done
.venv/bin/rednet eval --update-cards --json runs/eval.json | tee runs/eval.md

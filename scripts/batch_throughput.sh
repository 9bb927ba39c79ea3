#!/usr/bin/env bash
# Files per minute of `rednet batch` on 1-megapixel photos (1155x866, noisy at sigma 25), on this machine.
#   bash scripts/batch_throughput.sh [N_FILES] [TASK]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-8}
task=${2:-denoise}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python - "$work/in" "$n" <<'PY'
import sys
from pathlib import Path
import numpy as np
from PIL import Image
from rednet.tasks.degradations import add_gaussian_noise, bicubic_resize, to_uint8
from rednet.paths import samples_dir
out, n = Path(sys.argv[1]), int(sys.argv[2])
out.mkdir(parents=True)
base = np.asarray(Image.open(samples_dir() / "small.png"), dtype=np.float32) / 255
big = bicubic_resize(base, (1155, 866))
for i in range(n):
    Image.fromarray(to_uint8(add_gaussian_noise(big, 25, np.random.default_rng(i)))).save(out / f"photo{i:03d}.png")
PY
start=$(date +%s.%N)
.venv/bin/rednet batch "$work/in" -o "$work/out" --task "$task" --sigma 25
end=$(date +%s.%N)
.venv/bin/python -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); n=int(sys.argv[3]); print(f'{n} files of 1.0 MP in {s:.1f} s: {60*n/s:.1f} files per minute ({sys.argv[4]}, {__import__(\"os\").cpu_count()} cores)')" "$start" "$end" "$n" "$task"

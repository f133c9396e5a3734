#!/usr/bin/env bash
# The checks that need a GPU, for a lent GPU machine whose python3 already has torch (issue 12):
#  1. the CUDA tests: generation, inversion and a bf16 training step on CUDA, one-process NCCL
#     DDP through torchrun, sharded inversion through NCCL;
#  2. the paper preset (256 px RGB, config-F channels, batch 16) for a few thousand images on
#     synthetic data, k = 1 and k = 512, fp32 and bf16: seconds per thousand images (s/kimg).
# Packages the machine lacks (lpips) and the LPIPS backbones may be given in $EXTRA_SITE and
# $TORCH_HOME (the machine reaches no network).
set -uo pipefail
export PYTHONPATH=$PWD${EXTRA_SITE:+:$EXTRA_SITE} TQDM_DISABLE=1 PYTHONUNBUFFERED=1
IMAGES=${IMAGES:-2048}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0], torch.cuda.get_device_name())"

echo "== CUDA tests"
python3 -m pytest -q -p no:cacheprovider -k "cuda or nccl" tests/test_networks.py tests/test_train.py tests/test_sharded.py

echo "== paper preset, $IMAGES images per run on synthetic 256-px RGB images"
python3 - <<'PY'
import numpy as np
from pathlib import Path
from PIL import Image
folder = Path("/tmp/synthetic"); folder.mkdir(exist_ok=True)
rng = np.random.default_rng(0)
for i in range(256):  # smooth random colour fields: images a data loader and a model take as real ones
    low = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(low).resize((256, 256), Image.BICUBIC).save(folder / f"{i:03d}.png")
PY
for k in 1 512; do
  for precision in no-mixed-precision mixed-precision; do
    out=/tmp/paper-k$k-$precision
    start=$(date +%s.%N)
    timeout 240 python3 -m opgan train --preset paper --k "$k" --data /tmp/synthetic --total-images "$IMAGES" \
      --log-every 512 --checkpoint-every 0 --sample-every 0 --"$precision" --out "$out" >"$out.log" 2>&1 \
      || { echo "k=$k $precision failed:"; tail -5 "$out.log"; continue; }
    python3 - "$out" "$k" "$precision" "$start" <<'PY'
import json, sys, time
out, k, precision, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
log = [json.loads(line) for line in open(f"{out}/log.jsonl")]
steady = log[-1]["img_per_s"]  # the last window: cuDNN autotuning and warm-up are behind it
print(f"k={k:>3} {precision:<19} last window {steady:7.1f} img/s = {1000 / steady:6.2f} s/kimg; "
      f"whole run {log[-1]['images_seen']} images, {time.time() - start:.0f} s with start-up")
PY
  done
done

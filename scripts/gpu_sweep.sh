#!/usr/bin/env bash
# The cpu sweep trained side by side on one GPU (every run at once), for a lent GPU machine whose
# python3 already has torch: Fashion-MNIST's IDX files in $OPGAN_FASHION_MNIST, results packed
# into $OUT (finished runs without their full checkpoint, unfinished ones with it, to resume).
set -uo pipefail
export PYTHONPATH=$PWD PYTHON=python3 RUNS=/tmp/sweep PARALLEL=${PARALLEL:-9} THREADS=1 LIMIT=${LIMIT:-420}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0], torch.cuda.get_device_name())"
# MPS lets the small kernels of several processes run at once; without it they take turns.
if nvidia-cuda-mps-control -d 2>/dev/null && python3 -c "import torch; torch.ones(1, device='cuda').sum().item()"; then
  echo "MPS on"
else
  echo quit | nvidia-cuda-mps-control 2>/dev/null; echo "MPS off"
fi
start=$(date +%s)
scripts/train_sweep.sh "$@"
echo "sweep: $(( $(date +%s) - start )) s"
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
for run in "$RUNS"/*/; do
  name=$(basename "$run"); tail -n 1 "$run/log.jsonl" 2>/dev/null | cut -c1-160 | sed "s/^/$name: /"
  [ -f "$run/generator.pt" ] && rm -f "$run/checkpoint.pt"
  rm -f "$run"/samples-0*.png
done
echo quit | nvidia-cuda-mps-control 2>/dev/null
tar -C "$RUNS" -cf - . | split -b 15M - "$OUT/sweep.tar."
ls -la "$OUT"

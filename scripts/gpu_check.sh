#!/usr/bin/env bash
# The checks that need a GPU, for a lent GPU machine whose python3 already has torch (issue 12):
#  1. the CUDA tests: generation, inversion and a bf16 training step on CUDA, one-process NCCL
#     DDP through torchrun, sharded inversion through NCCL;
#  2. the paper preset (256 px RGB, config-F channels, batch 16) on synthetic images, k = 1 and
#     k = 512, fp32 and bf16: time of every step and the steady state in s/kimg.
# Packages the machine lacks (lpips) and the LPIPS backbones may be given in $EXTRA_SITE and
# $TORCH_HOME (the machine reaches no network).
set -uo pipefail
export PYTHONPATH=$PWD${EXTRA_SITE:+:$EXTRA_SITE} TQDM_DISABLE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0], torch.cuda.get_device_name())"

echo "== CUDA tests"
python3 -m pytest -q -p no:cacheprovider -k "cuda or nccl" tests/test_networks.py tests/test_train.py tests/test_sharded.py

echo "== paper preset: seconds per step, k = 1 and k = 512, fp32 and bf16 (synthetic 256-px images)"
# Per-step times, so that cuDNN's autotuning in the first step is told apart from the steady state.
timeout "${STEPS_TIMEOUT:-420}" python3 benchmarks/bench_train_steps.py --preset paper --k 1 512 --paths default \
  --precisions fp32 bf16 --steps "${STEPS:-12}"

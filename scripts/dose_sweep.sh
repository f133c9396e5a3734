#!/usr/bin/env bash
# The dose-response trainings (opgan.study.registry.DOSE_MODELS): k = 1 and k = 64, seeds 0-2, trained to
# 450k images with the generator exported at 150k and 300k on the way, and k = 64 at k = 1's R1 weight.
#
#   scripts/dose_sweep.sh              train what is missing (two runs at a time, one thread each), resumably
#   scripts/dose_sweep.sh --export RUN export a finished run's generators into checkpoints/, drop its folder
#
# Unfinished runs live in checkpoints/unfinished/RUN/ (full training state, ~6 MB, meant to be
# committed), so a run resumes on any machine; a finished run is exported (provenance, FD-VGG16, log,
# samples) and its folder removed. On a GPU, RUNS=/tmp/dose scripts/gpu_sweep.sh NAMES trains them at once.
set -euo pipefail
export PYTHON=${PYTHON:-.venv/bin/python} RUNS=${RUNS:-checkpoints/unfinished}

if [ "${1:-}" = "--export" ]; then
  run=$2
  read -r -a models <<< "$("$PYTHON" -c "
from opgan.study.registry import DOSE_MODELS
print(' '.join(f'{s.name}:{s.run_file}' for s in DOSE_MODELS if s.run.name == '$run'))")"
  for entry in "${models[@]}"; do
    name=${entry%%:*} file=${entry#*:}
    "$PYTHON" -m opgan export --checkpoint "$RUNS/$run/$file" --out "checkpoints/$name.pt" --fd-images 1000
  done
  cp "$RUNS/$run/samples-latest.png" "checkpoints/${models[-1]%%:*}-samples.png"
  rm -rf "${RUNS:?}/$run" "$RUNS/$run.out"
  exit 0
fi

read -r -a names <<< "$("$PYTHON" -c "from opgan.study.registry import dose_runs; print(' '.join(dose_runs('cpu')))")"
todo=()
for name in "${names[@]}"; do
  # exported and folder removed: finished before
  if [ -f "checkpoints/$name.pt" ] && [ ! -d "$RUNS/$name" ]; then continue; fi
  todo+=("$name")
done
echo "dose-response runs to train: ${todo[*]:-none}"
[ ${#todo[@]} -eq 0 ] || ON_FINISH="$0 --export" PARALLEL=${PARALLEL:-2} THREADS=${THREADS:-1} scripts/train_sweep.sh "${todo[@]}"

#!/usr/bin/env bash
# make reproduce: retrain every model of the cpu sweep from scratch with the project's own commands,
# export them into checkpoints/ (with provenance and training logs), then rebuild the book.
# Resumable: rerun after an interruption and each training continues from its checkpoint.
set -euo pipefail
OPGAN=${OPGAN:-.venv/bin/opgan}
RUNS=${RUNS:-runs/reproduce}
THREADS=${THREADS:-2}
train() {  # name, then options for opgan train
  local name=$1; shift
  if [ -f "$RUNS/$name/checkpoint.pt" ]; then
    "$OPGAN" train --out "$RUNS/$name" --resume
  else
    "$OPGAN" train --preset cpu --threads "$THREADS" --out "$RUNS/$name" "$@"
  fi
  "$OPGAN" export --checkpoint "$RUNS/$name/checkpoint.pt" --out "checkpoints/$name.pt" --fd-images 1000
}
start=$(date +%s)
for k in 1 4 16 64; do
  train "cpu-k$k" --k "$k"
done
train cpu-k64-affine1 --k 64 --affine-lr-mul 1.0
"$OPGAN" book --scale cpu
echo "make reproduce took $(( $(date +%s) - start )) s"

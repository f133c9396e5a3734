#!/usr/bin/env bash
# Train the models of the cpu sweep (opgan.study.registry) side by side, resumably.
#
#   scripts/train_sweep.sh [NAME ...]          default: every model of the sweep
#
# Environment: RUNS (run folders, default runs/sweep), PARALLEL (runs at once, default 2),
# THREADS (torch threads per run, default 1), LIMIT (seconds; when > 0 every run is sent SIGTERM
# then, writes its checkpoint and stops: run the script again to continue), PYTHON.
# ON_FINISH: a command run with the run's name after it finishes (e.g. its export).
# A run whose folder holds generator.pt is finished and skipped; one with checkpoint.pt resumes.
set -euo pipefail
export PYTHON=${PYTHON:-.venv/bin/python} RUNS=${RUNS:-runs/sweep} THREADS=${THREADS:-1} LIMIT=${LIMIT:-0} ON_FINISH=${ON_FINISH:-}
PARALLEL=${PARALLEL:-2}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  read -r -a names <<< "$("$PYTHON" -c "from opgan.study.registry import sweep_names; print(' '.join(sweep_names('cpu')))")"
fi
mkdir -p "$RUNS"

train_one() {
  local name=$1 out="$RUNS/$1"
  [ -f "$out/generator.pt" ] && { echo "$name: finished before"; return 0; }
  local command=("$PYTHON" -m opgan train --out "$out" --threads "$THREADS")
  if [ -f "$out/checkpoint.pt" ]; then command+=(--resume); else command+=(--preset cpu --model "$name"); fi
  [ "$LIMIT" -gt 0 ] && command=(timeout -k 60 -s TERM "$LIMIT" "${command[@]}")
  local status=0
  "${command[@]}" > "$RUNS/$name.out" 2>&1 || status=$?
  echo "$name: $(tail -n 1 "$RUNS/$name.out" | tr '\r' '\n' | tail -n 1) (exit $status)"
  if [ "$status" -eq 0 ] && [ -n "$ON_FINISH" ]; then $ON_FINISH "$name"; fi
}
export -f train_one
printf '%s\n' "${names[@]}" | xargs -P "$PARALLEL" -I NAME bash -c 'train_one NAME'

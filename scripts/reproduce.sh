#!/usr/bin/env bash
# make reproduce: retrain every model of the cpu sweep and its recipe ablations from scratch with the
# project's own commands (two runs side by side, one thread each), export them into checkpoints/
# (with provenance and training logs), compute the deciding budget's kept runs again on the new models,
# then rebuild the book.
# Resumable: rerun after an interruption and each training continues from its checkpoint.
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
export PYTHON RUNS=${RUNS:-runs/reproduce} PARALLEL=${PARALLEL:-2} THREADS=${THREADS:-1}
start=$(date +%s)
read -r -a names <<< "$("$PYTHON" -c "from opgan.study.registry import sweep_names; print(' '.join(sweep_names('cpu', ablations=True)))")"
scripts/train_sweep.sh "${names[@]}"
for name in "${names[@]}"; do
  "$PYTHON" -m opgan export --checkpoint "$RUNS/$name/generator.pt" --out "checkpoints/$name.pt" --fd-images 1000
  cp "$RUNS/$name/samples-latest.png" "checkpoints/$name-samples.png"
done
"$PYTHON" scripts/kept_runs.py --recompute-stale
"$PYTHON" -m opgan book --scale cpu
echo "make reproduce took $(( $(date +%s) - start )) s"

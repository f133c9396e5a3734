"""The deciding budget's kept runs: the book's test images inverted with the deciding budget (600
steps at the cpu scale) by k = 1, the largest k and the control (k = 1 given the largest k's rows)
in W and W+ at training seeds 0-7, each run measured -- per-image reconstruction, each
interpolation pair's midpoint realism score and classifier confidence, and for seeds 0-2 the same
at 25/50/75/100% of the steps -- and kept as small files under book/results/kept-runs/ (commit
them; `opgan.study.kept` says what each holds).  The reconstruction page and the interpolation
page decide their claims on these; `make book` recomputes seeds 0-2 itself as a replication check.

A run at a time, resumable: a finished run (its run.json written) is never computed again, an
interrupted one is; a run kept from other code, models or settings is named and left alone unless
--again names it.  At the cpu scale one run is 32 images x 600 steps (19,200 image-steps): 7-10
minutes at one thread with two runs side by side on a 2-core AMD EPYC (AVX2; run the script twice
with disjoint --seeds), so the 48 runs take about 3.5 hours there, minutes on a GPU.

    .venv/bin/python scripts/kept_runs.py                    (every missing run, seeds 0-7)
    .venv/bin/python scripts/kept_runs.py --status           (which runs are kept, stale or missing)
    .venv/bin/python scripts/kept_runs.py --seeds 3 4 --commit
    .venv/bin/python scripts/kept_runs.py --device cuda --cache /tmp/kept
    .venv/bin/python scripts/kept_runs.py --variant images=300000 --seeds 0 1 2   (a dose-response length)
    .venv/bin/python scripts/kept_runs.py --variant recipe=gamma0.01 --sides trained --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import time
from pathlib import Path

from opgan.presets import PRESETS, inversion_config
from opgan.study.claims import reconstruction_comparisons
from opgan.study.kept import KEPT_RUNS, measurer_for, survey, with_snapshots
from opgan.study.sweep import Sweep, SweepInversions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="cpu", choices=sorted(PRESETS))
    parser.add_argument("--checkpoints", default="checkpoints")
    parser.add_argument("--ks", type=int, nargs=2, default=[1, 64], metavar=("K_SMALL", "K_LARGE"))
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)), help="training seeds (default 0-7)")
    parser.add_argument("--snapshot-seeds", type=int, default=3, help="seeds 0..N-1 keep their trajectory (default 3)")
    parser.add_argument("--images", type=int, default=32, help="the book's test images (_config.yml 'images')")
    parser.add_argument("--steps", type=int, default=600, help="the deciding budget (_config.yml 'check_steps')")
    parser.add_argument("--pairs", type=int, default=256, help="interpolation pairs (_config.yml 'pairs')")
    parser.add_argument("--fd-images", type=int, default=1000, help="real reference images (_config.yml 'fd_images')")
    parser.add_argument("--spaces", nargs="+", default=["w", "w+"], choices=["w", "w+"])
    parser.add_argument(
        "--variant",
        nargs="+",
        default=[],
        metavar="FIELD=VALUE",
        help="models of a variant of the sweep (ModelSpec fields): images=150000 (a dose-response length), "
        "recipe=gamma0.01",
    )
    parser.add_argument(
        "--sides",
        choices=["all", "trained"],
        default="all",
        help="all: k = 1, the largest k and the control; trained: the largest k only (e.g. a recipe variant "
        "judged against the base sweep's control)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--cache", default="runs/kept-runs", help="the inversions themselves (this machine only)")
    parser.add_argument("--kept", default=f"book/results/{KEPT_RUNS}", help="the kept runs (commit them)")
    parser.add_argument("--status", action="store_true", help="list kept, stale and missing runs; run nothing")
    parser.add_argument("--again", nargs="+", default=[], metavar="RUN", help="compute these kept runs again")
    parser.add_argument(
        "--recompute-stale", action="store_true", help="compute every stale run again (after retraining the models)"
    )
    parser.add_argument("--commit", action="store_true", help="git-commit each run as it is kept")
    args = parser.parse_args()

    k_small, k_large = args.ks
    variant = {
        field: int(value) if value.isdigit() else value for field, value in (v.split("=", 1) for v in args.variant)
    }
    sweep = Sweep(args.scale, [k_small, k_large], [0, *args.seeds], args.checkpoints, args.device, [variant])
    sweep.require()
    targets = sweep.held_out(args.images, part="test")
    config = dataclasses.replace(inversion_config(args.scale, seed=0), steps=args.steps)
    batch = PRESETS[args.scale]["invert_batch"]
    inversions = with_snapshots(SweepInversions(sweep, targets, config, args.cache, batch, variant))
    measurer = measurer_for(inversions, args.pairs, args.fd_images, 0, args.snapshot_seeds)
    comparisons = reconstruction_comparisons(k_large, args.spaces, control=True)
    sides = sorted({side for c in comparisons for side in (c.baseline, c.candidate)})
    if args.sides == "trained":
        sides = [side for side in sides if side[0] == k_large and not side[2]]
    runs = [(side, seed) for seed in args.seeds for side in sides]

    for side, seed in runs:
        if measurer.name(side, seed) in args.again:
            measurer.forget(side, seed, args.kept)
    found = survey(measurer, runs, args.kept)
    todo = found["missing"] + ([(side, seed) for side, seed, _ in found["stale"]] if args.recompute_stale else [])
    if args.status:
        for state in ("kept", "stale", "missing"):
            for side, seed, *why in found[state]:
                print(
                    f"{state:8}{Path(args.kept) / measurer.name(side, seed)}" + (f"\n        {why[0]}" if why else "")
                )
        print(f"{len(found['kept'])} of {len(runs)} runs kept, {len(found['stale'])} stale, {len(todo)} missing")
        return
    for *_, why in [] if args.recompute_stale else found["stale"]:
        print(f"left alone (name it with --again, or --recompute-stale): {why}")
    print(f"{len(todo)} of {len(runs)} runs to compute ({len(todo) * args.images * args.steps:,} image-steps)")
    for number, (side, seed) in enumerate(todo, 1):
        start = time.perf_counter()
        folder = measurer.keep(side, seed, args.kept)
        print(f"[{number}/{len(todo)}] kept {folder} ({time.perf_counter() - start:.0f} s)", flush=True)
        if args.commit:
            subprocess.run(["git", "add", str(folder)], check=True)
            message = f"kept run {folder.name} ({measurer.steps} steps, seed {seed})"
            subprocess.run(["git", "commit", "-q", "-m", message, "--", str(folder)], check=True)


if __name__ == "__main__":
    main()

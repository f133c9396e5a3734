"""The main job's repeated pieces of work at a reduced size, timed on the code at hand: to compare
two versions of the code back to back on one machine without building the whole book twice.

    git worktree add /tmp/before HEAD~1
    python benchmarks/bench_book.py --label before --code /tmp/before
    python benchmarks/bench_book.py --label after

Each unit is one of the book's repeated pieces, with the cpu scale's settings and models:

- inversions: four 150-step runs of 32 test images (k = 1 in W, k = 64 in W+, the control in W,
  k = 64 seed 1 in W), one after another as page 02 runs them; 02 makes 61 such runs and 18 long
  ones of 16 images x 600 steps;
- sample features: VGG16 features of 1,000 samples of one model and its KID against 1,000
  evaluation images, as page 01 does for each of its 27 models;
- interpolation: page 03's measures (midpoint and reconstruction FD, path smoothness) and midpoint
  scores (realism, classifier confidence) of one model's 32 codes, done for 52 model-space pairs.

The file keeps one entry per label (processor, code version, seconds per unit), so a "before" and
an "after" sit side by side; the ratios are what carries over to other machines.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

INVERSION_RUNS = [
    dict(k=1, space="w", seed=0),
    dict(k=64, space="w+", seed=0),
    dict(k=64, space="w", seed=0, control=True),
    dict(k=64, space="w", seed=1),
]


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True, help="the entry's name, e.g. before / after")
    parser.add_argument("--images", type=int, default=32, help="test images per inversion run")
    parser.add_argument("--steps", type=int, default=150, help="steps per inversion run")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/book_units.json"))
    parser.add_argument("--code", type=Path, help="a checkout whose opgan to time (default: the installed one)")
    args = parser.parse_args(argv)
    from opgan.environment import processor  # this checkout's, whatever --code names

    machine = processor()
    if args.code:  # ahead of the editable install's finder, which would win over sys.path
        sys.meta_path = [finder for finder in sys.meta_path if "__editable__" not in type(finder).__module__]
        sys.path.insert(0, str(args.code.resolve()))
        for name in [name for name in sys.modules if name == "opgan" or name.startswith("opgan.")]:
            del sys.modules[name]  # imported above from this checkout

    import opgan
    from opgan.data import to_float
    from opgan.environment import code_version
    from opgan.files import write_json
    from opgan.metrics import kernel_distance, vgg16_features
    from opgan.presets import PRESETS, inversion_config
    from opgan.results import read_codes
    from opgan.study.classifier import load_classifier
    from opgan.study.midpoints import class_pairs, interpolation_measures, midpoint_items
    from opgan.study.sweep import Sweep, SweepInversions

    sweep = Sweep("cpu", [1, 64], [0, 1], "checkpoints", device="cpu")
    targets = sweep.held_out(args.images, part="test")
    config = dataclasses.replace(inversion_config("cpu"), steps=args.steps)
    seconds = {}
    print(f"{args.label}: opgan from {Path(opgan.__file__).parent}, {torch.get_num_threads()} threads", flush=True)

    with tempfile.TemporaryDirectory() as cache:
        inversions = SweepInversions(sweep, targets, config, cache, PRESETS["cpu"]["invert_batch"])
        seconds["inversions"], _ = timed(lambda: [inversions.folder(**run) for run in INVERSION_RUNS])
        print(f"  {len(INVERSION_RUNS)} inversion runs: {seconds['inversions']:.1f} s", flush=True)
        codes = read_codes(inversions.folder(**INVERSION_RUNS[1]))

    real = vgg16_features(to_float(sweep.held_out(1000, part="evaluation").images))
    model = sweep.model(64)

    def sample_features() -> float:
        return kernel_distance(vgg16_features(model.sample(len(real), seed=123)), real)

    seconds["sample features"], _ = timed(sample_features)
    print(f"  sample features and KID: {seconds['sample features']:.1f} s", flush=True)

    classifier = load_classifier(device="cpu")
    pairs = class_pairs(targets.names, 256, 0)

    def interpolation() -> None:
        interpolation_measures(model, codes, "w+", real, 256, 0)
        midpoint_items(model, codes, "w+", pairs, targets.names, real, classifier, model="k64", k=64, seed=0)

    seconds["interpolation"], _ = timed(interpolation)
    print(f"  interpolation measures and midpoint scores: {seconds['interpolation']:.1f} s", flush=True)

    name, avx512 = machine
    entries = json.loads(args.out.read_text()) if args.out.is_file() else {}
    entries[args.label] = {
        "processor": name,
        "avx512": avx512,
        "threads": torch.get_num_threads(),
        "code_version": code_version(),
        "inversion_runs": f"{len(INVERSION_RUNS)} x {args.images} images x {args.steps} steps",
        "seconds": {unit: round(value, 1) for unit, value in seconds.items()},
    }
    write_json(args.out, entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

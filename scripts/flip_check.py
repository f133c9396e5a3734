"""Do the reconstruction page's verdicts follow its results? A copy of a built book's inversion cache
has every k = 1 run's results swapped with the largest k's (same seed, space and image set: the 150-
step sweep, the long budget and the out-of-domain set), page 02 is executed on that copy through
papermill (`opgan book --only 02_reconstruction`), and every "largest k vs k = 1" claim must come
out mirrored: the improvement and its interval negated, and the verdict the one the rule
(`stats.verdict`) gives the negated interval -- an "agrees" turns "contradicted" when its interval
clears the tolerance. A page that read the wrong side, or decided on results it did not show,
fails here. `make test` runs it on the smoke book.

    python scripts/flip_check.py runs/book-smoke/book --scale smoke
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from opgan.results import read_table
from opgan.stats import Estimate, verdict
from opgan.sweep import project_root


def swap_results(cache: Path, k_max: int) -> int:
    """Swaps results.csv between each k = 1 run folder of `cache` and its largest-k twin (the
    control, k = 1 given k_max rows, keeps its own); returns the number of pairs swapped."""
    pattern = re.compile(r"^(?P<head>.*-k)1(?P<tail>(-seed\d+)?-w\+?)$")
    swapped = 0
    for folder in sorted(cache.iterdir()):
        match = pattern.match(folder.name)
        twin = cache / f"{match['head']}{k_max}{match['tail']}" if match else None
        if twin is None or not (twin / "results.csv").is_file() or not (folder / "results.csv").is_file():
            continue
        parked = folder / "results.csv.swap"
        (folder / "results.csv").rename(parked)
        (twin / "results.csv").rename(folder / "results.csv")
        parked.rename(twin / "results.csv")
        swapped += 1
    return swapped


def mirrored(original: dict, flipped: dict) -> list[str]:
    """What is wrong with `flipped` as the mirror image of `original` (empty when nothing is)."""
    problems = []
    expected = Estimate(-original["improvement"], -original["ci_high"], -original["ci_low"])
    for name, want in (("improvement", expected.value), ("ci_low", expected.low), ("ci_high", expected.high)):
        if not math.isclose(flipped[name], want, rel_tol=1e-6, abs_tol=1e-9):
            problems.append(f"{name} {flipped[name]:.6g}, expected {want:.6g}")
    rule = verdict(expected, original["tolerance"], original["kind"])
    if flipped["verdict"] != rule:
        problems.append(f"verdict {flipped['verdict']!r}, expected {rule!r} (was {original['verdict']!r})")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", type=Path, help="a built book folder with its _cache and results")
    parser.add_argument("--scale", default="smoke", help="the scale it was built at (_config.yml)")
    args = parser.parse_args()

    root = project_root()
    config = yaml.safe_load((root / "_config.yml").read_text())
    k_max = max(config["scales"][args.scale]["parameters"]["ks"])
    text = ("claim", "comparison", "space", "metric", "kind", "verdict", "interval", "note")
    claims_file = Path("results") / "claims-02_reconstruction.csv"
    original = read_table(args.book / claims_file, text=text)
    with tempfile.TemporaryDirectory(prefix="opgan-flip-") as work:
        copy = Path(work) / "book"
        shutil.copytree(args.book / "_cache", copy / "_cache")
        swapped = swap_results(copy / "_cache", k_max)
        print(f"swapped the results of {swapped} k = 1 / k = {k_max} run pairs; executing 02 on them", flush=True)
        subprocess.run(
            [str(Path(sys.executable).with_name("opgan")), "book", "--scale", args.scale, "--out", str(copy)]
            + ["--only", "02_reconstruction", "--no-build"],
            check=True,
            cwd=root,
        )
        flipped = read_table(copy / claims_file, text=text)
    checked, failures = 0, []
    for before, after in zip(original, flipped):
        if before["comparison"] != f"k = {k_max} vs k = 1":
            continue
        checked += 1
        problems = mirrored(before, after)
        name = f"{before['claim']} ({before['space']})"
        print(f"{'FAIL' if problems else 'ok  '} {name}: {before['verdict']} -> {after['verdict']}")
        failures += [f"{name}: {problem}" for problem in problems]
    if len(flipped) != len(original) or not checked or not swapped:
        failures.append(f"{len(original)} claims before, {len(flipped)} after, {checked} mirrored, {swapped} swaps")
    for failure in failures:
        print(f"flip check: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

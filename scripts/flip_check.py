"""Do the pages' verdicts follow their results? A copy of a built book's cache has everything the
pages computed from each k = 1 model swapped with the largest k's (same seed, space and image set):
the inversions' results (page 02: the 150-step sweep, the long budget, the out-of-domain set), the
sample features (01) and the midpoint scores (03).  Pages 01-03 are executed on that copy through
papermill (`opgan book --only ...`), and every "largest k vs k = 1" claim must come out mirrored:
the improvement and its interval negated (a relative one: the ratio of the two sides inverted), and
the verdict the one the rule (`stats.verdict`) gives the mirrored interval -- an "agrees" turns
"contradicted" when its interval clears the tolerance. A page that read the wrong side, or decided
on results it did not show, fails here. `make test` runs it on the smoke book.

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

from opgan.interpolate import MIDPOINT_SCORES
from opgan.results import read_table
from opgan.stats import Estimate, verdict
from opgan.sweep import project_root

# What a page computed from one model, in the cache folders named after that model: swapped.  The
# cache keys stay, so the pages read the swapped values back instead of computing them again.
SWAPPED_FILES = ("results.csv", MIDPOINT_SCORES, "sample-features.pt")
PAGES = ("01_generation", "02_reconstruction", "03_interpolation")


def swap_results(cache: Path, k_max: int) -> int:
    """Swaps the SWAPPED_FILES between each k = 1 folder of `cache` (an inversion or a model's
    samples) and its largest-k twin (the control, k = 1 given k_max rows, keeps its own); returns
    the number of files swapped."""
    pattern = re.compile(r"^(?P<head>.*-k)1(?P<tail>(-seed\d+)?(-w\+?)?)$")
    swapped = 0
    for folder in sorted(cache.iterdir()):
        match = pattern.match(folder.name)
        if match is None:
            continue
        twin = cache / f"{match['head']}{k_max}{match['tail']}"
        for name in SWAPPED_FILES:
            if not (folder / name).is_file() or not (twin / name).is_file():
                continue
            parked = folder / f"{name}.swap"
            (folder / name).rename(parked)
            (twin / name).rename(folder / name)
            parked.rename(twin / name)
            swapped += 1
    return swapped


def expected_mirror(original: dict) -> Estimate:
    """The improvement and interval `original` has with its two sides swapped.  A difference is
    negated.  A relative one is a ratio of the sides' means (candidate / baseline - 1, or 1 - that
    when lower is better) with an interval made on the log of the ratio, so swapping inverts the
    ratio and its interval's ends."""
    value, low, high = original["improvement"], original["ci_low"], original["ci_high"]
    if "(relative)" not in original["metric"]:
        return Estimate(-value, -high, -low)
    ratio = original["candidate_value"] / original["baseline_value"]
    if abs(value - (ratio - 1)) <= abs(value - (1 - ratio)):  # higher is better
        return Estimate(1 / ratio - 1, 1 / (high + 1) - 1, 1 / (low + 1) - 1)
    return Estimate(1 - 1 / ratio, 1 - 1 / (1 - high), 1 - 1 / (1 - low))


def mirrored(original: dict, flipped: dict) -> list[str]:
    """What is wrong with `flipped` as the mirror image of `original` (empty when nothing is)."""
    problems = []
    expected = expected_mirror(original)
    relative = "(relative)" in original["metric"]
    for name, want in (("improvement", expected.value), ("ci_low", expected.low), ("ci_high", expected.high)):
        got = flipped[name]
        if math.isnan(want) and math.isnan(got):
            continue
        # the claims file keeps 6 significant digits: a ratio made of them is good to ~1e-5
        if not math.isclose(got, want, rel_tol=1e-4 if relative else 1e-6, abs_tol=1e-5 if relative else 1e-9):
            problems.append(f"{name} {got:.6g}, expected {want:.6g}")
    if math.isnan(expected.value):
        return problems
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
    claims_files = [Path("results") / f"claims-{page}.csv" for page in PAGES]
    original = {path: read_table(args.book / path, text=text) for path in claims_files}
    with tempfile.TemporaryDirectory(prefix="opgan-flip-") as work:
        copy = Path(work) / "book"
        shutil.copytree(args.book / "_cache", copy / "_cache")
        swapped = swap_results(copy / "_cache", k_max)
        print(f"swapped {swapped} results of k = 1 and k = {k_max}; executing {', '.join(PAGES)} on them", flush=True)
        subprocess.run(
            [str(Path(sys.executable).with_name("opgan")), "book", "--scale", args.scale, "--out", str(copy)]
            + ["--only", *PAGES, "--no-build"],
            check=True,
            cwd=root,
        )
        flipped = {path: read_table(copy / path, text=text) for path in claims_files}
    failures = []
    for path in claims_files:
        checked = 0
        for before, after in zip(original[path], flipped[path]):
            if not before["comparison"].startswith(f"k = {k_max} vs k = 1"):
                continue
            checked += 1
            problems = mirrored(before, after)
            name = f"{before['claim']} ({before['space'] or 'samples'}, {before['comparison']}; {before['metric']})"
            print(f"{'FAIL' if problems else 'ok  '} {name}: {before['verdict']} -> {after['verdict']}")
            failures += [f"{name}: {problem}" for problem in problems]
        if len(flipped[path]) != len(original[path]) or not checked:
            failures.append(
                f"{path}: {len(original[path])} claims before, {len(flipped[path])} after, {checked} mirrored"
            )
    if not swapped:
        failures.append("nothing was swapped")
    for failure in failures:
        print(f"flip check: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

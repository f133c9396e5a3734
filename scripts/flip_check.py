"""Do the pages' verdicts follow their results? A copy of a built book's cache has everything the
pages computed from each k = 1 model swapped with the largest k's (same seed, space and image set):
the inversions' results (page 02: the 150-step sweep, the long budget, the out-of-domain set), the
sample features (01) and the midpoint scores (03).  Pages 01-03 are executed on that copy through
papermill (`opgan book --only ...`), and every "largest k vs k = 1" claim must come out mirrored:
the improvement and its interval negated (a relative one: the ratio of the two sides inverted), and
the verdict the one the rule (`stats.verdict`) gives the mirrored interval -- an "agrees" turns
"contradicted" when its interval clears the tolerance. A page that read the wrong side, or decided
on results it did not show, fails here.  Page 04 is checked the same way with each seed's
regular-rate and reduced-rate models trading files (a copy of its checkpoints, `--set
checkpoints=`): "the reduced rate tames the spectrum" must come out mirrored.  Last, pages 02 and
03 run on a copy with each control inversion (k = 1 given the largest k's rows) trading results with
the trained largest k's: every row of the trained model against the control must come out mirrored.
`make test` runs it on the smoke book.

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
from collections.abc import Callable
from pathlib import Path

from opgan.study.book import load_reproduction, notebook_parameters
from opgan.study.cache import rehash
from opgan.study.claims import claim_of, read_claims
from opgan.study.findings import label
from opgan.study.midpoints import MIDPOINT_SCORES
from opgan.study.stats import NOT_TESTABLE, Estimate, verdict
from opgan.study.sweep import Sweep, project_root

# What a page computed from one model, in the cache folders named after that model: swapped.  The
# cache keys stay (their file hashes rewritten), so the pages read the swapped values back instead
# of computing them again.
SWAPPED_FILES = ("results.csv", MIDPOINT_SCORES, "sample-features.pt")
PAGES = ("01_generation", "02_reconstruction", "03_interpolation")
CONTROL_PAGES = ("02_reconstruction", "03_interpolation")  # the pages that compare the control with the trained
ALL_PARAMETERS = {"scale", "ks", "seeds", "checkpoints", "base_variant", "variant"}  # what page 04's swap reads


def k_twin(name: str, k_max: int) -> str | None:
    """The largest k's folder of a k = 1 folder (inversion or samples; the control has none)."""
    match = re.match(r"^(?P<head>.*-k)1(?P<tail>(-seed\d+)?(-w\+?)?)$", name)
    return None if match is None else f"{match['head']}{k_max}{match['tail']}"


def control_twin(name: str, k_max: int) -> str | None:
    """The trained largest k's inversion of a control inversion (k = 1 given k_max rows)."""
    match = re.match(rf"^(?P<head>.*-k)1(?P<seed>-seed\d+)?-as-k{k_max}(?P<space>-w\+?)$", name)
    return None if match is None else f"{match['head']}{k_max}{match['seed'] or ''}{match['space']}"


def swap_results(cache: Path, k_max: int, twin: Callable[[str, int], str | None] = k_twin) -> int:
    """Swaps the SWAPPED_FILES between each folder of `cache` and its `twin` (default: each k = 1
    folder and its largest-k twin; `control_twin`: each control inversion and the trained model's);
    returns the number of files swapped."""
    swapped = 0
    for folder in sorted(cache.iterdir()):
        name = twin(folder.name, k_max)
        if name is None:
            continue
        other = cache / name
        for file in SWAPPED_FILES:
            if not (folder / file).is_file() or not (other / file).is_file():
                continue
            parked = folder / f"{file}.swap"
            (folder / file).rename(parked)
            (other / file).rename(folder / file)
            parked.rename(other / file)
            for entry in (folder, other):  # a deliberate change: the cache keys vouch for the swapped files
                rehash(entry if file == "results.csv" else entry / file)
            swapped += 1
    return swapped


KEPT_FILES = ("results.csv", "midpoints.csv", "trajectory.csv")  # a kept run's numbers (its run.json stays)
KEPT_SUFFIX = re.compile(r"-\d+steps-\d+images$")


def swap_kept(kept: Path, k_max: int, twin: Callable[[str, int], str | None] = k_twin) -> int:
    """Swaps the numbers of each kept run (`opgan.study.kept`) with its `twin`'s, as `swap_results`
    does for the cache; returns the number of files swapped."""
    swapped = 0
    for folder in sorted(kept.iterdir()):
        suffix = KEPT_SUFFIX.search(folder.name)
        name = twin(folder.name[: suffix.start()], k_max) if suffix else None
        if name is None:
            continue
        other = kept / f"{name}{suffix.group()}"
        for file in KEPT_FILES:
            if (folder / file).is_file() and (other / file).is_file():
                parked = folder / f"{file}.swap"
                (folder / file).rename(parked)
                (other / file).rename(folder / file)
                parked.rename(other / file)
                swapped += 1
    return swapped


def flipped_copy(book: Path, kept: Path | None, work: Path, k_max: int, twin) -> tuple[Path, list[str], int]:
    """A copy of the book's cache (and of its kept runs) in `work` with each folder's results swapped
    with its `twin`'s: the output folder, the `--set` arguments that point the pages at the copied kept
    runs, and the number of files swapped."""
    copy = work / "book"
    shutil.copytree(book / "_cache", copy / "_cache")
    swapped = swap_results(copy / "_cache", k_max, twin)
    settings = []
    if kept is not None and kept.is_dir():
        shutil.copytree(kept, work / "kept-runs")
        swapped += swap_kept(work / "kept-runs", k_max, twin)
        settings = ["--set", f"kept={work / 'kept-runs'}"]
    return copy, settings, swapped


def page_rows(book: Path, page: str) -> list[dict]:
    """A page's claims, and its descriptive rows (comparisons in a measure that failed its penalty
    check) where it wrote any: a swap may move a row from one to the other."""
    rows = read_claims(book / "results" / f"claims-{page}.csv")
    descriptive = book / "results" / f"descriptive-{page}.csv"
    return rows + (read_claims(descriptive) if descriptive.is_file() else [])


def expected_mirror(original: dict) -> Estimate:
    """The improvement and interval `original` has with its two sides swapped: negated, for a
    difference and for a relative improvement alike (the log of the ratio of the sides' means)."""
    value, low, high = original["improvement"], original["ci_low"], original["ci_high"]
    return Estimate(-value, -high, -low)


def mirrored(original: dict, flipped: dict) -> list[str]:
    """What is wrong with `flipped` as the mirror image of `original` (empty when nothing is)."""
    problems = []
    expected = expected_mirror(original)
    for name, want in (("improvement", expected.value), ("ci_low", expected.low), ("ci_high", expected.high)):
        got = flipped[name]
        if math.isnan(want) and math.isnan(got):
            continue
        if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"{name} {got:.6g}, expected {want:.6g}")
    if math.isnan(expected.value):
        return problems
    if NOT_TESTABLE in (original["verdict"], flipped["verdict"]):  # decided by another row's check
        return problems
    if "" in (original["verdict"], flipped["verdict"]):  # a descriptive row on one side: numbers only
        return problems
    rule = verdict(expected, original["tolerance"], original["kind"])
    if flipped["verdict"] != rule:
        problems.append(f"verdict {flipped['verdict']!r}, expected {rule!r} (was {original['verdict']!r})")
    return problems


AFFINE_PAGE = "04_affine"
AFFINE_CLAIM = "affine-tames-spectrum"  # the reduced rate against the regular one


def swap_affine_models(parameters: dict, root: Path, copy: Path) -> int:
    """Copies page 04's models into `copy` with each seed's regular-rate and reduced-rate models
    trading files (with their records and logs); returns the number of seeds swapped."""
    sweep = Sweep(
        parameters["scale"],
        parameters["ks"],
        parameters["seeds"],
        root / parameters["checkpoints"],
        device="cpu",
        variants=(parameters["base_variant"], parameters["variant"]),
    )
    copy.mkdir(parents=True, exist_ok=True)
    for seed in sweep.seeds:
        regular, reduced = (sweep.path(sweep.k_max, seed, **parameters[key]) for key in ("base_variant", "variant"))
        for suffix in ("", ".json", ".log.jsonl"):
            for source, target in ((regular, reduced), (reduced, regular)):
                if Path(f"{source}{suffix}").is_file():
                    shutil.copyfile(f"{source}{suffix}", copy / f"{target.name}{suffix}")
    held_out_source = sweep.path(sweep.ks[0])  # the sweep reads its held-out images from the first model's data
    if not (copy / held_out_source.name).is_file():
        shutil.copyfile(held_out_source, copy / held_out_source.name)
    return len(sweep.seeds)


def check_mirrored(original: list[dict], flipped: list[dict], chosen) -> tuple[int, list[str]]:
    """Checks the rows `chosen(row)` selects as mirrored; returns how many and the problems."""
    checked, failures = 0, []
    key = lambda row: (row["claim_id"], row["space"], row.get("subset", ""), row["metric_id"])  # noqa: E731
    after_by_key = {key(row): row for row in flipped}
    for before in original:
        if not chosen(before):
            continue
        after = after_by_key.get(key(before))
        if after is None:
            failures.append(f"{label(before)}: no row after the swap")
            continue
        checked += 1
        problems = mirrored(before, after)
        name = label(before)
        print(f"{'FAIL' if problems else 'ok  '} {name}: {before['verdict']} -> {after['verdict']}")
        failures += [f"{name}: {problem}" for problem in problems]
    return checked, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", type=Path, help="a built book folder with its _cache and results")
    parser.add_argument("--scale", default="smoke", help="the scale it was built at (_config.yml)")
    args = parser.parse_args()

    root = project_root()
    spec = load_reproduction(root / "_config.yml")
    k_max = max(spec["scales"][args.scale]["parameters"]["ks"])
    pages = (*PAGES, AFFINE_PAGE)
    original = {page: page_rows(args.book, page) for page in pages}
    kept_setting = spec["scales"][args.scale]["parameters"].get("kept")
    kept = root / kept_setting if kept_setting else None
    opgan_book = [str(Path(sys.executable).with_name("opgan")), "book", "--scale", args.scale, "--no-build"]
    with tempfile.TemporaryDirectory(prefix="opgan-flip-") as work:
        copy, settings, swapped = flipped_copy(args.book, kept, Path(work) / "k", k_max, k_twin)
        print(f"swapped {swapped} results of k = 1 and k = {k_max}; executing {', '.join(PAGES)} on them", flush=True)
        subprocess.run([*opgan_book, "--out", str(copy), "--only", *PAGES, *settings], check=True, cwd=root)
        affine = notebook_parameters(spec, args.scale, AFFINE_PAGE, ALL_PARAMETERS, {})
        seeds = swap_affine_models(affine, root, Path(work) / "checkpoints")
        print(f"swapped the regular and the reduced affine rate's models of {seeds} seeds; executing {AFFINE_PAGE}")
        subprocess.run(
            [
                *opgan_book,
                "--out",
                str(copy),
                "--only",
                AFFINE_PAGE,
                "--set",
                f"checkpoints={Path(work) / 'checkpoints'}",
            ],
            check=True,
            cwd=root,
        )
        flipped = {page: page_rows(copy, page) for page in pages}
        copy, settings, swapped_control = flipped_copy(args.book, kept, Path(work) / "control", k_max, control_twin)
        print(f"swapped {swapped_control} results of the control and the trained k = {k_max}", flush=True)
        subprocess.run([*opgan_book, "--out", str(copy), "--only", *CONTROL_PAGES, *settings], check=True, cwd=root)
        control_flipped = {page: page_rows(copy, page) for page in CONTROL_PAGES}
    failures = []
    for page in CONTROL_PAGES:  # the mechanism: trained rows against the same rows given after training
        checked, problems = check_mirrored(
            original[page], control_flipped[page], lambda row: claim_of(row).contrast == "training"
        )
        failures += problems
        if not checked:
            failures.append(f"{page}: no row of the control against the trained model was mirrored")
    if not swapped_control:
        failures.append("no control result was swapped")
    for page in pages:
        if page == AFFINE_PAGE:
            checked, problems = check_mirrored(
                original[page], flipped[page], lambda row: row["claim_id"] == AFFINE_CLAIM
            )
        else:  # the claims whose two sides are k = 1 and the largest k in one space
            checked, problems = check_mirrored(original[page], flipped[page], lambda row: claim_of(row).contrast == "k")
        failures += problems
        if len(flipped[page]) != len(original[page]) or not checked:
            failures.append(
                f"{page}: {len(original[page])} claims before, {len(flipped[page])} after, {checked} mirrored"
            )
    if not swapped:
        failures.append("nothing was swapped")
    for failure in failures:
        print(f"flip check: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

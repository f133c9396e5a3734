"""The interpolation page's measurements: the paper's Figure 1 strips, each model's set-level
midpoint and path measures, and every midpoint's scores on the pairs that decide editability."""

from __future__ import annotations

import time

import pandas as pd
import torch
from pandas.io.formats.style import Styler

from opgan.data import to_float
from opgan.files import write_csv
from opgan.interpolate import figure_one_strip
from opgan.results import read_codes
from opgan.study import claims, findings, plots, progress
from opgan.study.kept import Side
from opgan.study.midpoints import MIDPOINT_SCORES, interpolation_measures
from opgan.study.pages import Page
from opgan.study.rebuild import write_exact_csv
from opgan.study.reconstruction import LongBudget, side_name

ALPHAS = (0.25, 0.5, 0.75)
STRIP_TITLES = ["target A", "inversion A", *[f"α = {alpha}" for alpha in ALPHAS], "inversion B", "target B"]
MEASURE_NAMES = {
    "trained_k": "trained k",
    "fd_midpoints": "midpoint FD-VGG16",
    "fd_endpoints": "reconstruction FD-VGG16",
    "mean_step_lpips": "mean LPIPS step",
    "max_step_lpips": "max LPIPS step",
}


def deciding_sides(long: LongBudget) -> list[Side]:
    """The sides whose midpoints the claims compare, in reading order: k = 1, the largest k and the
    control in each space."""
    return sorted(long.sides, key=lambda side: (side[2], side[0], side[1]))


def strips(page: Page, long: LongBudget, shown: int) -> dict[str, torch.Tensor]:
    """Figure 1 strips (target A, inversion A, three frames, inversion B, target B) of `shown`
    within-class pairs and one cross-class pair, for k = 1 in W and W+, the largest k in W and the
    control in W (the page's own deciding-budget run of seed 0)."""
    sweep = page.sweep
    first, second, same_class = long.measurer.pairs
    within = [i for i, same in enumerate(same_class) if same][:shown]
    across = [i for i, same in enumerate(same_class) if same is False][:1]
    shown_pairs = (within + across) or list(range(min(shown + 1, len(first))))
    sides = [(1, "w", False), (1, "w+", False), (sweep.k_max, "w", False)]
    sides += [(sweep.k_max, "w", True)] if sweep.has_control else []
    codes = {side: read_codes(long.folder(side, 0)).to(sweep.device) for side in sides}
    targets = to_float(long.targets.images)
    found = {}
    for number, index in enumerate(shown_pairs, 1):
        pair = (int(first[index]), int(second[index]))
        kind = {True: "same class", False: "across classes", None: "class unknown"}[same_class[index]]
        for k, space, control in sides:
            model = long.measurer.model((k, space, control), 0)
            name = f"the control, {space}" if control else f"k = {k}, {space}"
            found[f"pair {number} ({kind}): {name}"] = figure_one_strip(
                model, codes[(k, space, control)], targets, space, pair, ALPHAS
            )
    return found


def measures(page: Page, long: LongBudget, pairs: int, seed: int) -> list[dict]:
    """Midpoint and reconstruction FD-VGG16 and the LPIPS steps along the paths of the page's own
    deciding-budget runs, per side, seed and space (``interpolation.csv``)."""
    sweep, rows = page.sweep, []
    for side in deciding_sides(long):
        k, space, control = side
        for s in long.seeds:
            start = time.perf_counter()
            folder = long.folder(side, s)
            model = long.measurer.model(side, s)
            row, _ = interpolation_measures(
                model, read_codes(folder).to(sweep.device), space, long.measurer.real, pairs, seed
            )
            rows.append({"k": k, "trained_k": 1 if control else k, "seed": s, "space": space, **row})
            progress.done(f"{folder.name}/interpolation-measures", computed=True, seconds=time.perf_counter() - start)
    write_csv(page.results / "interpolation.csv", rows)
    return rows


def midpoint_rows(page: Page, long: LongBudget) -> list[dict]:
    """Every midpoint's realism score and (for Fashion-MNIST) classifier confidence in the deciding
    runs (the kept runs, else the page's own), per side, seed and space (``midpoints.csv``)."""
    rows = [row for side in deciding_sides(long) for run in long.deciding(side) for row in run.midpoints]
    write_exact_csv(page.results / "midpoints.csv", rows)
    return rows


def own_midpoint_rows(long: LongBudget) -> list[dict]:
    """The midpoint rows with the page's own runs in place of the kept runs of their seeds."""
    rows = []
    for side in deciding_sides(long):
        own = {run.seed: run for run in long.own(side)}
        rows += [row for run in long.deciding(side) for row in own.get(run.seed, run).midpoints]
    return rows


def replication(page: Page, long: LongBudget, found: list[dict]) -> str:
    """The page's own runs against the kept runs of the same seeds, in words: how far each measure's
    seed mean moved, and whether an editability verdict would change had the own runs been kept
    ('' without kept runs)."""
    if not long.kept:
        return ""
    changes = {measure: [] for measure in claims.MIDPOINT_MEASURES}
    for side in deciding_sides(long):
        kept = {run.seed: run for run in long.kept_runs(side)}
        for run in (run for run in long.own(side) if run.seed in kept):
            for measure in claims.MIDPOINT_MEASURES:
                ours = [r[measure] for r in run.midpoints if r[measure] != ""]
                theirs = [r[measure] for r in kept[run.seed].midpoints if r[measure] != ""]
                if ours and theirs:
                    changes[measure].append(100 * (sum(ours) / sum(theirs) - 1))
    sizes = "; ".join(
        f"the seed-mean {METRIC_WORDS[m]} "
        + (f"moves by at most {largest:.2g}%" if (largest := max(abs(c) for c in values)) else "is the same")
        for m, values in changes.items()
        if values
    )
    seeds = sorted({run.seed for side in long.sides for run in long.own(side)})
    text = f"**Replication.** This page's own runs of training seeds {seeds[0]}–{seeds[-1]} against the kept runs: "
    text += f"{sizes}. "
    again, _ = claims.editability_claims(own_midpoint_rows(long), page.sweep.k_max, spaces_of(long), long.kept_seeds)
    moved = [
        f"{row['short']} ({row['space']}, {row['subset']}, {row['metric_id']}): {row['verdict']} → {other['verdict']}"
        for row, other in zip(found, again)
        if row["verdict"] != other["verdict"]
    ]
    if len(again) != len(found):
        return text + "Had the page's own runs been kept, a different set of measures would pass the penalty check."
    if not moved:
        return text + "No editability verdict would change had the page's own runs been kept in their place."
    return text + "Had the page's own runs been kept, these verdicts would change: " + "; ".join(moved) + "."


METRIC_WORDS = {"realism": "realism score", "confidence": "classifier confidence"}


def spaces_of(long: LongBudget) -> list[str]:
    return list(dict.fromkeys(space for _, space, _ in deciding_sides(long)))


def trajectory_rows(long: LongBudget) -> list[dict]:
    """Along each side's inversion (the deciding runs of the snapshot seeds): per snapshot and seed,
    the mean reconstruction LPIPS-VGG over the test images and the mean midpoint scores over the
    pairs (``trajectory.csv``)."""
    rows = []
    for side in deciding_sides(long):
        for run in long.deciding(side):
            if not run.trajectory:
                continue
            table = pd.DataFrame(run.trajectory)
            for fraction, part in table.groupby("fraction"):
                images, pairs = part[part["image"] != ""], part[part["image"] == ""]
                rows.append(
                    {
                        "side": side_name(side),
                        "k": side[0],
                        "trained_k": run.trained_k,
                        "space": side[1],
                        "seed": run.seed,
                        "fraction": fraction,
                        "steps": int(part["steps"].iloc[0]),
                        "lpips": images["lpips"].astype(float).mean(),
                        "realism": pairs["realism"].astype(float).mean(),
                        **(
                            {"confidence": pairs["confidence"].astype(float).mean()}
                            if (pairs["confidence"] != "").all()
                            else {}
                        ),
                    }
                )
    write_csv(long.page.results / "trajectory.csv", rows)
    return rows


def mean_scores(rows: list[dict]) -> pd.DataFrame:
    """The mean midpoint scores over the pairs and training seeds per model, space and kind of pair."""
    scores = pd.DataFrame(rows)
    measured = [column for column in ("realism", "confidence") if (scores[column] != "").all()]
    kinds = {True: "within a class", False: "across classes", "True": "within a class", "False": "across classes"}
    scores["same_class"] = [kinds.get(value, "class unknown") for value in scores["same_class"]]
    return (
        scores.groupby(["k", "trained_k", "space", "same_class"], sort=False)[measured]
        .mean()
        .reset_index()
        .rename(
            columns={
                "trained_k": "trained k",
                "same_class": "pairs",
                "realism": "mean realism score",
                "confidence": "mean classifier confidence",
            }
        )
    )


def decide(page: Page, long: LongBudget, midpoints: list[dict]) -> tuple[list[dict], list[dict]]:
    """The editability claims with their penalty checks (`claims.editability_claims`) on the deciding
    runs' midpoints, and the descriptive rows of the measures that failed their check, written to
    ``descriptive-{notebook}.csv`` beside the claims (none: no file)."""
    decided, descriptive = claims.editability_claims(midpoints, page.sweep.k_max, spaces_of(long), long.deciding_seeds)
    path = page.results / f"descriptive-{page.notebook}.csv"
    if descriptive:
        write_exact_csv(path, descriptive)
    else:
        path.unlink(missing_ok=True)
    return decided, descriptive


def penalty_report(decided: list[dict], descriptive: list[dict]) -> list:
    """What the page shows of the penalty checks: their sentences, their table and the descriptive
    rows of the measures that failed."""
    from IPython.display import Markdown

    checks = [row for row in decided if row["claim_id"] == "editability-penalty-detected"]
    shown = [Markdown(penalty_text(checks))] + ([penalty_table(checks)] if checks else [])
    return shown + ([descriptive_table(descriptive)] if descriptive else [])


def descriptive_note(descriptive: list[dict]) -> str:
    """Under the page's verdicts: which measures decide nothing, and why ('' when every one decides)."""
    if not descriptive:
        return ""
    names = " and the ".join(sorted({findings.metric_of(r).name for r in descriptive}))
    return (
        f"*The editability comparisons in the {names} are description only: the measure could not see the known "
        "loss of editability in W+ (the penalty check below), so it decides no claim.*"
    )


def claims_note(long: LongBudget) -> str:
    """What the editability verdicts rest on, for the claims table."""
    steps = long.steps or long.page.inversion.steps
    pairs = len(long.measurer.pairs[0])
    seeds = len(long.deciding_seeds)
    return (
        f"midpoints of the {steps}-step codes, {seeds} training seeds; {pairs} pairs of {len(long.targets)} test images"
    )


def penalty_text(checks: list[dict]) -> str:
    """Each midpoint measure's penalty check in words: whether it sees the loss of editability of
    k = 1 in W+ against k = 1 in W, and so whether it may decide a claim."""
    if not checks:
        return "No penalty check: it needs k = 1 inverted in both W and W+."
    lines = []
    for check in checks:
        measure = findings.metric_of(check).name
        passed = check["verdict"] == "agrees"
        outcome = (
            "it sees the penalty and decides the claims below"
            if passed
            else "it does not see the penalty, so its rows are description only, outside the claims and the family"
        )
        lines.append(f"- **{measure}**: {findings.size_text(check)} ({findings.verdict_text(check)}): {outcome}.")
    return "\n".join(lines)


def penalty_table(checks: list[dict]) -> Styler:
    return plots.table(
        [
            {
                "measure": findings.metric_of(c).name,
                "k = 1 in W / k = 1 in W+ [95% CI]": findings.interval(c),
                "seeds": c["seeds"],
                "pairs": c["images"],
                "sees the penalty": "yes" if c["verdict"] == "agrees" else "no",
            }
            for c in checks
        ],
        caption="The penalty check of each midpoint measure: the mean midpoint score of k = 1 in W over that of k = 1 "
        "in W+ at the deciding budget (above 1: the measure sees W+'s loss of editability), over every pair.",
    )


def descriptive_table(rows: list[dict]) -> Styler:
    return plots.table(
        [
            {
                "comparison": findings.label(r, short=True),
                "paper's side / other [95% CI]": findings.interval(r),
                "paper's side": r["candidate"],
                "other": r["baseline"],
            }
            for r in rows
        ],
        caption="Description only, in the measures that failed their penalty check: the editability comparisons, "
        "each the paper's side's mean midpoint score as a multiple of the other's (no verdict).",
    )


def plan(page: Page, long: LongBudget, pairs: int) -> dict[str, dict[str, float]]:
    """What this page will read back or compute, declared before it starts: the deciding-budget
    inversions (page 02's, read back), each one's interpolation measures and midpoint scores."""
    name = long.inversions.name
    label = "check-" if long.steps else ""
    folders = [name(k, space, seed, control, label) for k, space, control in long.sides for seed in long.seeds]
    return {
        "inversions": long.plan(),
        "interpolation measures": {f"{folder}/interpolation-measures": pairs for folder in folders},
        "midpoint scores": {f"{folder}/{MIDPOINT_SCORES}": pairs for folder in folders},
    }


def smoothness_sentence(measures: list[dict], k_small: int, k_max: int) -> str:
    """What the paths' evenness says (Markdown), from the page's set-level measures: the seed means
    of k = 1 and the largest k (trained with its rows) per space, and that no claim rests on it."""
    parts = []
    for space in dict.fromkeys(row["space"] for row in measures):
        means = {}
        for k in (k_small, k_max):
            values = [r["evenness"] for r in measures if r["space"] == space and r["k"] == k and r["trained_k"] == k]
            if values:
                means[k] = sum(values) / len(values)
        if len(means) == 2:
            parts.append(
                f"in {findings.space_name(space)} {means[k_max]:.2f} at k = {k_max} against {means[k_small]:.2f} "
                f"at k = {k_small}"
            )
    if not parts:
        return ""
    return (
        "**Path evenness** (largest / mean LPIPS step along a path; 1 is perfectly even), the mean over the "
        f"training seeds: {'; '.join(parts)}. An uneven path jumps somewhere between the two images; the measure is "
        "descriptive (no claim rests on it, and it has no tolerance fixed in advance)."
    )

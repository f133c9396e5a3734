"""The interpolation page's measurements: the paper's Figure 1 strips, each model's set-level
midpoint and path measures, and every midpoint's scores on the pairs that decide editability."""

from __future__ import annotations

import time

import pandas as pd
import torch

from opgan.data import to_float
from opgan.files import write_csv
from opgan.interpolate import figure_one_strip
from opgan.results import read_codes
from opgan.study import progress
from opgan.study.classifier import class_of, load_classifier
from opgan.study.midpoints import MIDPOINT_SCORES, class_pairs, interpolation_measures, midpoint_items
from opgan.study.pages import Page
from opgan.study.rebuild import write_exact_csv

ALPHAS = (0.25, 0.5, 0.75)
STRIP_TITLES = ["target A", "inversion A", *[f"α = {alpha}" for alpha in ALPHAS], "inversion B", "target B"]
MEASURE_NAMES = {
    "trained_k": "trained k",
    "fd_midpoints": "midpoint FD-VGG16",
    "fd_endpoints": "reconstruction FD-VGG16",
    "mean_step_lpips": "mean LPIPS step",
    "max_step_lpips": "max LPIPS step",
}


def pairs_of(page: Page, pairs: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, list[bool | None]]:
    """The interpolation pairs of the page's test images, the same for every model."""
    return class_pairs(page.targets.names, pairs, seed)


def strips(page: Page, pair_index: tuple, shown: int) -> dict[str, torch.Tensor]:
    """Figure 1 strips (target A, inversion A, three frames, inversion B, target B) of `shown`
    within-class pairs and one cross-class pair, for k = 1 in W and W+, the largest k in W and the
    control in W (seed 0)."""
    sweep, inversions = page.sweep, page.inversions
    first, second, same_class = pair_index
    within = [i for i, same in enumerate(same_class) if same][:shown]
    across = [i for i, same in enumerate(same_class) if same is False][:1]
    shown_pairs = (within + across) or list(range(min(shown + 1, len(first))))
    sides = [(1, "w", False), (1, "w+", False), (sweep.k_max, "w", False)]
    sides += [(sweep.k_max, "w", True)] if sweep.has_control else []
    codes = {side: read_codes(inversions.folder(side[0], side[1], control=side[2])).to(sweep.device) for side in sides}
    targets = to_float(page.targets.images)
    found = {}
    for number, index in enumerate(shown_pairs, 1):
        pair = (int(first[index]), int(second[index]))
        kind = {True: "same class", False: "across classes", None: "class unknown"}[same_class[index]]
        for k, space, control in sides:
            model = sweep.widened() if control else sweep.model(k)
            name = f"the control, {space}" if control else f"k = {k}, {space}"
            found[f"pair {number} ({kind}): {name}"] = figure_one_strip(
                model, codes[(k, space, control)], targets, space, pair, ALPHAS
            )
    return found


def model_sides(page: Page, spaces: list[str]) -> list[tuple[int, int, int, str, bool]]:
    """(k, trained k, seed, space, control) of every inversion the page measures: every model of the
    sweep in every space, then the control (k = 1 given the largest k's rows, as many free values,
    weights trained with k = 1) at every seed."""
    sweep = page.sweep
    sides = [(k, k, seed, space, False) for k, seed in sweep.members() for space in spaces]
    if sweep.has_control:
        sides += [(sweep.k_max, 1, seed, space, True) for seed in sweep.seeds for space in spaces]
    return sides


def measures(page: Page, spaces: list[str], real: torch.Tensor, pairs: int, seed: int) -> list[dict]:
    """Midpoint and reconstruction FD-VGG16 and the LPIPS steps along the paths, per model, seed and
    space, the control included (``interpolation.csv``)."""
    sweep, inversions, rows = page.sweep, page.inversions, []
    for k, trained_k, s, space, control in model_sides(page, spaces):
        start = time.perf_counter()
        folder = inversions.folder(k, space, s, control)
        model = sweep.widened(s) if control else sweep.model(k, s)
        row, _ = interpolation_measures(model, read_codes(folder).to(sweep.device), space, real, pairs, seed)
        rows.append({"k": k, "trained_k": trained_k, "seed": s, "space": space, **row})
        progress.done(f"{folder.name}/interpolation-measures", computed=True, seconds=time.perf_counter() - start)
    write_csv(page.results / "interpolation.csv", rows)
    return rows


def midpoint_rows(page: Page, spaces: list[str], pair_index: tuple, real: torch.Tensor) -> list[dict]:
    """Every midpoint's realism score and (for Fashion-MNIST) classifier confidence, per model, seed
    and space, the control on the same pairs (``midpoints.csv``)."""
    sweep, inversions, names = page.sweep, page.inversions, page.targets.names
    classifier = load_classifier(device=sweep.device) if all(class_of(name) for name in names) else None
    rows = []
    for k, trained_k, s, space, control in model_sides(page, spaces):  # the control on the same pairs
        model_name = f"{sweep.name(1, s)} with {sweep.k_max} rows" if control else sweep.name(k, s)
        folder = inversions.folder(k, space, s, control)
        model = sweep.widened(s) if control else sweep.model(k, s)
        codes = read_codes(folder).to(sweep.device)
        rows += midpoint_items(
            model, codes, space, pair_index, names, real, classifier,
            inversion_folder=folder, model=model_name, k=k, trained_k=trained_k, seed=s,
        )  # fmt: skip
    write_exact_csv(page.results / "midpoints.csv", rows)
    return rows


def mean_scores(rows: list[dict]) -> pd.DataFrame:
    """The mean midpoint scores over the pairs and training seeds per model, space and kind of pair."""
    scores = pd.DataFrame(rows)
    measured = [column for column in ("realism", "confidence") if (scores[column] != "").all()]
    return (
        scores.groupby(["k", "trained_k", "space", "same_class"], sort=False)[measured]
        .mean()
        .reset_index()
        .rename(
            columns={
                "trained_k": "trained k",
                "same_class": "within a class",
                "realism": "mean realism score",
                "confidence": "mean classifier confidence",
            }
        )
    )


def plan(page: Page, spaces: list[str], pairs: int) -> dict[str, dict[str, float]]:
    """What this page will read back or compute, declared before it starts: the inversions (page 02's,
    read back), each model's interpolation measures and its midpoint scores."""
    name = page.inversions.name
    folders = [name(k, space, seed, control) for k, _, seed, space, control in model_sides(page, spaces)]
    return {
        "inversions": {folder: len(page.targets) * page.inversion.steps for folder in folders},
        "interpolation measures": {f"{folder}/interpolation-measures": pairs for folder in folders},
        "midpoint scores": {f"{folder}/{MIDPOINT_SCORES}": pairs for folder in folders},
    }

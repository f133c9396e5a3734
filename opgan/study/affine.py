"""The affine layers of the book's affine page: their singular values, and how far a learning-rate
multiplier lets them move in a scale's step budget."""

from __future__ import annotations

import pandas as pd
import torch

from opgan.diagnostics import initial_generator
from opgan.networks import Generator
from opgan.presets import preset_row
from opgan.study.plots import MODULE_GROUP_NAMES
from opgan.study.rebuild import write_exact_csv
from opgan.study.sweep import Sweep


def affine_singular_values(G: Generator) -> dict[str, torch.Tensor]:
    """Singular values (descending) of every affine layer's effective weight (lr multiplier applied)."""
    spectra = {}
    for name, module in G.synthesis.named_modules():
        if name.endswith("affine"):
            spectra[name.removesuffix(".affine")] = torch.linalg.svdvals(
                module.effective_weight().detach().double().cpu()
            )
    if not spectra:
        raise ValueError("the generator has no affine layers named '*.affine'")
    return spectra


def spectrum_summary(spectra: dict[str, torch.Tensor]) -> list[dict]:
    """Per layer: largest singular value, its ratio to the median one, and the effective rank
    (exp of the entropy of the normalized spectrum; equals the size for a flat spectrum)."""
    rows = []
    for layer, values in spectra.items():
        p = values / values.sum()
        rows.append(
            {
                "layer": layer,
                "size": len(values),
                "largest": values[0].item(),
                "largest_over_median": (values[0] / values.median()).item(),
                "effective_rank": torch.exp(-(p * p.clamp_min(1e-300).log()).sum()).item(),
            }
        )
    return rows


def update_budget(scale: str, lr_mul: float) -> dict:
    """How far a scale's training can move a layer trained with learning-rate multiplier `lr_mul`:
    Adam moves each weight by about its learning rate per step at most, so steps × lr × multiplier
    bounds the path length (in the layer's equalized weight units).  Comparing this budget between
    scales says which multiplier here plays the role of the paper's."""
    train = preset_row(scale)["train"]
    steps = train["total_images"] / train["batch"]
    return {
        "scale": scale,
        "multiplier": lr_mul,
        "steps": round(steps),
        "lr": train["lr_g"],
        "budget": steps * train["lr_g"] * lr_mul,
    }


# ------------------------------------------------------------------------------- the affine page
INITIAL_LABEL = "at initialization"
SPECTRUM_NAMES = {"effective_rank": "effective rank", "largest_over_median": "largest / median singular value"}


def side_labels(regular: Generator, reduced: Generator) -> tuple[str, str]:
    """The two sides' names: 'affine lr × 1', 'affine lr × 0.1 (reduced)'."""
    return f"affine lr × {regular.cfg.affine_lr_mul:g}", f"affine lr × {reduced.cfg.affine_lr_mul:g} (reduced)"


def model_rows(sweep: Sweep, k: int, seeds: list[int], variants: dict[str, dict]) -> list[dict]:
    """Both sides at every training seed: how far each module group moved from its initialization
    and the FD-VGG16 of its samples, as recorded when the models were exported."""
    rows = []
    for label, variant in variants.items():
        for seed in seeds:
            record = sweep.record(k, seed, **variant)
            rows.append(
                {
                    "model": label,
                    "seed": seed,
                    **{
                        f"{MODULE_GROUP_NAMES[group]} moved": value
                        for group, value in record.get("distance_from_init", {}).items()
                    },
                    "sample FD-VGG16": record.get("fd_vgg16_samples_vs_test"),
                }
            )
    return rows


def budgets(scale: str, regular: float, reduced: float) -> list[dict]:
    """The update budgets of the paper's two rates at its training length and of the two compared."""
    paper = preset_row("paper")["model"]["affine_lr_mul"]
    return [
        update_budget("paper", 1.0),
        update_budget("paper", paper),
        update_budget(scale, regular),
        update_budget(scale, reduced),
    ]


def budget_sentence(found: list[dict], regular: float) -> str:
    """What the budgets mean for this comparison, in words."""
    paper_regular, paper_reduced, here, _ = found
    return (
        f"This scale's ×{regular:g} has {here['budget'] / paper_reduced['budget']:.0%} of the budget of the paper's "
        f"reduced ×{paper_reduced['multiplier']:g}; the paper's regular ×1 would need "
        f"×{paper_regular['budget'] / here['budget'] * regular:.0f} here. So this scale tests a reduced rate against a "
        "regular one, not the paper's two rates at the paper's length."
    )


def budget_note(found: list[dict], regular: float) -> str:
    """The caveat each affine verdict carries into the claims table."""
    _, paper_reduced, here, _ = found
    return (
        f"×{regular:g} here has {here['budget'] / paper_reduced['budget']:.0%} of the update budget "
        f"of the paper's reduced ×{paper_reduced['multiplier']:g}"
    )


def spectra(sweep: Sweep, k: int, seeds: list[int], variants: dict[str, dict], reduced: dict) -> dict[tuple, dict]:
    """(label, seed) -> the affine layers' spectra of each side's trainings, and of the layers at the
    initialization of each reduced-rate training."""
    found = {
        (label, seed): affine_singular_values(sweep.model(k, seed, **v))
        for label, v in variants.items()
        for seed in seeds
    }
    config = sweep.model(k, 0, **reduced).cfg
    for seed in seeds:
        start = initial_generator(config, sweep.record(k, seed, **reduced).get("seed", seed))
        found[(INITIAL_LABEL, seed)] = affine_singular_values(start)
    return found


def spectrum_rows(found: dict[tuple, dict], results) -> list[dict]:
    """Every layer's spectrum summary per side and seed (``affine.csv``)."""
    rows = [
        {"model": label, "seed": seed, **row}
        for (label, seed), layers in found.items()
        for row in spectrum_summary(layers)
    ]
    write_exact_csv(results / "affine.csv", rows)
    return rows


def spectrum_table(rows: list[dict]) -> pd.DataFrame:
    """Per affine layer: effective rank and largest / median singular value, mean over the seeds."""
    table = pd.DataFrame(rows).rename(columns=SPECTRUM_NAMES)
    return table.groupby(["layer", "model"], sort=False)[list(SPECTRUM_NAMES.values())].mean().unstack("model")

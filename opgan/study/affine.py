"""The affine layers of the book's affine page: their singular values, and how far a learning-rate
multiplier lets them move in a scale's step budget."""

from __future__ import annotations

import torch

from opgan.networks import Generator
from opgan.presets import preset_row


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

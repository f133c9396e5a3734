"""What training did to the generator's weights: how far each part moved from its random
initialization, and the singular values of the affine layers.

The paper's learning-rate multipliers (x0.01 for mapping and affine layers) are calibrated for
about a million steps; at a small step budget they leave the style path at its initialization, and
"trained with k rows" then changes only the convolutions.  These numbers show whether the style
path trained: the relative L2 distance ||w - w0|| / ||w0|| of every weight tensor, summarized by
its median per module group.
"""

from __future__ import annotations

import torch
from torch import nn

from opgan.networks import Generator, ModelConfig

MODULE_GROUPS = ("mapping", "affine", "conv", "torgb")


def module_group(name: str) -> str | None:
    """The group of a generator parameter name; None for parameters that are not weights."""
    if not name.endswith("weight"):
        return None
    if name.startswith("mapping."):
        return "mapping"
    if ".affine." in name:
        return "affine"
    if ".torgb." in name:
        return "torgb"
    return "conv"


def initial_generator(cfg: ModelConfig, seed: int) -> Generator:
    """The generator a training run with `seed` starts from (the Trainer seeds, then builds G first),
    without touching the caller's random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Generator(cfg)


@torch.no_grad()
def distance_from_init(model: nn.Module, initial: dict[str, torch.Tensor]) -> dict[str, float]:
    """Median relative distance from `initial` (a state dict) of each group's weight tensors."""
    distances: dict[str, list[float]] = {group: [] for group in MODULE_GROUPS}
    for name, param in model.named_parameters():
        group = module_group(name)
        if group is None:
            continue
        start = initial[name].to(param.device, torch.float64)
        distances[group].append(((param.double() - start).norm() / start.norm().clamp_min(1e-12)).item())
    return {group: float(torch.tensor(values).median()) for group, values in distances.items() if values}


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
    from opgan.presets import preset_row

    train = preset_row(scale)["train"]
    steps = train["total_images"] / train["batch"]
    return {
        "scale": scale,
        "multiplier": lr_mul,
        "steps": round(steps),
        "lr": train["lr_g"],
        "budget": steps * train["lr_g"] * lr_mul,
    }

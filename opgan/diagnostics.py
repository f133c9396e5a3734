"""What training did to the generator's weights: how far each part moved from its random
initialization (logged while training; the affine layers' spectra are the study's,
`opgan.study.affine`).

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

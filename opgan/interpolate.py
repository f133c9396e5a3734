"""Paths between latent codes: linear in W / W+, spherical in Z; the frames along them, path
smoothness, and the strips of `opgan interpolate` and of the paper's Figure 1 (midpoint scores are
the study's, `opgan.study.midpoints`)."""

from __future__ import annotations

import os

import torch

from opgan.data import load_images, to_float
from opgan.errors import ConfigError
from opgan.files import save_image_grid
from opgan.invert import InversionConfig, invert
from opgan.metrics import lpips_distance
from opgan.networks import Generator
from opgan.results import read_code


def slerp(a: torch.Tensor, b: torch.Tensor, alpha: float) -> torch.Tensor:
    """Spherical interpolation of each code (flattened per image), as for Gaussian z."""
    flat_a, flat_b = a.flatten(1), b.flatten(1)
    cos = torch.nn.functional.cosine_similarity(flat_a, flat_b, dim=1).clamp(-1 + 1e-7, 1 - 1e-7)
    omega = torch.acos(cos).unsqueeze(1)
    sin = torch.sin(omega)
    mixed = (torch.sin((1 - alpha) * omega) * flat_a + torch.sin(alpha * omega) * flat_b) / sin
    parallel = sin.abs() < 1e-6  # nearly identical codes: the linear path is the same path
    mixed = torch.where(parallel, torch.lerp(flat_a, flat_b, alpha), mixed)
    return mixed.view_as(a)


def interpolate_codes(a: torch.Tensor, b: torch.Tensor, alpha: float, space: str) -> torch.Tensor:
    """Codes at `alpha` between a (alpha = 0) and b (alpha = 1): slerp in z, lerp in w and w+."""
    if a.shape != b.shape:
        raise ValueError(f"codes of different shapes cannot be interpolated: {list(a.shape)} vs {list(b.shape)}")
    return slerp(a, b, alpha) if space == "z" else torch.lerp(a, b, alpha)


@torch.no_grad()
def frames(G: Generator, a: torch.Tensor, b: torch.Tensor, space: str, alphas: list[float]) -> torch.Tensor:
    """Images along the path for each alpha: [len(alphas), N, C, H, W] for codes a, b of N images."""
    return torch.stack([G.synthesize(interpolate_codes(a, b, alpha, space), space).clamp(-1, 1) for alpha in alphas])


def distinct_pairs(count: int, pairs: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`pairs` distinct unordered pairs (i, j), i != j, of `count` codes, drawn without repeats."""
    available = count * (count - 1) // 2
    if count < 2 or pairs > available:
        raise ValueError(f"{count} codes make {available} distinct pairs; {pairs} asked for")
    first, second = torch.triu_indices(count, count, offset=1)
    chosen = torch.randperm(available, generator=torch.Generator().manual_seed(seed))[:pairs]
    return first[chosen], second[chosen]


@torch.no_grad()
def path_smoothness(
    G: Generator, a: torch.Tensor, b: torch.Tensor, space: str, steps: int = 8, lpips_net: str = "alex"
) -> dict:
    """LPIPS between consecutive frames along each path: mean and max per path, and in total.

    A smooth path has small, even steps; a jump (max much larger than mean) means the path leaves
    the image manifold somewhere.
    """
    alphas = [i / steps for i in range(steps + 1)]
    images = frames(G, a, b, space, alphas)
    distances = torch.stack([lpips_distance(images[i], images[i + 1], lpips_net) for i in range(steps)])  # [steps, N]
    return {
        "mean_step": distances.mean(0),
        "max_step": distances.max(0).values,
        "path_length": distances.sum(0),
        "evenness": distances.max(0).values / distances.mean(0).clamp_min(1e-8),
    }


def figure_one_strip(
    G: Generator,
    codes: torch.Tensor,
    targets: torch.Tensor,
    space: str,
    pair: tuple[int, int],
    alphas: tuple[float, ...] = (0.25, 0.5, 0.75),
) -> torch.Tensor:
    """Target A, inversion A, the frames at `alphas`, inversion B, target B (the paper's Figure 1)."""
    a, b = codes[pair[0] : pair[0] + 1], codes[pair[1] : pair[1] + 1]
    path = frames(G, a, b, space, [0.0, *alphas, 1.0])[:, 0].cpu()
    return torch.cat([targets[pair[0] : pair[0] + 1], path, targets[pair[1] : pair[1] + 1]])


def interpolation_strip(
    G: Generator,
    out: str | os.PathLike,
    frames_count: int = 8,
    codes: list[str] | None = None,
    images: list[str] | None = None,
    cfg: InversionConfig | None = None,
) -> torch.Tensor:
    """Saves a strip from A to B, between two code files or two images (inverted first, and shown
    at both ends), and returns its images."""
    if frames_count < 2:
        raise ConfigError(f"--frames must be at least 2 (the two endpoints), got {frames_count}")
    device = G.mapping.w_avg.device
    ends = []
    if codes is not None:
        states = [read_code(path) for path in codes]
        if states[0]["space"] != states[1]["space"]:
            raise ConfigError(f"codes are from different spaces: {states[0]['space']} and {states[1]['space']}")
        for path, state in zip(codes, states):
            if state["k"] != G.cfg.k:
                raise ConfigError(f"{path} is a code for k={state['k']}, the checkpoint's model has k={G.cfg.k}")
        space = states[0]["space"]
        a, b = (state["code"].unsqueeze(0).to(device) for state in states)
    else:
        cfg = cfg or InversionConfig()
        targets = torch.cat(
            [
                to_float(load_images(path, G.cfg.resolution, G.cfg.img_channels, split="all").images[:1])
                for path in images
            ]
        )
        result = invert(G, targets, cfg, progress=False)
        space = cfg.space
        a, b = result.codes[:1], result.codes[1:2]
        ends = [targets[:1].to(device), targets[1:2].to(device)]
    strip = frames(G, a, b, space, [i / (frames_count - 1) for i in range(frames_count)])[:, 0]
    if ends:
        strip = torch.cat([ends[0], strip, ends[1]])
    save_image_grid(strip, out, columns=len(strip), scale=2)
    return strip

"""Paths between latent codes: linear in W / W+, spherical in Z; midpoint realism, path smoothness,
and the strips of `opgan interpolate` and of the paper's Figure 1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from opgan.data import load_images, to_float
from opgan.errors import ConfigError
from opgan.files import save_image_grid
from opgan.invert import InversionConfig, invert
from opgan.metrics import frechet_distance, lpips_distance, realism_scores, vgg16_features
from opgan.networks import Generator
from opgan.results import CACHE_KEY, cached_value, read_code, source_hash, tensor_sha256


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


def class_pairs(names: list[str], pairs: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, list[bool | None]]:
    """The interpolation pairs of a set of test images, the same for every model: half of them (or
    all there are) within one Fashion-MNIST class, as the paper interpolates cat to cat, the rest
    across classes; for images without a class in their name, distinct random pairs (class unknown)."""
    from opgan.classifier import class_of

    labels = [class_of(name) for name in names]
    if any(label is None for label in labels):
        first, second = distinct_pairs(len(names), min(pairs, len(names) * (len(names) - 1) // 2), seed)
        return first, second, [None] * len(first)
    first, second = torch.triu_indices(len(names), len(names), offset=1)
    same = torch.tensor([labels[i] == labels[j] for i, j in zip(first.tolist(), second.tolist())], dtype=torch.bool)
    generator = torch.Generator().manual_seed(seed)
    within, across = same.nonzero().squeeze(1), (~same).nonzero().squeeze(1)
    within = within[torch.randperm(len(within), generator=generator)[: pairs // 2]]
    across = across[torch.randperm(len(across), generator=generator)[: pairs - len(within)]]
    chosen = torch.cat([within, across])
    return first[chosen], second[chosen], same[chosen].tolist()


# The package modules whose code scores a midpoint: a change to any of them makes every cached
# midpoint score stale.
MIDPOINT_SOURCES = ("interpolate.py", "networks.py", "metrics.py", "classifier.py")
MIDPOINT_SCORES = "midpoint-scores.pt"


@torch.no_grad()
def midpoint_scores(
    G: Generator,
    codes: torch.Tensor,
    space: str,
    pairs: tuple[torch.Tensor, torch.Tensor, list[bool | None]],
    real_features: torch.Tensor,
    classifier=None,
) -> dict[str, torch.Tensor]:
    """The alpha = 0.5 midpoint of each pair: its realism score (VGG16 features against the real
    reference, `metrics.realism_scores`) and, with a `classifier.FashionClassifier`, its confidence."""
    from opgan.classifier import confidence

    first, second, _ = pairs
    midpoints = frames(G, codes[first], codes[second], space, [0.5])[0]
    scores = {"realism": realism_scores(vgg16_features(midpoints), real_features)}
    if classifier is not None:
        scores["confidence"] = confidence(classifier, midpoints.cpu())
    return scores


def midpoint_items(
    G: Generator,
    codes: torch.Tensor,
    space: str,
    pairs: tuple[torch.Tensor, torch.Tensor, list[bool | None]],
    names: list[str],
    real_features: torch.Tensor,
    classifier=None,
    inversion_folder: str | os.PathLike | None = None,
    **labels,
) -> list[dict]:
    """One row per pair with its `midpoint_scores`; `labels` (model, k, seed, ...) are copied into
    every row.  With the cached inversion folder the codes came from (`results.cached_inversion`),
    the scores are kept there (MIDPOINT_SCORES) and read back while that inversion, the pairs, the
    reference, the classifier and the code (MIDPOINT_SOURCES) are the same."""
    if inversion_folder is None or not (Path(inversion_folder) / CACHE_KEY).is_file():
        scores = midpoint_scores(G, codes, space, pairs, real_features, classifier)
    else:
        folder = Path(inversion_folder)
        key = {
            "inversion": json.loads((folder / CACHE_KEY).read_text()),
            "space": space,
            "pairs": [pairs[0].tolist(), pairs[1].tolist()],
            "reference_sha256": tensor_sha256(real_features),
            "classifier_sha256": None
            if classifier is None
            else tensor_sha256(torch.cat([value.flatten().float() for value in classifier.state_dict().values()])),
            "code_sha256": source_hash(MIDPOINT_SOURCES),
        }
        scores, _ = cached_value(
            folder / MIDPOINT_SCORES, key, lambda: midpoint_scores(G, codes, space, pairs, real_features, classifier)
        )
    first, second, same_class = pairs
    return [
        {
            "pair": index,
            "image_a": names[a],
            "image_b": names[b],
            "same_class": "" if same is None else same,
            **labels,
            "space": space,
            "realism": scores["realism"][index].item(),
            "confidence": scores["confidence"][index].item() if "confidence" in scores else "",
        }
        for index, (a, b, same) in enumerate(zip(first.tolist(), second.tolist(), same_class))
    ]


@torch.no_grad()
def midpoint_realism(
    G: Generator, codes: torch.Tensor, space: str, real: torch.Tensor, pairs: int | None = None, seed: int = 0
) -> dict:
    """FD-VGG16 of the alpha = 0.5 midpoints of distinct random pairs of codes against real images.

    `real` is images [N, C, H, W] or their `vgg16_features` [N, D] (to compute them once for many
    calls). Also returns the FD-VGG16 of the pairs' first endpoints (reconstructions), as many
    images, so the midpoints' distance can be read relative to it, and both feature sets (for
    bootstrap intervals).
    """
    real_features = real if real.ndim == 2 else vgg16_features(real)
    count = len(codes)
    if count < 2:
        raise ValueError("midpoint realism needs at least 2 codes")
    first, second = distinct_pairs(count, min(pairs or count, count * (count - 1) // 2), seed)
    midpoints = frames(G, codes[first], codes[second], space, [0.5])[0]
    # each reconstruction once: the pairs' first endpoints repeat a few codes many times
    distinct, repeats = first.unique(return_inverse=True)
    endpoint_features = vgg16_features(G.synthesize(codes[distinct], space).clamp(-1, 1))[repeats]
    midpoint_features = vgg16_features(midpoints)
    return {
        "fd_midpoints": frechet_distance(midpoint_features, real_features),
        "fd_endpoints": frechet_distance(endpoint_features, real_features),
        "pairs": len(first),
        "midpoint_features": midpoint_features.cpu(),
        "endpoint_features": endpoint_features.cpu(),
    }


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


def interpolation_measures(
    G: Generator, codes: torch.Tensor, space: str, real: torch.Tensor, pairs: int, seed: int = 0
) -> tuple[dict, torch.Tensor]:
    """Midpoint realism over `pairs` distinct random pairs and path smoothness between consecutive
    codes: a table row, and the midpoints' VGG16 features (for intervals on the realism)."""
    realism = midpoint_realism(G, codes, space, real, pairs=pairs, seed=seed)
    count = len(codes) - len(codes) % 2
    smooth = path_smoothness(G, codes[0:count:2], codes[1:count:2], space)
    features = realism.pop("midpoint_features")
    realism.pop("endpoint_features")
    return {
        **realism,
        "mean_step_lpips": smooth["mean_step"].mean().item(),
        "max_step_lpips": smooth["max_step"].mean().item(),
        "evenness": smooth["evenness"].mean().item(),
    }, features


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

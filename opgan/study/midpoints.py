"""Editability measured: the book's interpolation pairs, each midpoint's realism score and classifier
confidence (cached beside the inversion they come from), and the set-level midpoint measures."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from opgan.interpolate import distinct_pairs, frames, path_smoothness
from opgan.metrics import frechet_distance, realism_scores, vgg16_features
from opgan.networks import Generator
from opgan.study.cache import CACHE_KEY, cached_value, inversion_key, source_hash, tensor_sha256


def class_pairs(names: list[str], pairs: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, list[bool | None]]:
    """The interpolation pairs of a set of test images, the same for every model: half of them (or
    all there are) within one Fashion-MNIST class, as the paper interpolates cat to cat, the rest
    across classes; for images without a class in their name, distinct random pairs (class unknown)."""
    from opgan.study.classifier import class_of

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
MIDPOINT_SOURCES = ("interpolate.py", "networks.py", "metrics.py", "study/classifier.py", "study/midpoints.py")


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
    from opgan.study.classifier import confidence

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
            "inversion": inversion_key(folder),
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
def trajectory_items(
    G: Generator,
    snapshots: dict[int, torch.Tensor],
    steps: int,
    space: str,
    targets: torch.Tensor,
    pairs: tuple[torch.Tensor, torch.Tensor, list[bool | None]],
    real_features: torch.Tensor,
    classifier=None,
    names: list[str] | None = None,
    **labels,
) -> list[dict]:
    """Along one inversion: at each snapshot (steps done -> codes [N, ...]; the end included), one row
    per image with its reconstruction's LPIPS-VGG and PSNR against `targets`, and one per pair with
    its `midpoint_scores`; `labels` are copied into every row."""
    from opgan.invert import reconstruction_metrics

    device = G.mapping.w_avg.device
    names = names or [str(index) for index in range(len(targets))]
    rows = []
    for done, codes in sorted(snapshots.items()):
        codes = codes.to(device)
        at = {"fraction": done / steps, "steps": done}
        metrics = reconstruction_metrics(G.synthesize(codes, space).clamp(-1, 1), targets.to(device), "vgg")
        for index, name in enumerate(names):
            rows.append(
                {
                    **at,
                    "image": name,
                    "pair": "",
                    **labels,
                    "space": space,
                    "lpips": metrics["lpips"][index].item(),
                    "psnr": metrics["psnr"][index].item(),
                    "realism": "",
                    "confidence": "",
                }
            )
        scores = midpoint_scores(G, codes, space, pairs, real_features, classifier)
        for index in range(len(pairs[0])):  # the pair's images: the midpoint rows' `pair`
            rows.append(
                {
                    **at,
                    "image": "",
                    "pair": index,
                    **labels,
                    "space": space,
                    "lpips": "",
                    "psnr": "",
                    "realism": scores["realism"][index].item(),
                    "confidence": scores["confidence"][index].item() if "confidence" in scores else "",
                }
            )
    return rows


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

"""Paired bootstrap confidence intervals and three-valued verdicts.

Every comparison the book draws is an *improvement*: how much better A is than B (positive = A is
better), estimated on the same test images (paired), across training seeds where there are seeds,
with a 95% bootstrap interval.  A claim is then judged against a tolerance quoted with it:

* ``better``  (A improves on B):      agrees if the whole interval is above +tolerance, differs if
  the whole interval is below +tolerance (any improvement is smaller than what matters),
  inconclusive otherwise;
* ``kept``    (A is no worse than B):  agrees if the whole interval is above -tolerance, differs if
  the whole interval is below -tolerance, inconclusive otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import torch

CLAIMS = ("better", "kept")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap interval (`level`, e.g. 0.95)."""

    value: float
    low: float
    high: float
    level: float = 0.95
    images: int = 0
    seeds: int = 1

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_dict(self) -> dict:
        return asdict(self)


def _interval(draws: torch.Tensor, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    low, high = torch.quantile(draws.double(), torch.tensor([tail, 1 - tail], dtype=torch.float64))
    return low.item(), high.item()


def paired_mean(
    improvements: torch.Tensor | Sequence, draws: int = 10_000, level: float = 0.95, seed: int = 0
) -> Estimate:
    """Mean of paired improvements [images] or [seeds, images] with a bootstrap interval.

    With several seeds, each draw resamples the seeds and (independently) the images, and the images
    are the same for every seed (they are the same test images): a two-level bootstrap whose
    interval holds the spread across trainings as well as across images.
    """
    values = torch.as_tensor(improvements, dtype=torch.float64)
    if values.ndim == 1:
        values = values.unsqueeze(0)
    if values.ndim != 2 or values.shape[1] < 2:
        raise ValueError(
            f"paired improvements must be [images] or [seeds, images] with >= 2 images, got {list(values.shape)}"
        )
    if not torch.isfinite(values).all():
        raise ValueError("paired improvements contain NaN or infinity")
    seeds, images = values.shape
    generator = torch.Generator().manual_seed(seed)
    seed_index = torch.randint(seeds, (draws, seeds), generator=generator)
    image_index = torch.randint(images, (draws, images), generator=generator)
    # mean over the drawn seeds of the mean over the drawn images = mean of the drawn cells
    per_seed_image_means = values[:, image_index].mean(dim=2)  # [seeds, draws]
    resampled = per_seed_image_means.gather(0, seed_index.T).mean(dim=0)  # [draws]
    low, high = _interval(resampled, level)
    return Estimate(values.mean().item(), low, high, level, images, seeds)


def bootstrap(
    statistic: Callable[..., float], sizes: Sequence[int], draws: int = 500, level: float = 0.95, seed: int = 0
) -> Estimate:
    """Bootstrap of a statistic of several sets (e.g. a difference of Fréchet distances).

    `statistic(*indices)` receives one index tensor per set (size `sizes[i]`); the point estimate is
    the statistic on the sets as they are.  Sets that are paired (e.g. midpoints of the same pairs
    under two models) should share one index by being one entry of `sizes`.
    """
    generator = torch.Generator().manual_seed(seed)
    value = statistic(*[torch.arange(size) for size in sizes])
    resampled = torch.tensor(
        [statistic(*[torch.randint(size, (size,), generator=generator) for size in sizes]) for _ in range(draws)],
        dtype=torch.float64,
    )
    low, high = _interval(resampled, level)
    return Estimate(float(value), low, high, level, min(sizes), 1)


def verdict(estimate: Estimate, tolerance: float, claim: str = "better") -> str:
    """ "agrees", "differs" or "inconclusive" for an improvement estimate (see the module docstring)."""
    if claim not in CLAIMS:
        raise ValueError(f"claim must be one of {CLAIMS}, got {claim!r}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    bar = tolerance if claim == "better" else -tolerance
    if estimate.low > bar:
        return "agrees"
    if estimate.high < bar:
        return "differs"
    return "inconclusive"


def describe(estimate: Estimate, unit: str = "", digits: int = 3) -> str:
    """'0.012 [0.008, 0.016]' with the unit, for tables and sentences."""
    form = f"{{:.{digits}f}}"
    text = f"{form.format(estimate.value)} [{form.format(estimate.low)}, {form.format(estimate.high)}]"
    return f"{text} {unit}".strip()


def summarize(
    rows: list[dict], by: tuple[str, ...], metrics: tuple[str, ...] = ("psnr", "ssim", "lpips")
) -> list[dict]:
    """Mean and standard deviation of `metrics` per group of `by` columns (groups in first-seen
    order), with the group's size as "images": the descriptive tables beside the claims."""
    import pandas as pd

    def as_tensor(values: pd.Series) -> torch.Tensor:
        return torch.tensor(values.to_numpy(dtype="float64"))

    # torch's float64 reductions, not numpy's pairwise sums: the tables the book has published keep
    # their last digit
    groups = pd.DataFrame(rows).groupby(list(by), sort=False)
    table = groups.size().rename("images").to_frame()
    for metric in metrics:
        table[f"{metric}_mean"] = groups[metric].agg(lambda values: as_tensor(values).mean().item())
        table[f"{metric}_std"] = groups[metric].agg(
            lambda values: as_tensor(values).std().item() if len(values) > 1 else 0.0
        )
    return table.reset_index().to_dict("records")

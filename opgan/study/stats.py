"""Confidence intervals with the training seed as the unit, and the four verdicts.

Every comparison the book draws is an *improvement*: how much better a candidate is than a
baseline (positive = the candidate is better), with a 95% interval.  Where the candidate and the
baseline are different trainings (k = 64 and k = 1 share only their initial weights: z has k rows,
so the random streams part after the first draw), seeds are never paired: the interval compares
seed means (`seed_comparison`), a Welch t-interval whose variance adds the test images' share
(image-clustered, `image_weights`) so that it covers both the spread between trainings and the
choice of images.

A claim is judged by where one 95% interval [L, U] of its improvement lies (positive = the paper's
side is better) against a tolerance t > 0 fixed before looking (`verdict`, `qualifier`); the
verdicts partition the possible intervals:

* ``better`` (the paper's side improves on the other by more than t): ``agrees`` if L > t;
  ``contradicted`` if U < -t; ``no material gain`` if U < t otherwise (qualified "worse" if U < 0,
  "equivalent within ±t" if L > -t); ``inconclusive`` else (qualified "better" if L > 0);
* ``kept`` (no worse by more than t): ``agrees`` if L > -t; ``contradicted`` if U < -t;
  ``inconclusive`` else (every ``agrees`` with U < t is also "equivalent within ±t");
* ``threshold`` (past a fixed bar, the improvement being the distance past it): ``agrees`` if L > 0;
  ``contradicted`` if U < 0; ``inconclusive`` else.

Equivalence uses the same 95% interval (two one-sided tests at 2.5% each).  Each verdict has the
one-sided p-value of the test it passed (`one_sided_p`), and a family of verdicts is corrected
with Holm's step-down procedure (`holm`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import torch

RULES = ("better", "kept", "threshold")
VERDICTS = ("agrees", "contradicted", "no material gain", "inconclusive")
# a claim whose precondition failed (e.g. a treatment that did not take): outside counts and families
NOT_TESTABLE = "not testable at this scale"
DECISIVE = ("agrees", "contradicted", "no material gain")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval (`level`, e.g. 0.95) and how the interval was made."""

    value: float
    low: float
    high: float
    level: float = 0.95
    images: int = 0
    seeds: int = 1  # training seeds per side (the smaller side's)
    method: str = ""  # the interval and its unit of resampling, for the claims table
    baseline: float = math.nan  # the two sides' values the improvement compares (grand means)
    candidate: float = math.nan
    # the interval's working scale ("difference", or "log ratio" for a relative improvement), its
    # standard error on that scale and the t distribution's degrees of freedom: enough to compute a
    # p-value or another interval without reading the method text
    scale: str = "difference"
    se: float = math.nan
    df: float = math.nan

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_dict(self) -> dict:
        return asdict(self)


def _interval(draws: torch.Tensor, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    low, high = torch.quantile(draws.double(), torch.tensor([tail, 1 - tail], dtype=torch.float64))
    return low.item(), high.item()


def _t_quantile(level: float, df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, df))


def paired_mean(
    improvements: torch.Tensor | Sequence, draws: int = 10_000, level: float = 0.95, seed: int = 0
) -> Estimate:
    """Mean of paired improvements [items] with a percentile bootstrap interval over the items: for
    differences measured on the same things (e.g. the same images under two inversion settings of
    one model), never across trainings."""
    values = torch.as_tensor(improvements, dtype=torch.float64)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f"paired improvements must be [items] with >= 2 items, got {list(values.shape)}")
    if not torch.isfinite(values).all():
        raise ValueError("paired improvements contain NaN or infinity")
    generator = torch.Generator().manual_seed(seed)
    resampled = values[torch.randint(len(values), (draws, len(values)), generator=generator)].mean(dim=1)
    low, high = _interval(resampled, level)
    return Estimate(
        values.mean().item(),
        low,
        high,
        level,
        len(values),
        1,
        f"percentile bootstrap over items ({draws} draws)",
        se=resampled.std().item(),
        df=math.inf,
    )


def image_weights(item_images: torch.Tensor, draws: int, seed: int = 0) -> torch.Tensor:
    """Bootstrap weights [draws, items] that resample the *images* the items are made of.

    `item_images` [items, m] names the test images of each item (m = 1: an image's reconstruction;
    m = 2: the two endpoints of an interpolation pair).  Each draw picks the images with replacement
    and weights an item by the product of its images' multiplicities (the pigeonhole bootstrap of
    Owen 2007 for items that share images), so items that share an image move together.
    """
    item_images = torch.as_tensor(item_images, dtype=torch.long)
    if item_images.ndim == 1:
        item_images = item_images.unsqueeze(1)
    images = torch.unique(item_images)
    index = torch.searchsorted(images, item_images)  # [items, m] into 0..len(images)-1
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(images), (draws, len(images)), generator=generator)
    counts = torch.zeros(draws, len(images), dtype=torch.float64).scatter_add_(
        1, picks, torch.ones(draws, len(images), dtype=torch.float64)
    )
    return counts[:, index].prod(dim=2)  # [draws, items]


def _clustered_variance(influence: torch.Tensor, item_images: torch.Tensor | None, draws: int, seed: int) -> float:
    """Variance of the mean of per-item `influence` values when the test images are resampled."""
    if item_images is None:
        return influence.var().item() / len(influence)
    weights = image_weights(item_images, draws, seed)
    totals = weights.sum(dim=1)
    usable = totals > 0  # a draw can miss every item (tiny sets); it carries no mean
    means = (weights[usable] @ influence) / totals[usable]
    return means.var().item()


def seed_comparison(
    baseline: torch.Tensor | Sequence,
    candidate: torch.Tensor | Sequence,
    lower_is_better: bool,
    relative: bool = False,
    item_images: torch.Tensor | None = None,
    level: float = 0.95,
    draws: int = 2000,
    seed: int = 0,
    item_name: str = "test-image",
) -> Estimate:
    """The improvement of `candidate` over `baseline`, values [seeds, items] of two sets of trainings
    measured on the same items (the seeds of the two sides are unrelated: their means are compared).

    The improvement is the difference of the grand means (``relative``: the log of their ratio, so
    that swapping the sides negates it exactly), signed so that positive = the candidate is better.
    Its 95% interval is a Welch t-interval whose variance is the sum of
      - the spread between trainings: the variance of each side's per-seed means over its seeds
        (one seed on a side: that side's share is unmeasured, and the method says so), and
      - the choice of items: the variance of the seed-averaged difference when the test images are
        resampled (`item_images`: the images each item is made of; None: each item its own image),
    with Welch–Satterthwaite degrees of freedom.  A relative improvement's variance is the delta
    method's on the log of the ratio of means; estimate and interval stay on that log scale.
    One item per seed (a set measure, e.g. a kernel distance per model) leaves the seeds alone.
    `item_name` names the items in the method text (e.g. "layer").
    """
    base = torch.as_tensor(baseline, dtype=torch.float64)
    cand = torch.as_tensor(candidate, dtype=torch.float64)
    base, cand = (x.unsqueeze(1) if x.ndim == 1 else x for x in (base, cand))
    if base.ndim != 2 or cand.ndim != 2 or base.shape[1] != cand.shape[1]:
        raise ValueError(
            f"need [seeds, items] on both sides with the same items, got {list(base.shape)}, {list(cand.shape)}"
        )
    if not (torch.isfinite(base).all() and torch.isfinite(cand).all()):
        raise ValueError("the values contain NaN or infinity")
    items = base.shape[1]
    base_mean, cand_mean = base.mean().item(), cand.mean().item()
    if relative and (base_mean <= 0 or cand_mean <= 0):
        raise ValueError(f"a relative improvement needs positive means, got {base_mean:g} and {cand_mean:g}")
    # the statistic on the working scale (difference, or log ratio) and each side's linearization
    scale_base, scale_cand = (base_mean, cand_mean) if relative else (1.0, 1.0)
    components: list[tuple[float, float]] = []  # (variance, degrees of freedom)
    for side, side_scale in ((base, scale_base), (cand, scale_cand)):
        if len(side) > 1:
            components.append(((side.mean(dim=1) / side_scale).var().item() / len(side), len(side) - 1))
    if items > 1:
        influence = cand.mean(dim=0) / scale_cand - base.mean(dim=0) / scale_base
        if item_images is None:
            clusters = items
        else:
            clusters = len(torch.unique(torch.as_tensor(item_images)))
        components.append((_clustered_variance(influence, item_images, draws, seed), clusters - 1))
    variance = sum(v for v, _ in components)
    if not components:
        raise ValueError("one seed and one item per side: no interval can be made")
    # values that do not vary at all (a blind measure) leave nothing uncertain: a zero-width interval
    df = variance**2 / sum(v**2 / d for v, d in components if v > 0) if variance > 0 else math.inf
    half = _t_quantile(level, df) * math.sqrt(variance) if variance > 0 else 0.0
    if relative:  # the log of the ratio of means, signed like the difference
        value = math.log(cand_mean / base_mean)
    else:
        value = cand_mean - base_mean
    if lower_is_better:
        value = -value
    ends = [value - half, value + half]
    item_share = "image-clustered bootstrap variance" if item_images is not None else f"{item_name} variance"
    if min(len(base), len(cand)) > 1:
        method = "Welch t over training seeds (per-seed means)" + (f" + {item_share}" if items > 1 else "")
    else:
        method = f"t with {item_share} only (one training seed on a side: the spread between trainings is unmeasured)"
    method += f", df {df:.1f}"
    return Estimate(
        value,
        ends[0],
        ends[1],
        level,
        items,
        min(len(base), len(cand)),
        method,
        base_mean,
        cand_mean,
        scale="log ratio" if relative else "difference",
        se=math.sqrt(variance),
        df=df,
    )


def paired_log_ratio_change(
    numerator_before: torch.Tensor | Sequence,
    denominator_before: torch.Tensor | Sequence,
    numerator_after: torch.Tensor | Sequence,
    denominator_after: torch.Tensor | Sequence,
    level: float = 0.95,
    item_images: torch.Tensor | None = None,
    draws: int = 2000,
    seed: int = 0,
) -> Estimate:
    """How a ratio of two sides changes between two conditions measured on the same trainings: the
    dose-response trend.  Each argument is [seeds, items] (e.g. LPIPS of the control and of the
    trained model on the same test images, at 150k and at 450k training images), the seeds paired
    across all four (a run continues from one length to the next, the control of a seed is that
    seed's k = 1 run).  Per seed, D_s = log(mean numerator / mean denominator); the estimate is
    the mean over seeds of D_s(after) - D_s(before).

    Its interval is a t-interval whose variance adds the spread of the per-seed changes (the seeds
    are the unit) and the test images' share (the delta method's per-image influence, the same
    images in every cell), with Welch–Satterthwaite degrees of freedom.  Its half width is the
    smallest change this design detects (at 50% power): with 3 seeds about 2.5 standard deviations
    of the per-seed changes.  Items made of several test images (`item_images`, e.g. interpolation
    pairs) have their share from resampling the images, as in `seed_comparison`.  With the two
    "before" cells equal, the estimate is the seed-paired log ratio of the "after" cells."""
    cells = [
        torch.as_tensor(values, dtype=torch.float64)
        for values in (numerator_before, denominator_before, numerator_after, denominator_after)
    ]
    if len({tuple(cell.shape) for cell in cells}) != 1 or cells[0].ndim != 2:
        raise ValueError(f"need four [seeds, items] tensors of one shape, got {[list(c.shape) for c in cells]}")
    if not all(torch.isfinite(cell).all() and (cell > 0).all() for cell in cells):
        raise ValueError("a log ratio needs positive, finite values")
    seeds, items = cells[0].shape
    if seeds < 2:
        raise ValueError("the seeds are the unit: need at least 2 per condition")
    means = [cell.mean(dim=1) for cell in cells]  # [seeds] each
    changes = (means[2] / means[3]).log() - (means[0] / means[1]).log()  # [seeds]
    components = [(changes.var().item() / seeds, seeds - 1)]
    if items > 1:  # d D_s / d x_si = +-1 / (items * mean_s): the images' share, averaged over seeds
        influence = sum(
            sign * (cell / mean.unsqueeze(1)).mean(dim=0) for sign, cell, mean in zip((-1, 1, 1, -1), cells, means)
        )
        if item_images is None:
            components.append((influence.var().item() / items, items - 1))
        else:
            clusters = len(torch.unique(torch.as_tensor(item_images)))
            components.append((_clustered_variance(influence, item_images, draws, seed), clusters - 1))
    variance = sum(v for v, _ in components)
    df = variance**2 / sum(v**2 / d for v, d in components if v > 0) if variance > 0 else math.inf
    half = _t_quantile(level, df) * math.sqrt(variance)
    value = changes.mean().item()
    share = "image-clustered bootstrap variance" if item_images is not None else "test-image variance"
    method = f"t over training seeds paired across conditions (per-seed change of the log ratio) + {share}, df {df:.1f}"
    return Estimate(
        value, value - half, value + half, level, items, seeds, method, scale="log ratio", se=math.sqrt(variance), df=df
    )


def threshold_comparison(
    values: torch.Tensor | Sequence,
    threshold: float,
    lower_is_better: bool,
    level: float = 0.95,
    relative: bool = False,
) -> Estimate:
    """How far the grand mean of `values` [seeds, items] (one set of trainings on the same items) is
    on the good side of a fixed `threshold` (positive = better than it), with the interval of
    `seed_comparison` against a constant: the spread of the per-seed means plus the test images'
    share, Welch–Satterthwaite degrees of freedom (`relative`: the log of the mean over the bar)."""
    measured = torch.as_tensor(values, dtype=torch.float64)
    measured = measured.unsqueeze(1) if measured.ndim == 1 else measured
    constant = torch.full((1, measured.shape[1]), float(threshold), dtype=torch.float64)
    estimate = seed_comparison(constant, measured, lower_is_better=lower_is_better, level=level, relative=relative)
    seeds = len(measured)
    if seeds > 1:
        method = "t over training seeds (per-seed means) + test-image variance, against a fixed threshold"
    else:
        method = "t with test-image variance only, against a fixed threshold (one training seed)"
    return replace(estimate, seeds=seeds, method=f"{method}, {estimate.method.rsplit(', ', 1)[-1]}")


def _check_rule(rule: str, tolerance: float) -> None:
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    # a zero tolerance is a bar at 0 (the threshold rule) or, for "better", a manipulation check that
    # asks for any detectable difference; "kept" within 0 could never agree
    if tolerance < 0 or (tolerance == 0 and rule == "kept"):
        raise ValueError(f"tolerance must be > 0 (>= 0 against a bar or for a check), got {tolerance}")


def verdict(estimate: Estimate, tolerance: float, rule: str = "better") -> str:
    """One of `VERDICTS` for an improvement estimate (see the module docstring)."""
    _check_rule(rule, tolerance)
    low, high = estimate.low, estimate.high
    if rule == "threshold":
        return "agrees" if low > 0 else "contradicted" if high < 0 else "inconclusive"
    if rule == "kept":
        return "agrees" if low > -tolerance else "contradicted" if high < -tolerance else "inconclusive"
    if low > tolerance:
        return "agrees"
    if high < -tolerance:
        return "contradicted"
    if high < tolerance:
        return "no material gain"
    return "inconclusive"


def qualifier(estimate: Estimate, tolerance: float, rule: str = "better") -> str:
    """What the interval says beyond its verdict: "worse" (a better-claim with no material gain
    whose interval lies below 0), "equivalent within ±t" (inside ±tolerance), "better" (an
    inconclusive better-claim whose interval lies above 0), or ''."""
    _check_rule(rule, tolerance)
    low, high = estimate.low, estimate.high
    if rule == "threshold":
        return ""
    found = verdict(estimate, tolerance, rule)
    if rule == "better" and found == "no material gain":
        if high < 0:
            return "worse"
        return "equivalent within ±t" if low > -tolerance else ""
    if rule == "better" and found == "inconclusive":
        return "better" if low > 0 else ""
    if rule == "kept" and found == "agrees" and high < tolerance:
        return "equivalent within ±t"
    return ""


def _t_cdf(value: float, df: float) -> float:
    from scipy.stats import t

    return float(t.cdf(value, df))


def one_sided_p(estimate: Estimate, tolerance: float, rule: str = "better") -> float:
    """The one-sided p-value of the test the verdict of `estimate` passed (its standard error and
    degrees of freedom on the working scale): ``agrees`` tests "improvement > bar", ``contradicted``
    "improvement < -t" (0 against a bar), ``no material gain`` "improvement < t" (an equivalence the
    larger of the p's of "> -t" and "< t"), a kept-claim's ``agrees`` "improvement > -t".  An
    ``inconclusive`` verdict passed none of them: its p is the smallest of those it could have passed
    (above 0.025 by construction), so that it still counts in a family's size."""
    _check_rule(rule, tolerance)
    value, se, df = estimate.value, estimate.se, estimate.df
    if not (math.isfinite(value) and math.isfinite(se) and se > 0):
        return math.nan
    # H0: improvement <= bar, and H0: improvement >= bar
    above = lambda bar: 1 - _t_cdf((value - bar) / se, df)  # noqa: E731
    below = lambda bar: _t_cdf((value - bar) / se, df)  # noqa: E731
    bar = 0.0 if rule == "threshold" else tolerance
    found = verdict(estimate, tolerance, rule)
    if rule == "kept":
        options = {"agrees": above(-tolerance), "contradicted": below(-tolerance)}
    else:
        options = {"agrees": above(bar), "contradicted": below(-bar)}
        if rule == "better":
            options["no material gain"] = below(tolerance)
    if found == "no material gain" and qualifier(estimate, tolerance, rule).startswith("equivalent"):
        return max(above(-tolerance), below(tolerance))
    if found in options:
        return options[found]
    return min(options.values())


def holm(p_values: Sequence[float], alpha: float = 0.025) -> list[bool]:
    """Holm's step-down procedure: which of `p_values` are rejected with the family-wise error rate
    held at `alpha` (NaN never rejected, but counted in the family's size)."""
    order = sorted(range(len(p_values)), key=lambda i: (math.isnan(p_values[i]), p_values[i]))
    rejected = [False] * len(p_values)
    for rank, index in enumerate(order):
        p = p_values[index]
        if math.isnan(p) or p > alpha / (len(p_values) - rank):
            break
        rejected[index] = True
    return rejected


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

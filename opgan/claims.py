"""The paper's claims decided on this build's results: paired improvements, intervals, verdicts.

Each function compares a *candidate* (what the paper says is better, or no worse) with a
*baseline* and returns one row of the claims table: the improvement (positive = the candidate is
better), its 95% bootstrap interval, the tolerance it is judged against and the verdict
(`opgan.stats`).  Reconstruction is compared image by image (the same test images for both sides)
and across training seeds; set measures (Fréchet distances) by resampling the sets.
"""

from __future__ import annotations

from typing import Sequence

import torch

from opgan import stats
from opgan.metrics import frechet_distances

# The smallest improvements that matter, quoted with every verdict.  LPIPS: 0.01 is about a tenth
# of the gap between k = 1 in W and in W+ at this scale; FD: 10% of the baseline's distance.
TOLERANCE = {"lpips": 0.01, "psnr": 0.5, "fd_relative": 0.10, "spectrum_relative": 0.05}
LOWER_IS_BETTER = {"lpips": True, "mse": True, "psnr": False, "ssim": False}


def paired_improvements(baseline: Sequence[list[dict]], candidate: Sequence[list[dict]], metric: str = "lpips") -> torch.Tensor:
    """[seeds, images] improvements of `candidate` over `baseline` (lists of result rows, one list per
    seed), matched by image name; positive = the candidate is better."""
    if len(baseline) != len(candidate) or not baseline:
        raise ValueError(f"need the same number of seeds on both sides, got {len(baseline)} and {len(candidate)}")
    sign = 1.0 if LOWER_IS_BETTER[metric] else -1.0
    improvements = []
    for base_rows, cand_rows in zip(baseline, candidate):
        base = {row["image"]: float(row[metric]) for row in base_rows}
        cand = {row["image"]: float(row[metric]) for row in cand_rows}
        if set(base) != set(cand):
            raise ValueError(f"the two sides inverted different images ({len(set(base) ^ set(cand))} differ)")
        names = sorted(base)
        improvements.append([sign * (base[name] - cand[name]) for name in names])
    return torch.tensor(improvements, dtype=torch.float64)


def row(claim: str, comparison: str, metric: str, kind: str, tolerance: float, estimate: stats.Estimate, space: str = "") -> dict:
    """One row of the claims table."""
    return {
        "claim": claim, "comparison": comparison, "space": space, "metric": metric, "kind": kind,
        "improvement": estimate.value, "ci_low": estimate.low, "ci_high": estimate.high,
        "tolerance": tolerance, "images": estimate.images, "seeds": estimate.seeds,
        "verdict": stats.verdict(estimate, tolerance, kind),
    }


def reconstruction_claim(claim: str, comparison: str, baseline: Sequence[list[dict]], candidate: Sequence[list[dict]],
                         space: str = "", metric: str = "lpips", kind: str = "better", tolerance: float | None = None) -> dict:
    """A claim about reconstruction quality, decided on paired per-image results across seeds."""
    tolerance = TOLERANCE[metric] if tolerance is None else tolerance
    estimate = stats.paired_mean(paired_improvements(baseline, candidate, metric))
    return row(claim, comparison, metric, kind, tolerance, estimate, space)


def fd_claim(claim: str, comparison: str, baseline: Sequence[torch.Tensor], candidate: Sequence[torch.Tensor],
             real: torch.Tensor, space: str = "", kind: str = "kept", tolerance: float | None = None, draws: int = 200) -> dict:
    """A claim about realism: the relative Fréchet-distance improvement (FD_base - FD_cand) / FD_base
    of feature sets (one per seed, same size on both sides: resampled with one index) against
    `real` features, averaged over seeds; the bootstrap resamples the items, the real set and the seeds."""
    tolerance = TOLERANCE["fd_relative"] if tolerance is None else tolerance
    if len(baseline) != len(candidate) or any(len(b) != len(c) for b, c in zip(baseline, candidate)):
        raise ValueError("the two sides need as many seeds and, per seed, as many items")

    def relative(items: torch.Tensor, real_index: torch.Tensor, seeds: torch.Tensor) -> float:
        chosen = seeds.tolist()
        distances = frechet_distances([baseline[s][items] for s in chosen] + [candidate[s][items] for s in chosen], real[real_index])
        base, cand = distances[: len(chosen)], distances[len(chosen):]
        return sum((b - c) / b for b, c in zip(base, cand)) / len(chosen)

    estimate = stats.bootstrap(relative, (len(baseline[0]), len(real), len(baseline)), draws=draws)
    estimate = stats.Estimate(estimate.value, estimate.low, estimate.high, estimate.level, len(baseline[0]), len(baseline))
    return row(claim, comparison, "FD-VGG16 (relative)", kind, tolerance, estimate, space)


def layer_claim(claim: str, comparison: str, baseline: Sequence[float], candidate: Sequence[float], metric: str,
                kind: str = "better", tolerance: float | None = None) -> dict:
    """A claim decided on paired per-layer values where lower is better (e.g. largest / median
    singular value): the relative improvement per layer, bootstrapped over layers."""
    tolerance = TOLERANCE["spectrum_relative"] if tolerance is None else tolerance
    base, cand = torch.tensor(baseline, dtype=torch.float64), torch.tensor(candidate, dtype=torch.float64)
    estimate = stats.paired_mean((base - cand) / base)
    return row(claim, comparison, metric, kind, tolerance, estimate)


def sentence(claim_row: dict) -> str:
    """The row as one sentence: estimate, interval, tolerance and verdict."""
    kind = "better by more than" if claim_row["kind"] == "better" else "no worse by more than"
    where = f" ({claim_row['space']})" if claim_row["space"] else ""
    return (f"{claim_row['claim']}{where} — {claim_row['comparison']}: improvement {claim_row['improvement']:.3f} "
            f"[95% CI {claim_row['ci_low']:.3f}, {claim_row['ci_high']:.3f}] in {claim_row['metric']}, "
            f"judged against '{kind} {claim_row['tolerance']:g}' over {claim_row['images']} items × "
            f"{claim_row['seeds']} seed(s): **{claim_row['verdict']}**.")

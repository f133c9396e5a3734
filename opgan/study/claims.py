"""The paper's claims decided on this build's results: improvements, intervals, verdicts.

Each function compares a *candidate* (what the paper says is better, or no worse) with a
*baseline* and returns one row of the claims table: the improvement (positive = the candidate is
better), its 95% interval and how it was made, the tolerance it is judged against and the verdict
(`opgan.study.stats`).  The two sides are different trainings, so the training seed is the unit: per-seed
means (reconstruction: over the same test images; realism of sets: a kernel distance per seed) are
compared with a Welch t-interval that also carries the test images' share of the uncertainty.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch

from opgan.metrics import kernel_distance, realism_scores
from opgan.study import stats

GROUPS = {
    "paper": "The paper's claims",
    "control": "Manipulation checks and controls",
    "recipe": "Recipe checks",
    "dose": "Scale or mechanism: the mechanism at every training length",
}
RULES = ("better", "kept", "threshold", "descriptive")
ABSTRACT = "abstract, arXiv 2205.06304"
W_PLUS_PLUS = (
    "W++ (Poirier-Ginter & Lalonde, “Robust Unsupervised StyleGAN Image Restoration”, CVPR 2023, arXiv 2302.06733)"
)
WIDENED = "widened"  # kid.csv's variant of the k = 1 models sampled with the largest k's rows
# Tolerances on the log of the ratio of the two sides' means: a ratio of 1.1 either way.
TEN_PERCENT = math.log(1.1)


@dataclass(frozen=True)
class Metric:
    """What a claim is measured in, and the smallest improvement that matters in it."""

    id: str
    label: str  # the claims table's metric column
    name: str  # for readers
    unit: str  # of a difference ("" for a relative improvement)
    relative: bool  # the improvement is the log of the ratio of the sides' means
    lower_is_better: bool
    tolerance: float  # on the improvement's scale (a log ratio for a relative one)
    reason: str  # why that tolerance
    items: str  # what the items of one seed are
    short: str = ""  # tells the rows of a claim decided in several measures apart ("realism")


_REALISM = Metric(
    "realism",
    "midpoint realism score (ratio)",
    "midpoint realism score",
    "",
    True,
    False,
    TEN_PERCENT,
    "a ratio of 1.1 either way, as for every relative measure: fixed before looking",
    "pairs (test images resampled)",
    "realism",
)
METRICS = {
    metric.id: metric
    for metric in (
        Metric(
            "lpips",
            "LPIPS-VGG (ratio)",
            "LPIPS-VGG",
            "",
            True,
            True,
            TEN_PERCENT,
            # benchmarks/rounding.py (tests/test_claims.py holds these numbers to its record)
            "a ratio of 1.1, fixed before looking; the machine alone moves a side's mean LPIPS by up to 6.3% "
            "(one seed's by up to 14%): the same inversions on two processors",
            "test images",
        ),
        Metric(
            "psnr",
            "PSNR (dB)",
            "PSNR",
            "dB",
            False,
            False,
            10 * math.log10(1.1),
            "10% in MSE, fixed before looking; the machine alone moves a side's mean PSNR by up to 0.16 dB "
            "(one seed's by up to 0.68 dB): the same inversions on two processors",
            "test images",
            "PSNR",
        ),
        Metric(
            "kid",
            "KID-VGG16 (ratio)",
            "KID-VGG16",
            "",
            True,
            True,
            TEN_PERCENT,
            "a ratio of 1.1 either way, as for every relative measure: fixed before looking",
            "samples per model",
        ),
        _REALISM,
        # the classifier's confidence in each midpoint: judged exactly like its realism score
        replace(
            _REALISM,
            id="confidence",
            label="midpoint classifier confidence (ratio)",
            name="midpoint classifier confidence",
            short="classifier",
        ),
        # the mean realism score of a model's samples, one value per training seed
        replace(
            _REALISM,
            id="sample_realism",
            label="sample realism score (ratio)",
            name="sample realism score",
            items="samples per model",
            short="realism",
        ),
        Metric(
            "spectrum",
            "largest / median singular value (ratio)",
            "largest / median singular value",
            "",
            True,
            True,
            math.log(1.05),
            "a random Gaussian matrix's ratio varies by about 3% (2.42 ± 0.08)",
            "layers",
        ),
    )
}

# "Near-perfect reconstruction" (the abstract's headline) as bars: PSNR >= 30 dB, the conventional
# bar for a high-quality lossy reconstruction, and LPIPS-VGG <= 0.05, half of the ~0.1 of good
# StyleGAN2 inversions.  Judged for the largest k in W (the paper's model with its latent space
# unchanged after training) at the deciding budget, and for the control beside it.
NEAR_PERFECT = {"psnr": 30.0, "lpips": 0.05}
NEAR_PERFECT_REASONS = {
    "psnr": "the conventional bar of a high-quality lossy reconstruction; set after a 300-step benchmark "
    "had recorded 30.3 dB, so not blind to this scale's results",
    "lpips": "about half of what good StyleGAN2 inversions reach; set beside the PSNR bar",
}


@dataclass(frozen=True)
class Claim:
    """One claim of the claims table, declared once: everything a sentence, a table, a plot or a
    check needs to know about it.  `title`, `short` and the side labels may name ``{k}``,
    ``{k_max}``, ``{regular}`` and ``{reduced}``, filled in per row; `paper` is shown as it is."""

    id: str
    title: str  # the claims table's words
    short: str  # the forest plot's and the protocol table's
    group: str  # a key of GROUPS
    paper: str  # the paper's words and where they stand, or why this reproduction adds the claim
    baseline: str  # the two sides (the candidate is the side the claim says is better, or no worse)
    candidate: str
    metric: str  # the METRICS id it is decided in (reconstruction claims also in PSNR)
    rule: str  # better / kept (stats.verdict) / threshold (against a fixed bar) / descriptive
    contrast: str  # what differs between the sides: k (k = 1 vs the largest k, one space), ...
    anchor: str  # the book page (and section) that decides it
    evidence: str  # that page in words
    family: str = "claims"  # the multiplicity family ('': none, e.g. a manipulation check)
    headline: bool = False  # one of the first page's headline rows


RECONSTRUCTION_PAGE = "02_reconstruction.html#the-deciding-budget"
CLAIMS = {
    claim.id: claim
    for claim in (
        Claim(
            "generation-kept",
            "Generation quality kept",
            "Generation quality kept",
            "paper",
            "Implied: a generator changed by “simple changes to the original StyleGAN architecture” "
            "must still generate well (not a sentence of the abstract)",
            "k = 1",
            "k = {k_max}",
            "kid",
            "kept",
            "k",
            "01_generation.html#sample-quality-per-model",
            "generation page, sample quality",
            headline=True,
        ),
        Claim(
            "path-length-keeps-generation",
            "The paper's path-length regularization keeps generation quality (k = {k})",
            "Path length keeps generation quality (k = {k})",
            "recipe",
            "The authors train with path-length regularization (weight 2, length √k times the mean); "
            "the models here are trained without it",
            "without",
            "sweep's recipe + path length",
            "kid",
            "kept",
            "recipe",
            "01_generation.html#the-recipe-s-ingredients-at-this-scale",
            "generation page, the recipe's ingredients",
        ),
        Claim(
            "reconstruction-improves",
            "Reconstruction improves with k",
            "Reconstruction improves with k",
            "paper",
            "“Our overparameterization increases the available degrees of freedom, which in turn "
            f"facilitates inversion.” ({ABSTRACT})",
            "k = 1",
            "k = {k_max}",
            "lpips",
            "better",
            "k",
            RECONSTRUCTION_PAGE,
            "reconstruction page, the long budget",
            headline=True,
        ),
        Claim(
            "w-beats-w-plus",
            "k = {k_max} in W beats k = 1 in W+",
            "k = {k_max} in W beats k = 1 in W+",
            "paper",
            f"“…without the need for encoders nor for altering the latent space after training” ({ABSTRACT}): "
            "W+ is the latent space altered after training",
            "k = 1 in W+",
            "k = {k_max} in W",
            "lpips",
            "better",
            "k and space",
            RECONSTRUCTION_PAGE,
            "reconstruction page, the long budget",
        ),
        Claim(
            "rows-beat-control",
            "Rows before training beat rows after training (W++) at equal latent size",
            "Rows before training beat rows after (W++)",
            "paper",
            f"“…without the need for encoders nor for altering the latent space after training” ({ABSTRACT}): "
            "the paper's model at the largest k against a k = 1 StyleGAN2 given as many rows only at inversion, in "
            f"W+ the authors' own later {W_PLUS_PLUS}, in W its analogue shared across layers",
            "{control}",
            "trained with {k_max} rows",
            "lpips",
            "better",
            "training",
            "02_reconstruction.html#equal-latent-size",
            "reconstruction page, equal latent size",
            headline=True,
        ),
        Claim(
            "near-perfect",
            "Near-perfect reconstruction",
            "Near-perfect reconstruction",
            "paper",
            f"“We show that this allows us to obtain near-perfect image reconstruction” ({ABSTRACT})",
            "the bar",
            "k = {k_max}",
            "lpips",
            "threshold",
            "bar",
            "02_reconstruction.html#how-the-claims-are-decided",
            "reconstruction page, the claims",
            headline=True,
        ),
        Claim(
            "near-perfect-control",
            "The control's reconstruction against the near-perfect bars",
            "The control against the near-perfect bars",
            "control",
            "Context for the headline: does k = 1 given as many rows only at inversion (W++ in W+) pass the same bars?",
            "the bar",
            "{control}",
            "lpips",
            "threshold",
            "bar",
            "02_reconstruction.html#how-the-claims-are-decided",
            "reconstruction page, the claims",
        ),
        Claim(
            "out-of-domain-improves",
            "Out-of-domain images reconstruct better with k",
            "Out of domain: reconstruction improves with k",
            "paper",
            f"“…working with arbitrary images requires inverting the StyleGAN generator” ({ABSTRACT}); "
            "Figure 1 of the paper: “arbitrary real images”",
            "k = 1",
            "k = {k_max}",
            "lpips",
            "better",
            "k",
            "02_reconstruction.html#out-of-domain-images",
            "reconstruction page, out-of-domain images",
        ),
        Claim(
            "out-of-domain-rows-beat-control",
            "Out of domain, rows before training beat rows after training (W++)",
            "Out of domain: rows before training beat W++",
            "paper",
            "The same claim on the out-of-domain images",
            "{control}",
            "trained with {k_max} rows",
            "lpips",
            "better",
            "training",
            "02_reconstruction.html#out-of-domain-images",
            "reconstruction page, out-of-domain images",
        ),
        Claim(
            "editability-kept",
            "Editability kept: midpoints as realistic",
            "Editability kept",
            "paper",
            "“Our approach also retains editability, which we demonstrate by realistically interpolating "
            f"between images.” ({ABSTRACT})",
            "k = 1",
            "k = {k_max}",
            "realism",
            "kept",
            "k",
            "03_interpolation.html",
            "interpolation page",
            headline=True,
        ),
        Claim(
            "editability-rows-vs-control",
            "Rows before training edit better than rows after training (W++) at equal latent size",
            "Edits: rows before training beat W++",
            "paper",
            "The paper's case for overparameterizing before training: its codes should stay editable where "
            "a latent space altered after training loses editability; the midpoints of the two at equal "
            "latent size",
            "{control}",
            "trained with {k_max} rows",
            "realism",
            "better",
            "training",
            "03_interpolation.html",
            "interpolation page",
            headline=True,
        ),
        Claim(
            "editability-head-to-head",
            "k = {k_max} in W edits better than k = 1 in W+",
            "Edits: k = {k_max} in W beat k = 1 in W+",
            "paper",
            "The paper's head-to-head: its model in W against the latent space altered after training (W+)",
            "k = 1 in W+",
            "k = {k_max} in W",
            "realism",
            "better",
            "k and space",
            "03_interpolation.html",
            "interpolation page",
        ),
        Claim(
            "rows-trained-into-generator",
            "Manipulation check: training with {k_max} rows changed the generator",
            "Check: training with rows changed the generator",
            "control",
            "Not the paper's: samples with the largest k's independent rows from the model trained with them against "
            "k = 1 given as many rows after training; unless the trained model samples better, training with "
            "rows changed nothing that sampling can see",
            "k = 1 given {k_max} rows",
            "trained with {k_max} rows",
            "kid",
            "better",
            "training",
            "01_generation.html#did-training-with-rows-change-the-generator",
            "generation page, training with rows",
            family="",
        ),
        Claim(
            "dose-rows-beat-control",
            "Rows before training beat W++ at equal latent size, trained on {length} images",
            "Rows beat W++ at {length} images",
            "dose",
            "Not the paper's: the mechanism row at each training length of the dose-response design (the "
            "paper's models see ~25M images, these 150k-450k); an effect of short training would show as a "
            "lead of the control that shrinks with length",
            "{control}",
            "trained with {k_max} rows",
            "lpips",
            "better",
            "training",
            "02_reconstruction.html#scale-or-mechanism",
            "reconstruction page, scale or mechanism",
            family="dose",
        ),
        Claim(
            "gamma-rows-beat-control",
            "Rows before training beat W++ at equal latent size, k = {k_max} trained at k = 1's R1 γ",
            "Rows beat W++ at k = 1's R1 γ",
            "dose",
            "Not the paper's: the paper's recipe trains the largest k at 3× k = 1's R1 weight (γ 0.03 against "
            "0.01); the mechanism row again with the largest k trained at γ 0.01 tells the rows from the "
            "regularization",
            "{control}",
            "trained with {k_max} rows at γ 0.01",
            "lpips",
            "better",
            "training",
            "02_reconstruction.html#scale-or-mechanism",
            "reconstruction page, scale or mechanism",
            family="dose",
        ),
        Claim(
            "editability-penalty-detected",
            "Manipulation check: the midpoint measure sees the known loss of editability in W+",
            "Check: the measure sees W+'s editability loss",
            "control",
            "Not the paper's: a measure may decide an editability claim only if it detects the known penalty "
            "of a latent space extended after training, k = 1 in W+ against k = 1 in W "
            "(Tov et al., “Designing an Encoder for StyleGAN Image Manipulation”, SIGGRAPH 2021); any "
            "detectable penalty passes (tolerance 0)",
            "k = 1 in W+",
            "k = 1 in W",
            "realism",
            "better",
            "space",
            "03_interpolation.html#can-the-measures-see-a-known-penalty",
            "interpolation page",
            family="",
        ),
        Claim(
            "affine-tames-spectrum",
            "Reduced affine lr tames the spectrum",
            "Reduced affine lr tames the spectrum",
            "paper",
            "The paper's figure of the affine layers' singular values, trained with the regular and the "
            "reduced (×0.01) learning rate",
            "{regular}",
            "{reduced}",
            "spectrum",
            "better",
            "affine rate",
            "04_affine.html",
            "affine page",
        ),
        Claim(
            "affine-beyond-initialization",
            "Manipulation check: the reduced affine lr moved the spectrum beyond its initialization",
            "Check: reduced affine lr moved the spectrum",
            "control",
            "Were the affine layers trained at all? The reduced rate against the same layers at initialization; "
            "unless this agrees, “tames the spectrum” is not testable at this scale",
            "{initial}",
            "{reduced}",
            "spectrum",
            "better",
            "affine initialization",
            "04_affine.html",
            "affine page",
            family="",
        ),
    )
}


# The claims table's columns that hold text (empty cells stay ''), for reading it back.
TEXT_COLUMNS = (
    "claim",
    "comparison",
    "space",
    "metric",
    "kind",
    "verdict",
    "interval",
    "note",
    "claim_id",
    "short",
    "group",
    "metric_id",
    "subset",
    "baseline",
    "candidate",
    "scale",
    "qualifier",
    "holm",
)


def read_claims(path: str | os.PathLike) -> list[dict]:
    """The rows of a claims table written by a page (``claims-*.csv``, ``claims.csv``)."""
    from opgan.results import read_table

    return read_table(path, text=TEXT_COLUMNS)


def claim_of(row: dict) -> Claim:
    """The record a claims-table row decides."""
    return CLAIMS[row["claim_id"]]


def metric_of(row: dict) -> Metric:
    """The metric a claims-table row is measured in."""
    return METRICS[row["metric_id"]]


def side_labels(claim: Claim, **names: object) -> tuple[str, str]:
    """(baseline, candidate) of `claim` with its placeholders filled in."""
    return claim.baseline.format(**names), claim.candidate.format(**names)


def per_seed_values(sides: Sequence[list[dict]], metric: str, images: list[str]) -> torch.Tensor:
    """[seeds, images] of `metric` from result rows (one list per seed), columns in the order of
    `images`; every seed must have inverted exactly those images."""
    if not sides:
        raise ValueError("need at least one seed of results")
    values = []
    for rows in sides:
        by_image = {row["image"]: float(row[metric]) for row in rows}
        if set(by_image) != set(images):
            raise ValueError(f"the results cover different images ({len(set(by_image) ^ set(images))} differ)")
        values.append([by_image[name] for name in images])
    return torch.tensor(values, dtype=torch.float64)


def control_label(space: str, k_max: int) -> str:
    """The equal-latent-size control's name in `space`: W++ in W+, its shared-across-layers analogue
    in W."""
    if space == "w+":
        return f"W++ (k = 1 given {k_max} rows after training)"
    return f"k = 1 given {k_max} shared rows after training (W++ in W)"


def bar_text(metric: Metric) -> str:
    """The near-perfect bar of `metric` in words: 'LPIPS-VGG ≤ 0.05', 'PSNR ≥ 30 dB'."""
    bar = NEAR_PERFECT[metric.id]
    return f"{metric.name} {'≤' if metric.lower_is_better else '≥'} {bar:g}" + (" dB" if metric.id == "psnr" else "")


def row(
    claim: Claim,
    metric: Metric,
    estimate: stats.Estimate,
    space: str = "",
    subset: str = "",
    names: dict | None = None,
) -> dict:
    """One row of the claims table: `claim` decided in `metric` (in `space`, on a `subset` of the
    items), its placeholders filled from `names`."""
    names = {"k": "", "k_max": "", "regular": "", "reduced": "", "initial": "", **(names or {})}
    if "control" not in names:
        names["control"] = control_label(space, names["k_max"])
    baseline, candidate = side_labels(claim, **names)
    if claim.rule == "threshold":
        comparison, tolerance = f"{candidate}, mean {bar_text(metric)}", 0.0
    else:
        comparison = f"{candidate} vs {baseline}" + (f", {subset} pairs" if subset else "")
        tolerance = metric.tolerance
    kind = claim.rule
    return {
        "claim": claim.title.format(**names),
        "comparison": comparison,
        "space": space,
        "metric": metric.label,
        "kind": kind,
        "baseline_value": estimate.baseline,
        "candidate_value": estimate.candidate,
        "improvement": estimate.value,
        "ci_low": estimate.low,
        "ci_high": estimate.high,
        "tolerance": tolerance,
        "images": estimate.images,
        "seeds": estimate.seeds,
        "verdict": stats.verdict(estimate, tolerance, kind),
        "qualifier": stats.qualifier(estimate, tolerance, kind),
        "p": stats.one_sided_p(estimate, tolerance, kind),
        "holm": "",  # the family-wise correction of the whole table (`family_wise`)
        "interval": estimate.method,
        "claim_id": claim.id,
        "short": claim.short.format(**names),
        "group": claim.group,
        "baseline": baseline,
        "candidate": candidate,
        "metric_id": metric.id,
        "subset": subset,
        "scale": estimate.scale,
        "se": estimate.se,
        "df": estimate.df,
    }


def seed_values(
    baseline: Sequence[list[dict]], candidate: Sequence[list[dict]], metric: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """[seeds, images] of `metric` on each side, columns in one order of the images both inverted."""
    images = sorted(r["image"] for r in baseline[0]) if baseline else []
    return per_seed_values(baseline, metric, images), per_seed_values(candidate, metric, images)


def reconstruction_claim(
    claim_id: str,
    baseline: Sequence[list[dict]],
    candidate: Sequence[list[dict]],
    space: str = "",
    metric: str = "lpips",
    **names: object,
) -> dict:
    """A claim about reconstruction quality: result rows per seed of two sets of trainings on the
    same test images, compared by their seed means (`stats.seed_comparison`)."""
    measured = METRICS[metric]
    base, cand = seed_values(baseline, candidate, metric)
    estimate = stats.seed_comparison(base, cand, lower_is_better=measured.lower_is_better, relative=measured.relative)
    return row(CLAIMS[claim_id], measured, estimate, space, names=names)


def kid_claim(
    claim_id: str, baseline: Sequence[float], candidate: Sequence[float], items: int, **names: object
) -> dict:
    """A claim about realism: the kernel distances (KID, unbiased at any number of images) of each
    side's trainings to the evaluation images, one per training seed; the two sides' seeds are
    unrelated trainings, so their means are compared (`stats.seed_comparison`, as a log ratio)."""
    if not baseline or not candidate:
        raise ValueError("need at least one seed on each side")
    base = torch.tensor(list(baseline), dtype=torch.float64)
    cand = torch.tensor(list(candidate), dtype=torch.float64)
    if base.mean() <= 0 or cand.mean() <= 0:  # a side indistinguishable from the real set: no ratio
        nan = float("nan")
        estimate = stats.Estimate(
            nan,
            nan,
            nan,
            images=items,
            seeds=min(len(base), len(cand)),
            method="none: a mean KID <= 0",
            baseline=base.mean().item(),
            candidate=cand.mean().item(),
            scale="log ratio",
        )
    else:
        estimate = replace(stats.seed_comparison(base, cand, lower_is_better=True, relative=True), images=items)
    return row(CLAIMS[claim_id], METRICS["kid"], estimate, names=names)


def kid_rows(features: dict[tuple[str, int, int], torch.Tensor], real: torch.Tensor) -> list[dict]:
    """KID and mean realism score of each model's sample features to `real`, keyed (recipe variant,
    k, seed) with '' for the sweep's own models: the rows of ``kid.csv``, from which the generation
    claims are decided."""
    return [
        {
            "variant": variant,
            "k": k,
            "seed": seed,
            "kid": kernel_distance(found, real),
            "realism": realism_scores(found, real).mean().item(),
            "samples": len(found),
        }
        for (variant, k, seed), found in features.items()
    ]


def layer_claim(
    claim_id: str, baseline: Sequence[Sequence[float]], candidate: Sequence[Sequence[float]], **names: object
) -> dict:
    """A claim decided on per-layer values [seeds, layers] of each side's trainings where lower is
    better (largest / median singular value): the relative improvement of the grand means, a
    Welch t-interval over the seeds of each side with the layers' share of the variance added."""
    base, cand = torch.tensor(baseline, dtype=torch.float64), torch.tensor(candidate, dtype=torch.float64)
    estimate = stats.seed_comparison(base, cand, lower_is_better=True, relative=True, item_name="layer")
    return row(CLAIMS[claim_id], METRICS["spectrum"], estimate, names=names)


# ------------------------------------------------------------------------------ the paper's claims
# Which comparisons make each claim: decided here once, for the book's pages and for
# scripts/protocol_check.py.  A side is (k, space, control): the model with k rows inverted in
# `space`, or with control=True the k = 1 model given k rows (the equal-latent-size control).

Side = tuple[int, str, bool]


@dataclass(frozen=True)
class Comparison:
    claim_id: str
    space: str
    baseline: Side
    candidate: Side
    k_max: int


def reconstruction_comparisons(k_max: int, spaces: Sequence[str], control: bool) -> list[Comparison]:
    """The reconstruction claims between k = 1 and k_max in `spaces` (with the control's when asked)."""
    found = [
        Comparison("reconstruction-improves", space, (1, space, False), (k_max, space, False), k_max)
        for space in spaces
    ]
    if {"w", "w+"} <= set(spaces):
        found.append(Comparison("w-beats-w-plus", "w vs w+", (1, "w+", False), (k_max, "w", False), k_max))
    if control:
        found += [
            Comparison("rows-beat-control", space, (k_max, space, True), (k_max, space, False), k_max)
            for space in spaces
        ]
    return found


def reconstruction_claims(
    comparisons: Sequence[Comparison], rows_of: Callable[[Side], Sequence[list[dict]]], metric: str = "lpips"
) -> list[dict]:
    """Each comparison decided in `metric` on the result rows `rows_of(side)` gives (a list per seed)."""
    return [
        reconstruction_claim(
            c.claim_id, rows_of(c.baseline), rows_of(c.candidate), c.space, metric=metric, k_max=c.k_max
        )
        for c in comparisons
    ]


def deciding_claims(comparisons: Sequence[Comparison], rows_of: Callable[[Side], Sequence[list[dict]]]) -> list[dict]:
    """Everything one inversion budget decides: the reconstruction comparisons in LPIPS-VGG and in
    PSNR, and the near-perfect bars for k_max in W and for the control beside it (where W and the
    control were inverted)."""
    found = [row for metric in ("lpips", "psnr") for row in reconstruction_claims(comparisons, rows_of, metric)]
    if not comparisons:
        return found
    k_max = comparisons[0].k_max
    sides = {side for c in comparisons for side in (c.baseline, c.candidate)}
    if (k_max, "w", False) in sides:
        found += near_perfect_claims(k_max, rows_of((k_max, "w", False)))
    if (k_max, "w", True) in sides:
        found += near_perfect_claims(k_max, rows_of((k_max, "w", True)), claim_id="near-perfect-control")
    return found


def out_of_domain_claims(
    k_max: int, small: Sequence[list[dict]], large: Sequence[list[dict]], control: Sequence[list[dict]] | None
) -> list[dict]:
    """Out-of-domain reconstruction in W+ (result rows per seed): the smallest k against k_max, and
    the control."""
    found = [reconstruction_claim("out-of-domain-improves", small, large, "w+", k_max=k_max)]
    if control is not None:
        found.append(reconstruction_claim("out-of-domain-rows-beat-control", control, large, "w+", k_max=k_max))
    return found


def near_perfect_claims(
    k_max: int, rows: Sequence[list[dict]], space: str = "w", claim_id: str = "near-perfect"
) -> list[dict]:
    """Is the seed-mean reconstruction of a model in `space` (result rows per seed: k_max, or with
    ``claim_id="near-perfect-control"`` the control) better than each `NEAR_PERFECT` bar?  The
    improvement is the distance past the bar (positive = past it; LPIPS as a log ratio)."""
    images = sorted(r["image"] for r in rows[0])
    found = []
    for metric, bar in NEAR_PERFECT.items():
        measured = METRICS[metric]
        estimate = stats.threshold_comparison(
            per_seed_values(rows, metric, images),
            bar,
            lower_is_better=measured.lower_is_better,
            relative=measured.relative,
        )
        found.append(row(CLAIMS[claim_id], measured, estimate, space, names={"k_max": k_max}))
    return found


def generation_claims(kid: Sequence[dict], ks: Sequence[int], seeds: Sequence[int]) -> list[dict]:
    """Sample quality kept at k_max, and kept with the paper's path length (where at least two of
    its models were trained), decided on `kid_rows`; with the widened k = 1's rows, the manipulation
    check that training with rows changed the generator (KID and mean realism score)."""
    found = _generation_claims(kid, ks, seeds)
    k_max = max(ks)
    widened = {r["seed"]: r for r in kid if r["variant"] == WIDENED and r["k"] == k_max}
    trained = {r["seed"]: r for r in kid if r["variant"] == "" and r["k"] == k_max}
    chosen = [seed for seed in seeds if seed in widened and seed in trained]
    if chosen:
        items = min(r["samples"] for r in kid)
        found.append(
            kid_claim(
                "rows-trained-into-generator",
                [widened[s]["kid"] for s in chosen],
                [trained[s]["kid"] for s in chosen],
                items,
                k_max=k_max,
            )
        )
        if all("realism" in widened[s] for s in chosen):
            estimate = stats.seed_comparison(
                [widened[s]["realism"] for s in chosen],
                [trained[s]["realism"] for s in chosen],
                lower_is_better=False,
                relative=True,
            )
            measured = METRICS["sample_realism"]
            found.append(
                row(
                    CLAIMS["rows-trained-into-generator"],
                    measured,
                    replace(estimate, images=items),
                    names={"k_max": k_max},
                )
            )
    return found


def _generation_claims(kid: Sequence[dict], ks: Sequence[int], seeds: Sequence[int]) -> list[dict]:
    value = {(r["variant"], r["k"], r["seed"]): r["kid"] for r in kid}
    items = min((r["samples"] for r in kid), default=0)
    k_max, found = max(ks), []
    if 1 in ks and k_max > 1:
        found.append(
            kid_claim(
                "generation-kept",
                [value[("", 1, s)] for s in seeds],
                [value[("", k_max, s)] for s in seeds],
                items,
                k_max=k_max,
            )
        )
    for k in sorted({min(ks), k_max}):
        # the seeds of the two sides are unrelated trainings (means are compared), so the variant's
        # seeds need not be the sweep's: every one trained is used
        with_pl = [v for (variant, k_of, _), v in sorted(value.items()) if (variant, k_of) == ("paper", k)]
        if len(with_pl) >= 2:
            found.append(
                kid_claim("path-length-keeps-generation", [value[("", k, s)] for s in seeds], with_pl, items, k=k)
            )
    return found


MIDPOINT_MEASURES = ("realism", "confidence")  # METRICS ids, columns of the midpoint rows


def midpoint_comparisons(k_max: int, spaces: Sequence[str]) -> list[tuple[str, str, tuple, tuple]]:
    """(claim id, space label, baseline, candidate) of the editability claims; a side is (k, trained k,
    space): k = 1 against k_max and the control against k_max in each space, and k_max in W against
    k = 1 in W+ (the paper's head-to-head)."""
    found = []
    for space in spaces:
        found.append(("editability-kept", space, (1, 1, space), (k_max, k_max, space)))
        found.append(("editability-rows-vs-control", space, (k_max, 1, space), (k_max, k_max, space)))
    if {"w", "w+"} <= set(spaces):
        found.append(("editability-head-to-head", "w vs w+", (1, 1, "w+"), (k_max, k_max, "w")))
    return found


def _image_index(table) -> dict[str, int]:
    """Each test image of a table of midpoint items (`midpoints.midpoint_items` rows), numbered."""
    return {name: i for i, name in enumerate(sorted(set(table["image_a"]) | set(table["image_b"])))}


def _item_images(table, index: dict[str, int]) -> torch.Tensor:
    """[pairs, 2]: the two test images of each pair of `table`, in pair order (the clusters that
    `stats` resamples)."""
    items = table.drop_duplicates("pair").sort_values("pair")
    return torch.tensor([[index[a], index[b]] for a, b in zip(items["image_a"], items["image_b"])])


def _side_values(table, side: tuple, measure: str, seeds: Sequence[int]) -> torch.Tensor:
    """[seeds, pairs] of `measure` for one side (k, trained k, space), pairs in pair order."""
    k, trained_k, space = side
    part = table[(table["k"] == k) & (table["trained_k"] == trained_k) & (table["space"] == space)]
    return torch.tensor(
        [part[part["seed"] == seed].sort_values("pair")[measure].astype(float).tolist() for seed in seeds],
        dtype=torch.float64,
    )


def midpoint_claims(
    rows: list[dict],
    k_max: int,
    spaces: Sequence[str],
    seeds: Sequence[int],
    measures: Sequence[str] = MIDPOINT_MEASURES,
) -> list[dict]:
    """Editability decided per item: each midpoint's `measures` (rows of `midpoints.midpoint_items`
    with k, trained_k, seed, space) on the sides of `midpoint_comparisons`, within-class and
    cross-class pairs apart.  Trainings are compared by their seed means; the test images, which
    each appear in several pairs, are resampled as clusters."""
    import pandas as pd

    table = pd.DataFrame(rows)
    index = _image_index(table)
    subsets = {"within-class": True, "cross-class": False} if (table["same_class"] != "").all() else {"all": None}
    found = []
    for claim_id, space, baseline, candidate in midpoint_comparisons(k_max, spaces):
        for subset, same in subsets.items():
            chosen = table if same is None else table[table["same_class"].astype(str) == str(same)]
            item_images = _item_images(chosen, index)
            for measure in measures:
                if (chosen[measure] == "").any():
                    continue
                estimate = stats.seed_comparison(
                    _side_values(chosen, baseline, measure, seeds),
                    _side_values(chosen, candidate, measure, seeds),
                    lower_is_better=False,
                    relative=True,
                    item_images=item_images,
                )
                found.append(row(CLAIMS[claim_id], METRICS[measure], estimate, space, subset, names={"k_max": k_max}))
    return found


def penalty_checks(rows: list[dict], k_max: int, seeds: Sequence[int]) -> list[dict]:
    """Can each midpoint measure see a known penalty?  k = 1 in W+ against k = 1 in W on every pair
    (a latent space extended after training loses editability, Tov et al. 2021): the measure passes
    when its interval lies wholly on W's side of 0 (verdict *agrees* at tolerance 0).  Both sides are
    the same trainings, so the seeds are paired: the mean over seeds of each seed's log ratio, with a
    t-interval over the seeds plus the test images' share (`stats.paired_log_ratio_change`)."""
    import pandas as pd

    table = pd.DataFrame(rows)
    item_images = _item_images(table, _image_index(table))
    found = []
    for measure in MIDPOINT_MEASURES:
        if (table[measure] == "").any():
            continue
        w_plus, w = (_side_values(table, (1, 1, space), measure, seeds) for space in ("w+", "w"))
        estimate = stats.paired_log_ratio_change(w_plus, w_plus, w, w_plus, item_images=item_images)
        estimate = replace(estimate, baseline=w_plus.mean().item(), candidate=w.mean().item())
        metric = replace(METRICS[measure], tolerance=0.0, reason="any detectable penalty: a manipulation check")
        found.append(row(CLAIMS["editability-penalty-detected"], metric, estimate, "w vs w+", "all", {"k_max": k_max}))
    return found


def editability_claims(
    rows: list[dict], k_max: int, spaces: Sequence[str], seeds: Sequence[int]
) -> tuple[list[dict], list[dict]]:
    """The editability claims in the measures that pass their penalty check (`penalty_checks`, where
    W and W+ were both inverted), followed by the checks themselves; and, apart, the same comparisons
    in the measures that fail it: descriptive rows, outside the claims and the family."""
    if not {"w", "w+"} <= set(spaces):
        return midpoint_claims(rows, k_max, spaces, seeds), []
    checks = penalty_checks(rows, k_max, seeds)
    passed = [check["metric_id"] for check in checks if check["verdict"] == "agrees"]
    failed = [check["metric_id"] for check in checks if check["verdict"] != "agrees"]
    descriptive = midpoint_claims(rows, k_max, spaces, seeds, measures=failed) if failed else []
    for entry in descriptive:
        entry.update(kind="descriptive", verdict="", qualifier="", p=math.nan, holm="")
    return midpoint_claims(rows, k_max, spaces, seeds, measures=passed) + checks, descriptive


def affine_claims(spectrum_rows: list[dict], regular: str, reduced: str, initial: str | None = None) -> list[dict]:
    """The reduced affine learning rate against the regular one, on each layer's largest / median
    singular value (rows of `affine.spectrum_summary` with "model" and "seed" labels: every training
    seed of each side); with `initial`, the reduced one also against the layers at initialization:
    a reduced rate that leaves the affines where they started "tames" the spectrum only by not
    training it."""

    def per_seed(label: str) -> list[list[float]]:
        chosen = [r for r in spectrum_rows if r["model"] == label]
        seeds = sorted({r.get("seed", 0) for r in chosen})
        return [[r["largest_over_median"] for r in chosen if r.get("seed", 0) == seed] for seed in seeds]

    names = {"regular": regular, "reduced": reduced, "initial": initial or ""}
    found = [layer_claim("affine-tames-spectrum", per_seed(regular), per_seed(reduced), **names)]
    if initial is not None:
        check = layer_claim("affine-beyond-initialization", per_seed(initial), per_seed(reduced), **names)
        if check["verdict"] != "agrees":  # the treatment did not take: nothing was tamed by training
            found[0] |= {"verdict": stats.NOT_TESTABLE, "qualifier": "", "p": math.nan}
        found.append(check)
    return found


def in_family(row: dict) -> bool:
    """Whether a claims-table row belongs to the multiplicity family: a better, kept or threshold
    rule, a claim with a family (not a manipulation check), and a verdict that could be tested."""
    claim = claim_of(row)
    return bool(claim.family) and claim.rule in stats.RULES and row["verdict"] != stats.NOT_TESTABLE


def family_wise(rows: Sequence[dict], alpha: float = 0.025) -> list[dict]:
    """The rows with their ``holm`` column filled: Holm's correction over every row of each family
    (`in_family`; the claims, the dose-response rows) at one-sided `alpha`, each row's p that of the
    verdict its interval reached.  A decisive verdict reads "survives" or "inconclusive after Holm";
    other rows stay ''."""
    found = [dict(r, holm="") for r in rows]
    families = {claim_of(r).family for r in rows if in_family(r)}
    for family in sorted(families):  # each family corrected on its own (the dose-response rows apart)
        members = [i for i, r in enumerate(rows) if in_family(r) and claim_of(r).family == family]
        rejected = stats.holm([rows[i]["p"] for i in members], alpha)
        for i, survives in zip(members, rejected):
            if found[i]["verdict"] in stats.DECISIVE:
                found[i]["holm"] = "survives" if survives else "inconclusive after Holm"
    return found

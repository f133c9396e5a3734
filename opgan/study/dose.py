"""Scale or mechanism?  The mechanism rows -- the model trained with k_max rows against the control
(k = 1 given as many rows after training, W++ in W+) at the deciding budget -- at every training
length of the dose-response design (`registry.DOSE_LENGTHS`: one run per k and seed, exported on the
way), read from kept runs (`opgan.study.kept`, ``scripts/kept_runs.py --variant images=L``), and the
trend between the shortest and the longest length with the seeds paired across lengths
(`stats.paired_log_ratio_change`).  Their rows are a family of their own, outside the headline counts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from opgan.study import claims, stats
from opgan.study.kept import Run, Side, StaleKeptRun
from opgan.study.registry import DOSE_LENGTHS
from opgan.study.sweep import SweepInversions


def variant_measurer(long, variant: dict):
    """The deciding budget's measurer (`long`, a `reconstruction.LongBudget`) on the models of a
    variant of the sweep (a training length, a recipe), keyed as ``scripts/kept_runs.py --variant``
    keeps their runs."""
    base = long.inversions
    inversions = SweepInversions(base.sweep, base.targets, base.inversion, base.cache, base.batch, variant)
    return dataclasses.replace(long.measurer, inversions=inversions)


def length_text(images: int) -> str:
    """'150k' for 150,000 images."""
    return f"{images // 1000}k"


@dataclass
class DoseResponse:
    """The kept runs of the trained largest k and of the control at every training length, seeds
    paired across lengths (a run continues from one length to the next)."""

    k_max: int
    spaces: list[str]
    lengths: tuple[int, ...]
    seeds: list[int]
    runs: dict[tuple[int, Side], list[Run]] = field(default_factory=dict)  # (length, side) -> runs per seed
    missing: list[str] = field(default_factory=list)  # what could not be read, in words

    @classmethod
    def read(cls, long, spaces: list[str], seeds: list[int], lengths: tuple[int, ...] = DOSE_LENGTHS) -> DoseResponse:
        """Reads the kept runs of each length (the deciding budget of `long`, a
        `reconstruction.LongBudget`, on the dose-response models); a run that is missing, stale or
        whose model is not trained yet is listed in `missing`."""
        sweep = long.page.sweep
        found = cls(sweep.k_max, list(spaces), tuple(lengths), list(seeds))
        for length in lengths:
            measurer = variant_measurer(long, {"images": length})
            for side in found.sides:
                runs = []
                for seed in seeds:
                    if not sweep.path(1 if side[2] else side[0], seed, images=length).is_file():
                        found.missing.append(f"{measurer.name(side, seed)} (model not trained)")
                        continue
                    try:
                        runs.append(measurer.read(side, seed, long.kept))
                    except StaleKeptRun as error:
                        found.missing.append(str(error))
                found.runs[(length, side)] = runs
        return found

    @property
    def sides(self) -> list[Side]:
        return [(self.k_max, space, control) for space in self.spaces for control in (False, True)]

    @property
    def complete(self) -> bool:
        return not self.missing and all(len(runs) == len(self.seeds) for runs in self.runs.values())

    def results(self, length: int, side: Side) -> list[list[dict]]:
        return [run.results for run in self.runs[(length, side)]]

    def claims(self) -> list[dict]:
        """The mechanism rows at every length (LPIPS-VGG and PSNR), family "dose"."""
        found = []
        for length in self.lengths:
            for metric in ("lpips", "psnr"):
                for space in self.spaces:
                    row = claims.reconstruction_claim(
                        "dose-rows-beat-control",
                        self.results(length, (self.k_max, space, True)),
                        self.results(length, (self.k_max, space, False)),
                        space,
                        metric,
                        k_max=self.k_max,
                        length=length_text(length),
                    )
                    found.append({**row, "subset": f"{length_text(length)} images"})
        return found

    def lpips(self, length: int, side: Side) -> torch.Tensor:
        """[seeds, images] LPIPS-VGG of a side at a length."""
        rows = self.results(length, side)
        images = sorted(r["image"] for r in rows[0])
        return claims.per_seed_values(rows, "lpips", images)

    def trend(self, space: str) -> stats.Estimate:
        """The change of D_s = log(control LPIPS / trained LPIPS) from the shortest to the longest
        length, seeds paired (positive: the trained model gains on the control)."""
        first, last = self.lengths[0], self.lengths[-1]
        trained, control = (self.k_max, space, False), (self.k_max, space, True)
        return stats.paired_log_ratio_change(
            self.lpips(first, control), self.lpips(first, trained), self.lpips(last, control), self.lpips(last, trained)
        )

    def points(self) -> list[dict]:
        """D_s(L) per space, length and seed, for the figure (``dose_response.csv``)."""
        found = []
        for space in self.spaces:
            for length in self.lengths:
                control = self.lpips(length, (self.k_max, space, True)).mean(dim=1)
                trained = self.lpips(length, (self.k_max, space, False)).mean(dim=1)
                for seed, value in zip(self.seeds, (control / trained).log().tolist()):
                    found.append({"space": space, "images": length, "seed": seed, "log_control_over_trained": value})
        return found


def detectable_change(per_seed_sd: float, seeds: int, level: float = 0.95) -> float:
    """The smallest change of D this design detects at 50% power: the t-interval's half width for
    `seeds` paired seeds whose per-seed changes spread by `per_seed_sd` (about 2.5 standard
    deviations with 3 seeds), said before the result."""
    return stats._t_quantile(level, seeds - 1) * per_seed_sd / math.sqrt(seeds)


def seed_spread(points: list[dict], space: str, length: int) -> float:
    """The spread (standard deviation) of D_s over the seeds at one length: the per-seed changes'
    spread is about sqrt(2) times it when the lengths are unrelated, less when they are paired."""
    values = [p["log_control_over_trained"] for p in points if p["space"] == space and p["images"] == length]
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


GAMMA_RECIPE = "gamma0.01"  # k_max trained at k = 1's R1 weight (registry.RECIPES)


@dataclass
class GammaCheck:
    """The R1 γ confound: k_max trained at k = 1's γ against the control, decided like the mechanism
    rows, beside the mechanism rows of the sweep's k_max (γ 0.03) on the same seeds and images."""

    rows: list[dict]  # the γ 0.01 rows (LPIPS-VGG and PSNR per space)
    same_seeds: list[dict]  # the γ 0.03 mechanism rows on the same seeds
    missing: list[str]

    @classmethod
    def read(cls, long, spaces: list[str], seeds: list[int]) -> GammaCheck:
        """Reads the kept runs of k_max at γ 0.01 (``scripts/kept_runs.py --variant recipe=gamma0.01
        --sides trained``) and decides them against the deciding runs of the control."""
        sweep = long.page.sweep
        measurer = variant_measurer(long, {"recipe": GAMMA_RECIPE})
        rows, same_seeds, missing = [], [], []
        for space in spaces:
            trained, control = (sweep.k_max, space, False), (sweep.k_max, space, True)
            runs = []
            for seed in seeds:
                if not sweep.path(sweep.k_max, seed, recipe=GAMMA_RECIPE).is_file():
                    missing.append(f"{measurer.name(trained, seed)} (model not trained)")
                    continue
                try:
                    runs.append(measurer.read(trained, seed, long.kept))
                except StaleKeptRun as error:
                    missing.append(str(error))
            if len(runs) < len(seeds):
                continue
            by_seed = lambda side: {run.seed: run.results for run in long.deciding(side)}  # noqa: E731
            controls, base_trained = by_seed(control), by_seed(trained)
            for metric in ("lpips", "psnr"):
                rows.append(
                    claims.reconstruction_claim(
                        "gamma-rows-beat-control",
                        [controls[seed] for seed in seeds],
                        [run.results for run in runs],
                        space,
                        metric,
                        k_max=sweep.k_max,
                    )
                )
                same_seeds.append(
                    claims.reconstruction_claim(
                        "rows-beat-control",
                        [controls[seed] for seed in seeds],
                        [base_trained[seed] for seed in seeds],
                        space,
                        metric,
                        k_max=sweep.k_max,
                    )
                )
        for gamma, base in zip(rows, same_seeds):  # what each row says of the confound, into the claims table
            same = (gamma["verdict"], gamma["qualifier"]) == (base["verdict"], base["qualifier"])
            gamma["note"] = (
                f"{len(seeds)} training seeds; γ 0.03 on the same seeds: {base['verdict']}"
                + (f" ({base['qualifier']})" if base["qualifier"] else "")
                + ("; the γ confound is excluded here" if same else "; the result depends on γ here")
            )
        return cls(rows, same_seeds, missing)

    def excluded(self) -> dict[str, bool]:
        """Per space: whether the confound is excluded (the γ 0.01 row's LPIPS-VGG verdict and
        qualifier equal the γ 0.03 row's on the same seeds)."""
        found = {}
        for gamma, base in zip(self.rows, self.same_seeds):
            if gamma["metric_id"] == "lpips":
                found[gamma["space"]] = (gamma["verdict"], gamma["qualifier"]) == (base["verdict"], base["qualifier"])
        return found


@dataclass
class ScaleOrMechanism:
    """The reconstruction page's answer to "is the control's lead the method or short training?":
    the dose-response rows and trend, and the R1 γ check."""

    long: object  # reconstruction.LongBudget
    spaces: list[str]
    response: DoseResponse
    gamma: GammaCheck

    @classmethod
    def of(cls, long, spaces: list[str], seeds: int) -> ScaleOrMechanism | None:
        """Reads the kept runs of the first `seeds` training seeds; None when the page has no kept
        runs or no dose-response seeds (`seeds` 0)."""
        if not (seeds and long.kept and long.comparisons):
            return None
        chosen = list(range(seeds))
        return cls(long, list(spaces), DoseResponse.read(long, spaces, chosen), GammaCheck.read(long, spaces, chosen))

    @property
    def missing(self) -> list[str]:
        return self.response.missing + self.gamma.missing

    def claims(self) -> list[dict]:
        """The dose-response rows and the γ rows that could be decided (family "dose")."""
        return (self.response.claims() if self.response.complete else []) + self.gamma.rows

    def power(self) -> str:
        """The smallest change of the trend this design detects, said before the result: from the
        spread over seeds of D_s in the sweep's own kept runs (the per-seed changes of unrelated
        lengths spread sqrt(2) times as much; paired runs spread less, so this is the blunt end)."""
        seeds = len(self.response.seeds)
        parts = []
        for space in self.spaces:
            k_max = self.response.k_max
            control, trained = self.long.rows((k_max, space, True)), self.long.rows((k_max, space, False))
            ratios = [
                math.log(np.mean([r["lpips"] for r in c]) / np.mean([r["lpips"] for r in t]))
                for c, t in zip(control, trained)
            ]
            spread = float(np.std(ratios, ddof=1)) * math.sqrt(2)
            parts.append(
                f"in {space.upper()} ±{detectable_change(spread, seeds):.2g} "
                f"(the gap itself: {abs(np.mean(ratios)):.2g})"
            )
        return (
            f"**Said before the result.** With {seeds} training seeds the trend detects a change of the log ratio "
            f"of about {detectable_change(1.0, seeds):.2g} standard deviations of the "
            f"per-seed changes; at the spread of the sweep's own {len(ratios)} seeds that is " + "; ".join(parts) + "."
        )

    def report(self) -> list[str]:
        """The section's sentences (Markdown): the power, the trend per space, the γ check, or what
        is still missing."""
        lines = [self.power()]
        if not self.response.complete:
            lines.append(
                f"**Not decided yet**: {len(self.response.missing)} dose-response runs are not kept "
                f"(`scripts/dose_sweep.sh` trains them, `scripts/kept_runs.py --variant images=L` inverts them), "
                f"e.g. {self.response.missing[0]}."
            )
        else:
            first, last = (length_text(n) for n in (self.response.lengths[0], self.response.lengths[-1]))
            rows = self.response.claims()
            from opgan.study.findings import dose_sentence, verdict_text

            for space in self.spaces:
                final = next(
                    r
                    for r in rows
                    if r["space"] == space and r["metric_id"] == "lpips" and r["subset"].startswith(last)
                )
                text = f"**{space.upper()}**: " + dose_sentence(self.response.trend(space), first, last)
                text += f" At {last} images the mechanism row reads: {verdict_text(final)}."
                if final["verdict"] != "agrees":
                    text += " An effect of short training is not claimed: the longest training does not agree either."
                lines.append(text)
        if self.gamma.rows:
            for space, excluded in self.gamma.excluded().items():
                lines.append(
                    f"**R1 γ, {space.upper()}**: "
                    + (
                        "k_max trained at k = 1's γ reaches the same verdict and qualifier as at γ 0.03 on the same "
                        "seeds: the γ confound is excluded here."
                        if excluded
                        else "the verdict or qualifier changes with γ: **the result depends on γ** here."
                    )
                )
        elif self.gamma.missing:
            lines.append(
                f"**R1 γ**: not decided yet, {len(self.gamma.missing)} runs missing ({self.gamma.missing[0]})."
            )
        return lines


NO_FIGURE = "no dose-response figure yet: its runs are not all kept"


def replication_text(rows: list[dict]) -> str:
    """`sweep_replication` in words: each export's FD-VGG16 against the sweep's range of seeds."""
    if not rows:
        return ""
    parts = []
    for row in rows:
        fd = next(value for key, value in row.items() if key.startswith("FD-VGG16 at"))
        where = "inside" if row["lowest"] <= fd <= row["highest"] else "outside"
        spread = f"{row['lowest']:.1f}–{row['highest']:.1f}, mean {row[SWEEP_MEAN]:.1f} ± {row['sd']:.1f}"
        parts.append(f"k = {row['k']} seed {row['seed']}: {fd:.1f} ({where} the sweep's {spread})")
    new = "; ".join(sorted({row["trained on"] for row in rows}))
    shipped = "; ".join(sorted({device for row in rows for device in row["sweep trained on"].split(", ")}))
    return (
        "**Do the new runs replicate the sweep?** FD-VGG16 of samples at the sweep's length (as `opgan export` "
        f"records it): {'; '.join(parts)}. The new runs were trained on {new}; the sweep's on {shipped}."
    )


def report_text(scale: ScaleOrMechanism | None, sweep=None, seeds: int = 0) -> str:
    """The section's Markdown: `ScaleOrMechanism.report` (or why there is nothing to report), then
    whether the new runs replicate the sweep (`sweep_replication` of the first `seeds` seeds)."""
    if scale is None:
        text = (
            "*Not part of this build: the dose-response design is decided on kept runs of its models (the "
            "parameters `dose_seeds` and `kept`).*"
        )
    else:
        text = "\n\n".join(scale.report())
    replication = replication_text(sweep_replication(sweep, list(range(seeds)))) if sweep and seeds else ""
    return text + (f"\n\n{replication}" if replication else "")


SWEEP_MEAN = "the sweep's seeds: mean"


def sweep_replication(sweep, seeds: list[int], length: int = DOSE_LENGTHS[0]) -> list[dict]:
    """Do the dose-response runs at the sweep's own length replicate the shipped sweep?  The FD-VGG16
    that `opgan export` records (1000 samples against test images 0-999) of each `length` export,
    beside the spread of the sweep's seeds of the same k, and where each was trained; [] when no
    export is there yet."""
    rows = []
    for k in (1, sweep.k_max):
        shipped = [sweep.record(k, seed) for seed in range(8) if sweep.path(k, seed).is_file()]
        values = [r["fd_vgg16_samples_vs_test"] for r in shipped if "fd_vgg16_samples_vs_test" in r]
        for seed in seeds:
            record = sweep.record(k, seed, images=length) if sweep.path(k, seed, images=length).is_file() else {}
            if "fd_vgg16_samples_vs_test" not in record or len(values) < 2:
                continue
            rows.append(
                {
                    "k": k,
                    "seed": seed,
                    f"FD-VGG16 at {length_text(length)} (dose-response run)": record["fd_vgg16_samples_vs_test"],
                    "trained on": record.get("device", ""),
                    SWEEP_MEAN: float(np.mean(values)),
                    "sd": float(np.std(values, ddof=1)),
                    "lowest": min(values),
                    "highest": max(values),
                    "sweep trained on": ", ".join(sorted({r.get("device", "") for r in shipped})),
                }
            )
    return rows

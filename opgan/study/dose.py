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
            base = long.inversions
            inversions = SweepInversions(
                sweep, base.targets, base.inversion, base.cache, base.batch, {"images": length}
            )
            measurer = dataclasses.replace(long.measurer, inversions=inversions, snapshot_seeds=0)
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

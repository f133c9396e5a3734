"""The reconstruction page's measurements: every model's inversions of the test images (the 150-step
sweep), the equal-latent-size control, the out-of-domain set, and the long budget that decides the
reconstruction claims, with the same claims decided at both budgets."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pandas.io.formats.style import Styler

from opgan.data import ImageSet, to_float
from opgan.files import write_csv, write_text
from opgan.results import read_records, read_results, read_table, reconstructions
from opgan.study import claims, findings, plots
from opgan.study.heldout import out_of_domain_images
from opgan.study.kept import Measurer, Run, StaleKeptRun, measurer_for, with_snapshots
from opgan.study.pages import Page
from opgan.study.rebuild import DECIDING_RUNS, write_exact_csv
from opgan.study.stats import summarize
from opgan.study.sweep import ExperimentError, Sweep, SweepInversions

ERROR_GAIN = 4.0  # the deciding budget's error maps: an error of a quarter of the pixel range shows white
Side = claims.Side


def sweep_rows(page: Page, spaces: list[str]) -> list[dict]:
    """The per-image results of every model of the sweep in every space (``reconstruction.csv``)."""
    sweep, rows = page.sweep, []
    for k, seed in sweep.members():
        for space in spaces:
            rows += read_results(page.inversions.folder(k, space, seed), model=sweep.name(k, seed), seed=seed)
    write_csv(page.results / "reconstruction.csv", rows)
    return rows


def control_rows(page: Page, spaces: list[str]) -> list[dict] | None:
    """The control's per-image results at every seed (None without a control)."""
    if not page.control:
        return None
    return [
        row
        for seed in page.sweep.seeds
        for space in spaces
        for row in read_results(page.inversions.folder(page.sweep.k_max, space, seed, control=True), seed=seed)
    ]


def convergence_records(page: Page, spaces: list[str]) -> dict[str, dict[str, torch.Tensor]]:
    """The per-step records of k = 1 and the largest k (seed 0) in every space."""
    ends = sorted({page.sweep.ks[0], page.sweep.k_max})
    return {f"k = {k}, {space}": read_records(page.inversions.folder(k, space)) for k in ends for space in spaces}


def reconstruction_grid(page: Page, spaces: list[str], shown: int) -> dict[str, torch.Tensor]:
    """The first `shown` targets and their reconstructions by every model (seed 0) and the control."""
    sweep, inversions = page.sweep, page.inversions
    grid = {"target": to_float(page.targets.images[:shown])}
    for k in sweep.ks:
        for space in spaces:
            grid[f"k = {k}, {space}"] = reconstructions(sweep.model(k), inversions.folder(k, space))[:shown]
    if page.control:
        for space in spaces:
            folder = inversions.folder(sweep.k_max, space, control=True)
            grid[f"{control_name(space)}, {space}"] = reconstructions(sweep.widened(), folder)[:shown]
    return grid


def control_name(space: str) -> str:
    """The equal-latent-size control as figures and tables name it: W++ in W+ (the authors' later
    method), the control in W (W++'s analogue shared across layers)."""
    return "W++ (the control)" if space == "w+" else "the control"


def equal_size_rows(page: Page, spaces: list[str]) -> list[dict]:
    """The control beside the models trained with 1 and with k_max rows (``equal_size.csv``); empty
    without a control."""
    if not page.control:
        return []
    sweep, inversions, k_max, rows = page.sweep, page.inversions, page.sweep.k_max, []
    for seed in sweep.seeds:
        for space in spaces:
            rows += read_results(
                inversions.folder(k_max, space, seed, control=True),
                model=f"{control_name(space)}: trained k = 1, given {k_max} rows after training",
                seed=seed,
            )
            rows += read_results(
                inversions.folder(1, space, seed), model="trained k = 1, inverted with 1 row", seed=seed
            )
            rows += read_results(
                inversions.folder(k_max, space, seed),
                model=f"trained k = {k_max}, inverted with {k_max} rows",
                seed=seed,
            )
    write_csv(page.results / "equal_size.csv", rows)
    return rows


def out_of_domain_sides(sweep: Sweep) -> dict[str, dict]:
    """The models that invert the out-of-domain set, by label: k = 1, the largest k, and the control
    wherever the sweep has one (whether or not the page compares the control elsewhere)."""
    sides = {f"k = {sweep.ks[0]}": dict(k=sweep.ks[0]), f"k = {sweep.k_max}": dict(k=sweep.k_max)}
    if sweep.has_control:
        sides["the control"] = dict(k=sweep.k_max, control=True)
    return sides


@dataclass
class OutOfDomain:
    """Photos, faces and digits inverted in W+ by k = 1, the largest k and the control at the first
    `seeds` training seeds."""

    page: Page
    images: ImageSet
    seeds: list[int]
    by_side: dict[str, list[list[dict]]] = field(default_factory=dict)  # label -> results per seed

    @classmethod
    def run(cls, page: Page, count: int, seeds: int) -> OutOfDomain:
        """Inverts (or reads back) the set and writes ``out_of_domain.csv``."""
        model = page.sweep.model(page.sweep.ks[0])
        found = cls(
            page, out_of_domain_images(model.cfg.resolution, model.cfg.img_channels, count), page.sweep.seeds[:seeds]
        )
        found.by_side = {
            label: [read_results(found.folder(side, seed), model=label, seed=seed) for seed in found.seeds]
            for label, side in found.sides().items()
        }
        write_csv(page.results / "out_of_domain.csv", found.rows())
        return found

    def sides(self) -> dict[str, dict]:
        return out_of_domain_sides(self.page.sweep)

    def folder(self, side: dict, seed: int = 0) -> Path:
        return self.page.inversions.folder(space="w+", seed=seed, target_set=self.images, label="ood-", **side)

    def rows(self) -> list[dict]:
        return [row for per_seed in self.by_side.values() for rows_of_seed in per_seed for row in rows_of_seed]

    def grid(self, shown: int) -> dict[str, torch.Tensor]:
        """The first `shown` images and their reconstructions by each side (seed 0)."""
        sweep = self.page.sweep
        grid = {"target": to_float(self.images.images[:shown])}
        for label, side in self.sides().items():
            model = sweep.widened() if side.get("control") else sweep.model(side["k"])
            grid[f"{label}, w+"] = reconstructions(model, self.folder(side))[:shown]
        return grid

    def claims(self) -> list[dict]:
        sweep = self.page.sweep
        found = claims.out_of_domain_claims(
            sweep.k_max,
            self.by_side[f"k = {sweep.ks[0]}"],
            self.by_side[f"k = {sweep.k_max}"],
            self.by_side.get("the control"),
        )
        for row in found:
            row["note"] = (
                f"{self.page.inversion.steps}-step inversions of {len(self.images)} images, "
                "a third each photos, faces and digits"
            )
        return found


BUDGET_PARAMETERS = (
    "spaces",
    "check_images",
    "check_steps",
    "check_seeds",
    "control",
    "pairs",
    "fd_images",
    "kept",
    "kept_seeds",
    "compute_kept",
)


@dataclass
class LongBudget:
    """The deciding budget: the first `images` test images inverted again with `steps` steps by the
    claims' sides; the reconstruction and editability claims are decided on it.  The page computes
    the first `seeds` training seeds itself; with `kept` (a folder of kept runs, `opgan.study.kept`)
    the claims rest on the kept runs of the first `kept_seeds` seeds instead, and the page's own runs
    replicate the kept ones.  Without a long budget (images or steps 0) the scale's own protocol
    decides."""

    page: Page
    comparisons: list[claims.Comparison]
    steps: int
    seeds: list[int]
    targets: ImageSet
    inversions: SweepInversions | None = None  # the deciding budget's settings on `targets`, with snapshots
    kept: Path | None = None
    kept_seeds: list[int] = field(default_factory=list)
    compute_kept: bool = False  # compute a missing or stale kept run (else it is an error)
    pairs: int = 0
    fd_images: int = 0
    _measurer: Measurer | None = None
    _runs: dict = field(default_factory=dict)  # (own or kept, side) -> [Run per seed]

    @classmethod
    def of(
        cls,
        page: Page,
        spaces: list[str],
        images: int,
        steps: int,
        seeds: int,
        control: bool,
        pairs: int = 0,
        fd_images: int = 0,
        kept: str = "",
        kept_seeds: int = 0,
        compute_kept: bool = False,
    ) -> LongBudget:
        sweep = page.sweep
        comparisons = claims.reconstruction_comparisons(sweep.k_max, spaces, control) if sweep.has_control else []
        long_budget = bool(images and steps)
        if not long_budget:  # the scale's own protocol decides, on its sweep's inversions
            own = dict(inversions=page.inversions, pairs=pairs, fd_images=fd_images)
            return cls(page, comparisons, 0, sweep.seeds[:seeds], page.targets, **own)
        if kept and kept_seeds < 2:
            raise ExperimentError(f"kept runs decide over training seeds: kept_seeds must be >= 2, got {kept_seeds}")
        targets = page.targets.subset(list(range(min(images, len(page.targets)))))
        config = dataclasses.replace(page.inversion, steps=steps)
        inversions = SweepInversions(sweep, targets, config, page.inversions.cache, page.inversions.batch)
        return cls(
            page,
            comparisons,
            steps,
            sweep.seeds[:seeds],
            targets,
            inversions=with_snapshots(inversions),
            kept=Path(kept) if kept else None,
            kept_seeds=list(range(kept_seeds)) if kept else [],
            compute_kept=compute_kept,
            pairs=pairs,
            fd_images=fd_images,
        )

    @classmethod
    def from_parameters(cls, page: Page, parameters: Mapping[str, Any]) -> LongBudget:
        """`of` with the parameters a notebook declares, taken from its namespace (``globals()``, as
        `pages.page_from`): spaces, check_images, check_steps, check_seeds, control, pairs, fd_images,
        kept, kept_seeds, compute_kept."""
        given = {name: parameters[name] for name in BUDGET_PARAMETERS if name in parameters}
        return cls.of(
            page,
            given["spaces"],
            given["check_images"],
            given["check_steps"],
            given["check_seeds"],
            given.get("control", True),
            given.get("pairs", 0),
            given.get("fd_images", 0),
            given.get("kept", ""),
            given.get("kept_seeds", 0),
            given.get("compute_kept", False),
        )

    @property
    def sides(self) -> list[Side]:
        return sorted({side for c in self.comparisons for side in (c.baseline, c.candidate)})

    @property
    def deciding_seeds(self) -> list[int]:
        """The training seeds the claims rest on: the kept runs', else the page's own."""
        return self.kept_seeds or self.seeds

    @property
    def measurer(self) -> Measurer:
        """How a run is inverted and measured (the pairs, the real reference and the classifier are
        made on first use)."""
        if self._measurer is None:
            self._measurer = measurer_for(
                self.inversions,
                self.pairs,
                self.fd_images,
                self.page.seed,
                snapshot_seeds=len(self.seeds) if self.steps else 0,
                label="check-" if self.steps else "",
            )
        return self._measurer

    def own(self, side: Side) -> list[Run]:
        """The page's own runs of `side` (its first seeds), measured."""
        key = ("own", side)
        if key not in self._runs:
            self._runs[key] = [self.measurer.measure(side, seed) for seed in self.seeds]
        return self._runs[key]

    def kept_runs(self, side: Side) -> list[Run]:
        """The kept runs of `side`; a missing or stale one is computed (`compute_kept`) or an error."""
        key = ("kept", side)
        if key not in self._runs:
            runs = []
            for seed in self.kept_seeds:
                try:
                    runs.append(self.measurer.read(side, seed, self.kept))
                except StaleKeptRun:
                    if not self.compute_kept:
                        raise
                    self.measurer.keep(side, seed, self.kept)
                    runs.append(self.measurer.read(side, seed, self.kept))
            self._runs[key] = runs
        return self._runs[key]

    def deciding(self, side: Side) -> list[Run]:
        """The runs the claims rest on: the kept ones, else the page's own."""
        return self.kept_runs(side) if self.kept else self.own(side)

    def folder(self, side: Side, seed: int) -> Path:
        k, space, control = side
        return self.inversions.folder(k, space, seed, control, label="check-" if self.steps else "")

    def reconstruction_grid(self, shown: int, gain: float = ERROR_GAIN) -> dict[str, torch.Tensor]:
        """The first `shown` test images and, per side (the page's own run of its first seed), their
        reconstructions at this budget and the absolute error, `gain` times brighter (white: an
        error of 1/`gain` of the pixel range or more)."""
        seed = self.seeds[0]
        targets = to_float(self.targets.images[:shown])
        grid = {"target": targets}
        for side in sorted(self.sides, key=lambda side: (side[1], side[2], side[0])):
            rebuilt = reconstructions(self.measurer.model(side, seed), self.folder(side, seed))[:shown].cpu()
            error = ((rebuilt - targets).abs() / 2 * gain).clamp(0, 1) * 2 - 1  # [-1, 1], as images are
            grid[side_name(side)] = rebuilt
            grid[f"{side_name(side)}: error ×{gain:g}"] = error
        return grid

    def plan(self) -> dict[str, float]:
        """The inversions of this budget the page will run (folder name -> image-steps): its own runs
        and, with `compute_kept`, the kept runs not yet kept."""
        if not self.steps:
            return {}
        name, cost = self.inversions.name, len(self.targets) * self.steps
        work = {
            name(k, space, seed, control, "check-"): cost for k, space, control in self.sides for seed in self.seeds
        }
        if self.kept and self.compute_kept:
            naming = Measurer(self.inversions, (), None)  # names only: no pairs or reference needed
            work |= {
                name(k, space, seed, control, "check-"): cost
                for k, space, control in self.sides
                for seed in self.kept_seeds
                if not naming.is_kept((k, space, control), seed, self.kept)
            }
        return work

    def rows(self, side: Side) -> list[list[dict]]:
        """Deciding results of `side` per seed (the scale's protocol's, without a long budget)."""
        if not self.steps:
            return self.short_rows(side)
        return [run.results for run in self.deciding(side)]

    def short_rows(self, side: Side) -> list[list[dict]]:
        return self.page.inversions.rows(*side)

    def write_deciding_runs(self) -> list[Path]:
        """Writes the per-image results of every deciding run (one CSV per side and seed) into the
        page's ``deciding-runs/``, so that every claim of this budget can be rebuilt from committed
        files (`opgan.study.rebuild`); returns the files."""
        folder, written = self.page.results / DECIDING_RUNS, []
        seeds = self.deciding_seeds if self.steps else self.page.sweep.seeds
        steps = self.steps or self.page.inversion.steps
        for side in self.sides:
            for seed, rows in zip(seeds, self.rows(side)):
                name = self.page.inversions.name(*side[:2], seed, side[2])
                path = folder / f"{name}-{steps}steps-{len(rows)}images.csv"
                trained_k = 1 if side[2] else side[0]
                write_exact_csv(path, [{**row, "trained_k": trained_k, "seed": seed} for row in rows])
                written.append(path)
        return written

    def records(self) -> dict[str, dict[str, torch.Tensor]]:
        """Per-step records of each side's own run at the first seed."""
        return {
            (f"{control_name(space)}, {space}" if control else f"k = {k}, {space}"): read_records(
                self.folder((k, space, control), 0)
            )
            for k, space, control in self.sides
        }

    def claims(self) -> list[dict]:
        """The reconstruction claims and the near-perfect bars (`claims.deciding_claims`), decided at
        this budget."""
        if not self.comparisons:
            return []
        found = claims.deciding_claims(self.comparisons, self.rows)
        seeds = f", kept runs of {len(self.kept_seeds)} training seeds" if self.kept else ""
        for row in found:  # what each verdict rests on, into the claims table
            row["note"] = f"{self.steps or self.page.inversion.steps}-step inversions{seeds}"
        return found

    def replicated(self, side: Side) -> list[list[dict]]:
        """The deciding results of `side` with the page's own runs in place of the kept runs of the
        same seeds: what the claims would be decided on had the book kept its own runs."""
        own = {run.seed: run.results for run in self.own(side)}
        return [own.get(run.seed, run.results) for run in self.kept_runs(side)]

    def replication(self) -> list[dict]:
        """The page's own runs against the kept runs of the same seeds, per side and seed: the largest
        difference of an image's LPIPS-VGG (relative) and PSNR (dB), and of the seed means
        (``replication.csv``); [] without kept runs."""
        if not (self.kept and self.steps):
            return []
        found = []
        for side in self.sides:
            kept = {run.seed: run for run in self.kept_runs(side)}
            for run in self.own(side):
                if run.seed not in kept:
                    continue
                ours = {r["image"]: r for r in run.results}
                theirs = {r["image"]: r for r in kept[run.seed].results}
                images = sorted(ours)
                lpips_ratio = [ours[i]["lpips"] / theirs[i]["lpips"] - 1 for i in images]
                psnr_gap = [ours[i]["psnr"] - theirs[i]["psnr"] for i in images]
                mean = lambda rows, m: sum(r[m] for r in rows.values()) / len(rows)  # noqa: E731
                found.append(
                    {
                        "side": side_name(side),
                        "seed": run.seed,
                        "images": len(images),
                        "largest image LPIPS-VGG change (%)": 100 * max(lpips_ratio, key=abs),
                        "largest image PSNR change (dB)": max(psnr_gap, key=abs),
                        "seed-mean LPIPS-VGG change (%)": 100 * (mean(ours, "lpips") / mean(theirs, "lpips") - 1),
                        "seed-mean PSNR change (dB)": mean(ours, "psnr") - mean(theirs, "psnr"),
                        "kept on": kept[run.seed].record.get("processor", ""),
                        "own on": run.record.get("processor", ""),
                    }
                )
        write_csv(self.page.results / "replication.csv", found)
        return found

    def replication_verdicts(self) -> list[str]:
        """The reconstruction claims whose verdict would change had the page's own runs replaced the
        kept runs of their seeds ('claim: verdict → verdict'); [] when none would."""
        if not (self.kept and self.steps and self.comparisons):
            return []
        kept = claims.deciding_claims(self.comparisons, self.rows)
        own = claims.deciding_claims(self.comparisons, self.replicated)
        return [
            f"{findings.label(a, short=True)}: {a['verdict']} → {b['verdict']}"
            for a, b in zip(kept, own)
            if a["verdict"] != b["verdict"]
        ]

    def at_every_budget(self, images: int, paper_protocol: list[dict] | None = None) -> list[dict]:
        """The reconstruction claims (LPIPS-VGG) decided on the 150-step sweep, at the deciding budget
        and, from `paper_protocol` (rows of ``protocol_paper.csv``: the paper's 1000-step protocol on
        kept runs), at 1000 steps, side by side (``protocol_check.csv``): whether a verdict moves with
        the budget.  This replaces a convergence criterion on the loss curves, which read the
        cosine schedule's ramp-down rather than convergence."""
        if not (self.comparisons and self.steps):
            return []
        page = self.page
        short = f"{page.inversion.steps} steps, {len(page.sweep.seeds)} seeds × {images} images"
        deciding = f"{self.steps} steps, {len(self.deciding_seeds)} seeds × {len(self.targets)} images"
        decided = {
            short: claims.reconstruction_claims(self.comparisons, self.short_rows),
            deciding: claims.reconstruction_claims(self.comparisons, self.rows),
        }
        paper = [r for r in paper_protocol or [] if r["comparison"].startswith("paper") and r["metric_id"] == "lpips"]
        if paper:
            key = lambda r: (r["claim_id"], r["space"])  # noqa: E731
            by_key = {key(r): r for r in paper}
            first = next(iter(decided.values()))
            if all(key(r) in by_key for r in first):
                label = f"{paper[0]['steps']} steps (the paper's protocol), {paper[0]['seeds']} seeds × "
                label += f"{paper[0]['images']} images"
                decided[label] = [by_key[key(r)] for r in first]
        check = []
        for index in range(len(self.comparisons)):
            entry = {"claim": findings.label(next(iter(decided.values()))[index], short=True)}
            for budget, found in decided.items():
                entry[f"{budget}: LPIPS-VGG ratio [95% CI]"] = findings.interval(found[index])
                entry[f"{budget}: verdict"] = findings.verdict_text(found[index])
            check.append(entry)
        write_csv(page.results / "protocol_check.csv", check)
        return check


def side_name(side: Side) -> str:
    """A deciding side in words: 'k = 64, w', 'W++ (the control), w+'."""
    k, space, control = side
    return f"{control_name(space)}, {space}" if control else f"k = {k}, {space}"


def budget_agreement(check: list[dict]) -> str:
    """Whether any reconstruction verdict moves with the budget ('' when only one budget ran)."""
    if not check:
        return ""
    budgets = [key.removesuffix(": verdict") for key in check[0] if key.endswith(": verdict")]
    moved = [entry for entry in check if len({entry[f"{b}: verdict"] for b in budgets}) > 1]
    text = f"{len(check) - len(moved)} of {len(check)} verdicts are the same at all {len(budgets)} budgets"
    if not moved:
        return text + ": no verdict moves with the budget."
    return (
        text
        + "; these move: "
        + "; ".join(
            f"{entry['claim']}: " + ", ".join(f"{entry[f'{b}: verdict']} at {b.split(',')[0]}" for b in budgets)
            for entry in moved
        )
        + "."
    )


def paper_protocol_rows(results: Path) -> list[dict]:
    """The claims decided under the paper's inversion protocol on kept runs (``protocol_paper.csv``,
    written by ``scripts/protocol_check.py``), or [] when it has not been run for these results."""
    path = results / "protocol_paper.csv"
    if not path.is_file():
        return []
    return read_table(path, text=(*claims.TEXT_COLUMNS, "seed_list", "code_version", "processor"))


def protocol_placeholder(results: Path) -> None:
    """The section of the paper's protocol says so when `scripts/protocol_check.py` has not written
    ``protocol_paper.md`` (which the page includes) for these results."""
    path = results / "protocol_paper.md"
    if not path.is_file():
        write_text(
            path, "*`scripts/protocol_check.py` has not been run for this book's results: it writes this section.*\n"
        )


# ------------------------------------------------------------------ the page's tables, with their captions


def sweep_table(page: Page, rows: list[dict]) -> Styler:
    return plots.table(
        plots.readable_summary(summarize(rows, ("k", "space", "latent_size", "used_latent_size"))),
        caption=f"Reconstruction quality of every model of the sweep ({page.inversion.steps} steps): "
        "mean ± standard deviation over its test images and training seeds; the images column counts both.",
    )


def equal_size_table(page: Page, rows: list[dict]) -> Styler:
    return plots.table(
        plots.readable_summary(summarize(rows, ("model", "space", "used_latent_size"))),
        caption="Equal latent size: the control against the models trained with 1 and with "
        f"{page.sweep.k_max} rows, mean ± standard deviation over the test images and the training seeds.",
    )


def out_of_domain_table(ood: OutOfDomain) -> Styler:
    return plots.table(
        plots.readable_summary(summarize(ood.rows(), ("model", "space"))),
        caption="Out-of-domain reconstruction in W+: mean ± standard deviation over the images and training seeds.",
    )


def replication_report(long: LongBudget) -> list:
    """What the page shows of the replication check (`LongBudget.replication`): its sentence and its
    table; nothing without kept runs."""
    from IPython.display import Markdown

    replication = long.replication()
    return [Markdown(replication_text(long, replication)), replication_table(replication)] if replication else []


def replication_text(long: LongBudget, replication: list[dict]) -> str:
    """The replication check in words: how far the page's own runs are from the kept runs of the same
    seeds, and whether a verdict would change had its own runs been kept."""
    largest = lambda column: max(abs(r[column]) for r in replication)  # noqa: E731
    seeds = sorted({r["seed"] for r in replication})
    processors = sorted({r["kept on"] for r in replication}), sorted({r["own on"] for r in replication})
    same = processors[0] == processors[1]
    text = (
        f"**Replication.** This page's own runs of training seeds {seeds[0]}–{seeds[-1]} against the kept runs of "
        f"the same seeds ({'both on ' + ', '.join(processors[1]) if same else 'kept on ' + ', '.join(processors[0])}"
        f"{'' if same else ', recomputed on ' + ', '.join(processors[1])}): a seed's mean LPIPS-VGG differs by at "
        f"most {largest('seed-mean LPIPS-VGG change (%)'):.2g}% and its mean PSNR by at most "
        f"{largest('seed-mean PSNR change (dB)'):.2g} dB; one image's LPIPS-VGG by at most "
        f"{largest('largest image LPIPS-VGG change (%)'):.2g}%, its PSNR by at most "
        f"{largest('largest image PSNR change (dB)'):.2g} dB. "
    )
    changed = long.replication_verdicts()
    if not changed:
        return text + "No reconstruction verdict would change had the page's own runs been kept in their place."
    return text + "Had the page's own runs been kept, these verdicts would change: " + "; ".join(changed) + "."


def replication_table(replication: list[dict]) -> Styler:
    return plots.table(
        replication,
        caption="The page's own deciding-budget runs against the kept runs of the same training seeds: the largest "
        "change of one image and the change of the seed mean (own − kept).",
    )


def budget_table(check: list[dict]) -> Styler:
    return plots.table(
        check,
        caption="The reconstruction claims at every budget: the paper's side's LPIPS-VGG as a multiple of the "
        "other's (below 1 = the paper's side better), 95% interval and verdict.",
    )


def plan(page: Page, spaces: list[str], out_of_domain: int, check_seeds: int, long: LongBudget) -> dict:
    """The inversions this page will run (folder name -> image-steps), declared before it starts."""
    sweep, name, steps = page.sweep, page.inversions.name, page.inversion.steps
    images = len(page.targets)
    work = {name(k, space, seed): images * steps for k, seed in sweep.members() for space in spaces}
    if page.control:
        work |= {name(sweep.k_max, space, seed, True): images * steps for seed in sweep.seeds for space in spaces}
    work |= {
        name(side["k"], "w+", seed, side.get("control", False), "ood-"): out_of_domain * steps
        for side in out_of_domain_sides(sweep).values()
        for seed in sweep.seeds[:check_seeds]
    }
    return {"inversions": work | long.plan()}

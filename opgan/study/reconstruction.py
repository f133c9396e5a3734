"""The reconstruction page's measurements: every model's inversions of the test images (the 150-step
sweep), the equal-latent-size control, the out-of-domain set, and the long budget that decides the
reconstruction claims, with the same claims decided at both budgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from pandas.io.formats.style import Styler

from opgan.data import ImageSet, to_float
from opgan.files import write_csv, write_text
from opgan.results import read_records, read_results, read_table, reconstructions
from opgan.study import claims, findings, plots
from opgan.study.heldout import out_of_domain_images
from opgan.study.pages import Page
from opgan.study.rebuild import DECIDING_RUNS, write_exact_csv
from opgan.study.stats import summarize
from opgan.study.sweep import Sweep

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


@dataclass
class LongBudget:
    """The first `images` test images inverted again with `steps` steps by the claims' sides at the
    first `seeds` training seeds; the reconstruction claims are decided on these.  Without a long
    budget (images or steps 0) the scale's own protocol decides."""

    page: Page
    comparisons: list[claims.Comparison]
    steps: int
    seeds: list[int]
    targets: ImageSet

    @classmethod
    def of(cls, page: Page, spaces: list[str], images: int, steps: int, seeds: int, control: bool) -> LongBudget:
        sweep = page.sweep
        comparisons = claims.reconstruction_comparisons(sweep.k_max, spaces, control) if sweep.has_control else []
        long_budget = bool(images and steps)
        targets = page.targets.subset(list(range(min(images, len(page.targets))))) if long_budget else page.targets
        return cls(page, comparisons, steps if long_budget else 0, sweep.seeds[:seeds], targets)

    @property
    def sides(self) -> list[Side]:
        return sorted({side for c in self.comparisons for side in (c.baseline, c.candidate)})

    def folder(self, side: Side, seed: int) -> Path:
        k, space, control = side
        return self.page.inversions.folder(
            k, space, seed, control, target_set=self.targets, label="check-", steps=self.steps
        )

    def rows(self, side: Side) -> list[list[dict]]:
        """Long-budget results of `side` per seed (the scale's protocol's, without a long budget)."""
        if not self.steps:
            return self.short_rows(side)
        return [read_results(self.folder(side, seed)) for seed in self.seeds]

    def short_rows(self, side: Side) -> list[list[dict]]:
        return self.page.inversions.rows(*side)

    def kept(self) -> list[Path]:
        """Writes the per-image results of every deciding run (one CSV per side and seed, named like
        ``scripts/protocol_check.py``'s kept runs) into the page's ``deciding-runs/``, so that every
        claim of this budget can be rebuilt from committed files (`opgan.study.rebuild`); returns
        the files."""
        folder, written = self.page.results / DECIDING_RUNS, []
        seeds = self.seeds if self.steps else self.page.sweep.seeds
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
        """Per-step records of each side's long-budget run at the first seed."""
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
        for row in found:  # what each verdict rests on, into the claims table
            row["note"] = f"{self.steps or self.page.inversion.steps}-step inversions"
        return found

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
        deciding = f"{self.steps} steps, {len(self.seeds)} seeds × {len(self.targets)} images"
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
        "mean ± standard deviation over its test images and training seeds; `images` counts both.",
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


def budget_table(check: list[dict]) -> Styler:
    return plots.table(
        check,
        caption="The reconstruction claims at every budget: the paper's side's LPIPS-VGG as a multiple of the "
        "other's (below 1 = the paper's side better), 95% interval and verdict.",
    )


def plan(page: Page, spaces: list[str], out_of_domain: int, check_seeds: int, check_images: int, check_steps: int):
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
    long = LongBudget.of(page, spaces, check_images, check_steps, check_seeds, page.control)
    if long.steps:
        work |= {
            name(k, space, seed, control, "check-"): len(long.targets) * long.steps
            for k, space, control in long.sides
            for seed in long.seeds
        }
    return {"inversions": work}

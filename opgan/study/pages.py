"""What every experiment page of the book starts and ends with: its models, held-out targets and
cached inversions (set up from the notebook's parameters, checked before any work), the scale's
settings notice, the page's claims written and shown, and its provenance record."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from pandas.io.formats.style import Styler

from opgan.data import ImageSet
from opgan.environment import provenance
from opgan.files import write_json
from opgan.invert import InversionConfig
from opgan.networks import SPACES
from opgan.presets import PRESETS, inversion_config
from opgan.study import cache, plots, progress
from opgan.study.book import scale_notice
from opgan.study.findings import answer
from opgan.study.rebuild import write_exact_csv
from opgan.study.sweep import ExperimentError, Sweep, SweepInversions


@dataclass
class Page:
    notebook: str  # e.g. "02_reconstruction": names its claims and provenance files
    scale: str
    results: Path
    seed: int
    sweep: Sweep
    started: float = field(default_factory=time.perf_counter)
    targets: ImageSet | None = None  # the held-out test images the page inverts
    inversion: InversionConfig | None = None  # the scale's protocol
    inversions: SweepInversions | None = None
    control: bool = False  # the page uses the equal-latent-size control (the sweep has one, and it was asked for)
    cache_use_at_start: dict = field(default_factory=lambda: dict(cache.USE))

    def expect(self, phases: dict[str, dict[str, float]]) -> None:
        """Declares the work the page will do (phase -> piece -> cost) for `opgan book`'s progress line."""
        progress.expect(self.notebook, phases)

    @property
    def notice(self) -> str:
        """Markdown: the scale this page ran at, and a link to the settings table."""
        return scale_notice(self.scale)

    def claims(self, found: list[dict], glue_name: str, note: str = "", after: str = "") -> str:
        """Writes the page's claims (``claims-{notebook}.csv``), each with `note` (the caveat it
        carries into the claims table) unless it has its own, glues their sentences (and `after`, a
        closing Markdown paragraph) as `glue_name` for the book's other pages and returns them to
        show here."""
        from IPython.display import Markdown
        from myst_nb import glue  # the book extra, present wherever notebooks run

        for row in found:
            row.setdefault("note", note)
        write_exact_csv(self.results / f"claims-{self.notebook}.csv", found)
        text = answer(found) + (f"\n\n{after}" if after else "")
        glue(glue_name, Markdown(text), display=False)
        return text

    def finish(self, **extra: Any) -> Styler:
        """Writes ``provenance-{notebook}.json`` (code, packages, device, run time, `extra`) and returns
        it as a table for readers."""
        record = provenance(
            self.sweep.device,
            seed=self.seed,
            run_time=f"{time.perf_counter() - self.started:.0f} s",
            scale=self.scale,
            notebook=self.notebook,
            **extra,
        )
        if self.inversions is not None:
            record["inversions"] = self.inversions.provenance()
        # what this page computed and what it read back from the cache (a page run again computes nothing)
        record["cache"] = {key: cache.USE[key] - self.cache_use_at_start.get(key, 0) for key in cache.USE}
        write_json(self.results / f"provenance-{self.notebook}.json", record)
        return plots.table(pd.Series(record, name="value").to_frame(), index=True)


def open_page(
    notebook: str,
    scale: str,
    ks: Iterable[int],
    seeds: Iterable[int],
    checkpoints: str,
    results: str,
    *,
    seed: int = 0,
    device: str = "auto",
    variants: Iterable[dict] = ({},),
    train: bool = False,
    runs: str = "runs/book",
    fd_images: int = 256,
    data: str = "",
    images: int | None = None,
    spaces: Iterable[str] = (),
    cache: str = "book/_cache",
    control: bool = True,
) -> Page:
    """A page's setup from its parameters: the sweep (its missing models trained first when `train`),
    and with `images` the last held-out test images and their cached inversions in the scale's
    protocol.  Nonsense parameters stop here, naming themselves."""
    unknown = sorted(set(spaces) - set(SPACES))
    if unknown:
        raise ExperimentError(f"spaces must be among {SPACES}, got {unknown}")
    if images is not None and images < 2:
        raise ExperimentError(f"images must be >= 2, got {images}")
    torch.manual_seed(seed)
    sweep = Sweep(scale, ks, seeds, checkpoints, device, variants)
    if train:
        sweep.train_missing(runs, fd_images=fd_images, **({"data": data} if data else {}))
    page = Page(notebook, scale, Path(results), seed, sweep.require(), control=control and sweep.has_control)
    page.results.mkdir(parents=True, exist_ok=True)
    if images is not None:
        page.targets = sweep.held_out(images, part="test")
        page.inversion = inversion_config(scale, seed=seed)
        page.inversions = SweepInversions(sweep, page.targets, page.inversion, cache, PRESETS[scale]["invert_batch"])
    return page


# The notebook parameters a page's setup reads; the others are the page's own (pairs, check_steps, ...).
SETUP_PARAMETERS = (
    "scale",
    "ks",
    "seeds",
    "checkpoints",
    "results",
    "seed",
    "device",
    "train",
    "runs",
    "fd_images",
    "data",
    "images",
    "spaces",
    "cache",
    "control",
)


def page_from(notebook: str, parameters: Mapping[str, Any]) -> Page:
    """`open_page` with the setup parameters a notebook declares, taken from its namespace
    (``page_from("02_reconstruction", globals())`` after the parameters cell): the parameters cell
    stays the one list of what a page runs with, and papermill's values reach the setup unchanged.
    A page comparing two recipe variants declares them as ``base_variant`` and ``variant``."""
    given = {name: parameters[name] for name in SETUP_PARAMETERS if name in parameters}
    if "base_variant" in parameters:
        given["variants"] = (parameters["base_variant"], parameters["variant"])
    return open_page(notebook, **given)

"""The deciding budget's runs, measured once and kept: each run's per-image reconstruction results,
its interpolation pairs' midpoint scores and, for the first seeds, the same along the inversion's
trajectory.

The reconstruction and editability claims rest on more training seeds inverted at the deciding
budget than `make book` can afford, so ``scripts/kept_runs.py`` computes them a run (one side, one
seed) at a time and keeps each run's numbers as small committed files in ``kept-runs/{run}/``:

  results.csv     the inversion's per-image rows (`results.read_results`), with trained_k and seed
  midpoints.csv   each pair's midpoint realism score and classifier confidence (`midpoints.midpoint_items`)
  trajectory.csv  (the snapshot seeds) each image's reconstruction (LPIPS-VGG, PSNR) and each pair's
                  midpoint scores at 25, 50, 75 and 100% of the inversion's steps (snapshots of one
                  run, not shorter runs)
  run.json        what the run was computed from -- the inversion's cache key (model file, target
                  pixels, settings, inversion code), the pairs, the real reference, the classifier
                  and the measuring code -- and with what (code version, processor, seconds); written
                  last, so a folder without it is an unfinished run, computed again.

A page reads them back only while what they were computed from is unchanged (`Measurer.read`
names what changed), and recomputes the first seeds itself: the replication check.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from opgan.data import to_float
from opgan.environment import code_version, processor
from opgan.files import write_json
from opgan.networks import Generator
from opgan.results import TEXT_COLUMNS, read_codes, read_results, read_snapshots, read_table
from opgan.study.cache import source_hash, tensor_sha256
from opgan.study.midpoints import MIDPOINT_SOURCES, midpoint_items, trajectory_items
from opgan.study.rebuild import write_exact_csv
from opgan.study.sweep import ExperimentError, SweepInversions

SNAPSHOTS = (0.25, 0.5, 0.75)  # fractions of the deciding budget's steps kept along each run (and its end)
KEPT_RUNS = "kept-runs"
RUN_RECORD = "run.json"
# The modules whose code turns an inversion into a kept run's numbers (the inversion's own code is in
# its cache key); this module only files them.
MEASURE_SOURCES = MIDPOINT_SOURCES
MIDPOINT_TEXT = ("image_a", "image_b", "same_class", "model", "space")

Side = tuple[int, str, bool]  # (k, space, control): the control is k = 1 given k rows after training


class StaleKeptRun(ExperimentError):
    """A kept run computed from other code, models, images or settings than the page's."""


@dataclass
class Run:
    """One side at one training seed at the deciding budget: its numbers and their record."""

    side: Side
    seed: int
    results: list[dict]  # per image
    midpoints: list[dict]  # per pair
    trajectory: list[dict]  # per snapshot and image or pair ([] beyond the snapshot seeds)
    record: dict

    @property
    def trained_k(self) -> int:
        return 1 if self.side[2] else self.side[0]


def pairs_sha256(pairs: tuple) -> str:
    first, second, same = pairs
    return hashlib.sha256(json.dumps([first.tolist(), second.tolist(), same]).encode()).hexdigest()


def classifier_sha256(classifier) -> str | None:
    if classifier is None:
        return None
    return tensor_sha256(torch.cat([value.flatten().float() for value in classifier.state_dict().values()]))


def _differences(stored, expected, prefix: str = "") -> list[str]:
    """The keys whose values differ between two records (nested keys joined with '.')."""
    if isinstance(stored, dict) and isinstance(expected, dict):
        found = []
        for key in sorted(set(stored) | set(expected)):
            found += _differences(stored.get(key), expected.get(key), f"{prefix}{key}.")
        return found
    return [] if stored == expected else [prefix.rstrip(".")]


@dataclass
class Measurer:
    """How a run is made and measured: the inversions (the deciding budget's settings, with snapshots,
    on the page's targets), the interpolation pairs, the real reference of the realism score, the
    classifier (None: no confidence) and the seeds whose trajectory is kept."""

    inversions: SweepInversions
    pairs: tuple
    real: torch.Tensor
    classifier: object = None
    snapshot_seeds: int = 3
    reference: dict = dataclasses.field(default_factory=dict)  # what `real` is made of (`reference_of`)
    label: str = "check-"  # of the inversions' cache folders ("": the scale's own protocol's, shared with its sweep)

    @property
    def steps(self) -> int:
        return self.inversions.inversion.steps

    def model(self, side: Side, seed: int) -> Generator:
        k, _, control = side
        sweep, variant = self.inversions.sweep, self.inversions.variant
        return sweep.widened(seed, **variant) if control else sweep.model(k, seed, **variant)

    def name(self, side: Side, seed: int) -> str:
        """The run's folder name: model, space, steps and images ('cpu-k1-seed3-as-k64-w+-600steps-32images')."""
        k, space, control = side
        return f"{self.inversions.name(k, space, seed, control)}-{self.steps}steps-{len(self.inversions.targets)}images"

    def _model_name(self, side: Side, seed: int) -> str:
        k, space, control = side
        return self.inversions.name(k, space, seed, control).removesuffix(f"-{space}")

    def folder(self, side: Side, seed: int) -> Path:
        """The run's inversion (cached; computed when missing)."""
        k, space, control = side
        return self.inversions.folder(k, space, seed, control, label=self.label)

    def key(self, side: Side, seed: int) -> dict:
        """What the run is computed from (kept in its record, compared on reading)."""
        k, space, control = side
        return {
            "inversion": self.inversions.key(k, space, seed, control),
            "pairs_sha256": pairs_sha256(self.pairs),
            # the real images, not their features: features differ in the last bits between processors
            "reference": self.reference,
            "classifier_sha256": classifier_sha256(self.classifier),
            "measure_sha256": source_hash(MEASURE_SOURCES),
            "snapshots": seed < self.snapshot_seeds,
        }

    def measure(self, side: Side, seed: int) -> Run:
        """Inverts (or reads back from the cache) and measures one run."""
        k, space, control = side
        start = time.perf_counter()
        folder = self.folder(side, seed)
        labels = {"k": k, "trained_k": 1 if control else k, "seed": seed}
        results = [{**row, **labels} for row in read_results(folder)]
        G, names = self.model(side, seed), self.inversions.targets.names
        device = G.mapping.w_avg.device
        model_name = self._model_name(side, seed)
        codes = read_codes(folder).to(device)
        midpoints = midpoint_items(
            G, codes, space, self.pairs, names, self.real, self.classifier,
            inversion_folder=folder, model=model_name, **labels,
        )  # fmt: skip
        trajectory = []
        if seed < self.snapshot_seeds:
            snapshots = read_snapshots(folder)
            if not snapshots:
                raise ExperimentError(f"{folder} holds no snapshots: its settings asked for none")
            snapshots[self.steps] = codes.cpu()
            targets = to_float(self.inversions.targets.images)
            trajectory = trajectory_items(
                G, snapshots, self.steps, space, targets, self.pairs, self.real, self.classifier, names, **labels
            )
        record = {
            "side": list(side),
            "seed": seed,
            "key": self.key(side, seed),
            "code_version": code_version(),
            "processor": processor()[0],
            "device": str(device),
            "inversion_seconds": sum(row["seconds"] for row in results),
            "seconds": time.perf_counter() - start,
        }
        return Run(side, seed, results, midpoints, trajectory, record)

    # ------------------------------------------------------------------ kept on disk

    def keep(self, side: Side, seed: int, kept: str | Path) -> Path:
        """Measures the run and writes it into ``kept/{name}/`` (its record last); returns the folder."""
        folder = Path(kept) / self.name(side, seed)
        (folder / RUN_RECORD).unlink(missing_ok=True)  # unfinished until the record is back
        run = self.measure(side, seed)
        folder.mkdir(parents=True, exist_ok=True)
        write_exact_csv(folder / "results.csv", run.results)
        write_exact_csv(folder / "midpoints.csv", run.midpoints)
        if run.trajectory:
            write_exact_csv(folder / "trajectory.csv", run.trajectory)
        else:
            (folder / "trajectory.csv").unlink(missing_ok=True)
        write_json(folder / RUN_RECORD, run.record)
        return folder

    def is_kept(self, side: Side, seed: int, kept: str | Path) -> bool:
        """Whether a finished run is kept for this side and seed (whatever it was computed from)."""
        return (Path(kept) / self.name(side, seed) / RUN_RECORD).is_file()

    def read(self, side: Side, seed: int, kept: str | Path) -> Run:
        """The kept run of `side` at `seed`; StaleKeptRun when it is missing or unfinished, or was
        computed from anything other than what this measurer would compute it from."""
        folder = Path(kept) / self.name(side, seed)
        if not (folder / RUN_RECORD).is_file():
            raise StaleKeptRun(
                f"no finished kept run in {folder}: compute the missing ones with "
                f"`.venv/bin/python scripts/kept_runs.py --kept {kept}` (a run at a time, resumable)"
            )
        record = json.loads((folder / RUN_RECORD).read_text())
        changed = _differences(record.get("key"), json.loads(json.dumps(self.key(side, seed))))
        if changed:
            raise StaleKeptRun(
                f"the kept run {folder} was computed from other inputs or code ({', '.join(changed)} changed; "
                f"it was kept at {record.get('code_version')}): compute it again with "
                f"`.venv/bin/python scripts/kept_runs.py --kept {kept} --again {folder.name}`"
            )
        # a row's side and seed are the run's (its folder's), whatever the row says: the flip check
        # swaps the files of two runs and expects each to be read as the other's
        k, space, control = side
        labels = {"k": k, "trained_k": 1 if control else k, "seed": seed, "space": space}
        model = {"model": self._model_name(side, seed)}
        trajectory = folder / "trajectory.csv"
        return Run(
            side,
            seed,
            [{**row, **labels} for row in read_table(folder / "results.csv", text=TEXT_COLUMNS)],
            [{**row, **model, **labels} for row in read_table(folder / "midpoints.csv", text=MIDPOINT_TEXT)],
            [{**row, **labels} for row in read_table(trajectory, text=("image", "space"))]
            if trajectory.is_file()
            else [],
            record,
        )

    def forget(self, side: Side, seed: int, kept: str | Path) -> None:
        """Removes a kept run (to compute it again)."""
        shutil.rmtree(Path(kept) / self.name(side, seed), ignore_errors=True)


def survey(measurer: Measurer, runs: list[tuple[Side, int]], kept: str | Path) -> dict[str, list]:
    """Which of `runs` (side, seed) are kept and usable, kept but stale (with why), or missing (never
    finished: an interrupted run counts as missing and is computed again)."""
    found: dict[str, list] = {"kept": [], "stale": [], "missing": []}
    for side, seed in runs:
        try:
            measurer.read(side, seed, kept)
            found["kept"].append((side, seed))
        except StaleKeptRun as error:
            if measurer.is_kept(side, seed, kept):
                found["stale"].append((side, seed, str(error)))
            else:
                found["missing"].append((side, seed))
    return found


def reference_of(sweep, count: int) -> dict:
    """The real reference of the realism score in a kept run's key: the evaluation images themselves."""
    images = sweep.held_out(count, part="evaluation")
    return {"images": images.source, "count": len(images), "images_sha256": tensor_sha256(images.images)}


def measurer_for(
    inversions: SweepInversions, pairs: int, fd_images: int, seed: int, snapshot_seeds: int, label: str = "check-"
) -> Measurer:
    """The measurer of the deciding runs of `inversions`' targets: `pairs` interpolation pairs
    (`midpoints.class_pairs` with `seed`), `fd_images` evaluation images as the real reference, and
    the Fashion-MNIST classifier where every target has a class."""
    from opgan.study.classifier import class_of, load_classifier
    from opgan.study.generation import evaluation_features
    from opgan.study.midpoints import class_pairs

    sweep, names = inversions.sweep, inversions.targets.names
    if pairs < 1 or fd_images < 4:
        raise ExperimentError(
            f"measuring the deciding runs needs pairs >= 1 and fd_images >= 4, got {pairs}, {fd_images}"
        )
    classifier = load_classifier(device=sweep.device) if all(class_of(name) for name in names) else None
    return Measurer(
        inversions,
        class_pairs(names, pairs, seed),
        evaluation_features(sweep, fd_images),
        classifier,
        snapshot_seeds,
        reference_of(sweep, fd_images),
        label,
    )


def with_snapshots(inversions: SweepInversions) -> SweepInversions:
    """The same inversions with the trajectory snapshots kept (the codes do not change)."""
    config = dataclasses.replace(inversions.inversion, snapshots=SNAPSHOTS)
    return SweepInversions(
        inversions.sweep, inversions.targets, config, inversions.cache, inversions.batch, inversions.variant
    )

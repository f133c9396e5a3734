"""The trained models a book page uses (a *sweep*): which ones, where they live, loading them once,
training the missing ones on request, exporting a trained one with its provenance, and their cached
inversions.

A sweep's models differ in k (style rows per layer), training seed and recipe variant; each is a
`registry.ModelSpec`, stored as ``{checkpoints}/{spec.name}.pt``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from opgan.checkpoint import CheckpointError, export_generator, load_generator, read_checkpoint
from opgan.data import ImageSet, to_float
from opgan.diagnostics import distance_from_init, initial_generator
from opgan.environment import pick_device
from opgan.errors import ConfigError, OpganError
from opgan.files import write_json, write_text
from opgan.invert import InversionConfig
from opgan.metrics import fd_vgg16, vgg16_features
from opgan.networks import Generator, ModelConfig
from opgan.presets import PRESETS
from opgan.results import read_results
from opgan.study.cache import cached_inversion, cached_value, file_sha256, inversion_cache_key, source_hash
from opgan.study.heldout import held_out_images
from opgan.study.registry import ABLATION_MODELS, RECIPE_LABELS, ModelSpec
from opgan.train import train

SCALES = tuple(PRESETS)
# The package modules whose code makes a model's samples and their features: a change to any of
# them makes every cached sample feature stale.
SAMPLE_SOURCES = ("networks.py", "metrics.py")


class ExperimentError(ConfigError):
    """A notebook parameter that makes no sense; raised in the notebook's first cells."""


class TrainingInterrupted(OpganError, RuntimeError):
    """A training run stopped before its end (Ctrl-C, SIGTERM); running again resumes it."""


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The repository root (the folder of the reproduction's ``_config.yml`` beside ``notebooks/``)
    at or above `start` (default: the working directory), so that a notebook opened from
    ``notebooks/`` or ``book/`` can use the repository's relative paths; `start` when none."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return here


def check_parameters(scale: str, ks: Iterable[int]) -> list[int]:
    """Validates a notebook's scale and k values before any work; returns the k values, sorted.
    Each k must be usable by the scale's layer widths."""
    if scale not in SCALES:
        raise ExperimentError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    ks = sorted(set(int(k) for k in ks))
    if not ks:
        raise ExperimentError("no k values given")
    base = PRESETS[scale]["model"]
    for k in ks:
        try:
            ModelConfig(**{**base, "k": k})
        except ValueError as error:
            raise ExperimentError(f"k={k} cannot be used at the {scale} scale: {error}") from None
    return ks


def train_model(
    spec: ModelSpec, target: str | os.PathLike, runs: str | os.PathLike, fd_images: int = 256, **overrides: Any
) -> Path:
    """Trains (or resumes) `spec` with the project's trainer in ``runs/{spec.name}`` and exports it
    to `target`; `overrides` replace training options (e.g. ``data``)."""
    run_dir = Path(runs) / spec.name
    summary = train(spec.config(**overrides), run_dir, resume=(run_dir / "checkpoint.pt").is_file())
    if not summary["finished"]:
        raise TrainingInterrupted(f"training of {spec.name} was interrupted; run again to resume")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    export_model(run_dir / "checkpoint.pt", target, fd_images)
    return Path(target)


def with_rows(G: Generator, k: int) -> Generator:
    """The same trained weights driven by a k-row style matrix per layer.

    No weight depends on k (every row goes through the same mapping and affine layers), so a model
    trained with k = 1 can be inverted with as many free values as an overparameterized one: the
    equal-latent-size control that isolates what *training* with more rows changes.
    """
    widened = Generator(dataclasses.replace(G.cfg, k=k)).to(G.mapping.w_avg.device)
    widened.load_state_dict(G.state_dict())
    return widened.eval().requires_grad_(False)


class Sweep:
    """The trained models a page uses: every k at seed 0, and k = 1 and the largest k at every seed,
    each in every recipe variant of `variants` (dicts of `ModelSpec` fields: recipe, affine_lr_mul).

    The constructor validates the parameters (scale, k values, seeds) before any work, so a nonsense
    parameter stops a notebook in its first cell with a message that names it; `train_missing`
    trains what is not on disk, `require` names what is still missing.
    """

    def __init__(
        self,
        scale: str,
        ks: Iterable[int],
        seeds: Iterable[int],
        checkpoints: str | os.PathLike,
        device: str = "auto",
        variants: Iterable[dict] = ({},),
    ) -> None:
        self.scale, self.checkpoints = scale, Path(checkpoints)
        self.seeds = sorted(set(int(seed) for seed in seeds)) or [0]
        if self.seeds[0] != 0 or any(seed < 0 for seed in self.seeds):
            raise ExperimentError(f"seeds must start at 0 (the sweep's main models), got {self.seeds}")
        self.ks = check_parameters(scale, ks)
        try:
            self.variants = [dict(variant) for variant in variants]
            self.specs = [self.spec(k, seed, **variant) for k, seed in self.members() for variant in self.variants]
        except (TypeError, ConfigError) as error:
            raise ExperimentError(
                f"variants must be dicts of recipe / affine_lr_mul, got {list(variants)}: {error}"
            ) from None
        try:
            self.device = pick_device(device)
        except ConfigError as error:
            raise ExperimentError(str(error)) from None
        self._models: dict[tuple, Generator] = {}

    def missing(self) -> list[ModelSpec]:
        return [spec for spec in self.specs if not self.file(spec).is_file()]

    def train_missing(
        self, runs: str | os.PathLike = "runs/book", fd_images: int = 256, **overrides: Any
    ) -> list[Path]:
        """Trains (or resumes) and exports every model of the sweep that is not on disk."""
        return [train_model(spec, self.file(spec), runs, fd_images, **overrides) for spec in self.missing()]

    def require(self) -> Sweep:
        """The sweep itself, once every model is on disk; else ExperimentError naming the missing."""
        missing = [str(self.file(spec)) for spec in self.missing()]
        if missing:
            raise ExperimentError(
                f"missing checkpoint(s): {', '.join(missing)}. "
                f"Train them with `opgan train --preset {self.scale} --model NAME "
                f"--out runs/NAME` and `opgan export`, or run this notebook with train=True."
            )
        return self

    @property
    def k_max(self) -> int:
        return max(self.ks)

    @property
    def has_control(self) -> bool:
        """Whether the equal-latent-size control exists: a k = 1 model to give the largest k's rows."""
        return 1 in self.ks and self.k_max > 1

    def members(self) -> list[tuple[int, int]]:
        """(k, seed) of every model the page uses."""
        ends = sorted({self.ks[0], self.k_max})
        return [(k, 0) for k in self.ks] + [(k, seed) for seed in self.seeds[1:] for k in ends]

    def spec(self, k: int, seed: int = 0, **variant: Any) -> ModelSpec:
        return ModelSpec(self.scale, k, seed, **variant)

    def file(self, spec: ModelSpec) -> Path:
        return self.checkpoints / f"{spec.name}.pt"

    def path(self, k: int, seed: int = 0, **variant: Any) -> Path:
        return self.file(self.spec(k, seed, **variant))

    def name(self, k: int, seed: int = 0, **variant: Any) -> str:
        return self.spec(k, seed, **variant).name

    def model(self, k: int, seed: int = 0, **variant: Any) -> Generator:
        """The generator (loaded once), checked to have the k its record says."""
        spec = self.spec(k, seed, **variant)
        if spec not in self._models:
            path = self.file(spec)
            generator, _ = load_generator(path, self.device)
            if generator.cfg.k != k:
                raise CheckpointError(f"{path} holds a model with k={generator.cfg.k}, not k={k}")
            self._models[spec] = generator
        return self._models[spec]

    def widened(self, seed: int = 0, **variant: Any) -> Generator:
        """The k = 1 model of `seed` driven by k_max rows: the equal-latent-size control."""
        key = ("widened", seed, tuple(sorted(variant.items())))
        if key not in self._models:
            self._models[key] = with_rows(self.model(1, seed, **variant), self.k_max)
        return self._models[key]

    def held_out(self, count: int, part: str = "reference") -> ImageSet:
        """Held-out images of the data the sweep was trained on (`data.held_out_images`)."""
        return held_out_images(read_checkpoint(self.path(self.ks[0])), count, part)

    def record(self, k: int, seed: int = 0, **variant: Any) -> dict:
        """The provenance `export_model` wrote beside the model (empty when absent)."""
        path = Path(str(self.path(k, seed, **variant)) + ".json")
        return json.loads(path.read_text()) if path.is_file() else {}

    def log(self, k: int, seed: int = 0, **variant: Any) -> list[dict]:
        """The model's training log (one dict per logged step; empty when none was kept)."""
        path = Path(str(self.path(k, seed, **variant)) + ".log.jsonl")
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sample_vgg16_features(
    G: Generator,
    checkpoint: str | os.PathLike,
    count: int,
    cache: str | os.PathLike | None = None,
    seed: int = 123,
    rows: int | None = None,
) -> torch.Tensor:
    """VGG16 features (`metrics.vgg16_features`) of `count` seeded samples of G, the model stored at
    `checkpoint` (`rows`: driven by that many rows, `with_rows`).  With `cache`, they are kept in
    ``cache/{checkpoint's stem}[-as-k{rows}]/sample-features.pt`` and read back while the model file,
    the rows, the count, the seed and the code (SAMPLE_SOURCES) are the same, so a page executed
    again does not sample again."""
    device = next(G.parameters()).device
    if cache is None:
        return vgg16_features(G.sample(count, seed=seed))
    key = {
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": file_sha256(checkpoint),
        "count": count,
        "sample_seed": seed,
        "code_sha256": source_hash(SAMPLE_SOURCES),
    }
    if rows is not None:
        key["rows"] = rows
    folder = Path(checkpoint).stem + (f"-as-k{rows}" if rows is not None else "")
    path = Path(cache) / folder / "sample-features.pt"
    features, _ = cached_value(path, key, lambda: vgg16_features(G.sample(count, seed=seed)).cpu())
    return features.to(device)


def recipe_models(sweep: Sweep) -> list[dict]:
    """The models that measure the training recipe's ingredients: the sweep's own k = 1 and largest-k
    models at every seed, and every recipe ablation of the scale (registry) found on disk."""
    ends = sorted({sweep.ks[0], sweep.k_max})
    rows = [
        {"recipe": RECIPE_LABELS[""], "variant": "", "k": k, "seed": seed, "path": sweep.path(k, seed)}
        for k in ends
        for seed in sweep.seeds
    ]
    for spec in ABLATION_MODELS:
        path = sweep.file(spec)
        # the affine comparison is another page's
        if spec.scale == sweep.scale and spec.k in ends and spec.affine_lr_mul is None and path.is_file():
            rows.append(
                {
                    "recipe": RECIPE_LABELS[spec.recipe],
                    "variant": spec.recipe,
                    "k": spec.k,
                    "seed": spec.seed,
                    "path": path,
                }
            )
    return rows


class SweepInversions:
    """The cached inversions of held-out images by a sweep's models, one results folder each, named
    after the model and space; counts how many were read back from the cache and how many computed."""

    def __init__(
        self,
        sweep: Sweep,
        targets: ImageSet,
        inversion: InversionConfig,
        cache: str | os.PathLike,
        batch: int = 16,
        variant: dict | None = None,
    ) -> None:
        self.sweep, self.targets, self.inversion, self.cache, self.batch = sweep, targets, inversion, cache, batch
        self.variant = dict(variant or {})  # the models' `ModelSpec` fields beyond k and seed (recipe, images)
        self.cache_use = {"reused": 0, "computed": 0}

    def name(self, k: int, space: str, seed: int = 0, control: bool = False, label: str = "") -> str:
        """The cache folder's name of an inversion (`folder`), without running it."""
        sweep, variant = self.sweep, self.variant
        model = f"{sweep.name(1, seed, **variant)}-as-k{sweep.k_max}" if control else sweep.name(k, seed, **variant)
        return f"{label}{model}-{space}"

    def folder(
        self,
        k: int,
        space: str,
        seed: int = 0,
        control: bool = False,
        target_set: ImageSet | None = None,
        label: str = "",
        steps: int | None = None,
    ) -> Path:
        """The inversion by the (k, seed) model in `space` (of `target_set`, default the targets);
        control: by the k = 1 model of that seed driven by k_max rows (the equal-latent-size control)."""
        model, config, checkpoint = self._setup(k, space, seed, control, steps)
        folder, reused = cached_inversion(
            model,
            self.targets if target_set is None else target_set,
            config,
            self.cache,
            self.name(k, space, seed, control, label),
            checkpoint,
            batch=self.batch,
        )
        self.cache_use["reused" if reused else "computed"] += 1
        return folder

    def key(
        self,
        k: int,
        space: str,
        seed: int = 0,
        control: bool = False,
        target_set: ImageSet | None = None,
        steps: int | None = None,
    ) -> dict:
        """What the inversion `folder` names is computed from (its cache key), without running it."""
        model, config, checkpoint = self._setup(k, space, seed, control, steps)
        return inversion_cache_key(model, self.targets if target_set is None else target_set, config, checkpoint)

    def _setup(
        self, k: int, space: str, seed: int, control: bool, steps: int | None
    ) -> tuple[Generator, InversionConfig, Path]:
        """The model, the settings and the model file of an inversion (the control: the k = 1 model of
        that seed driven by k_max rows)."""
        sweep, variant = self.sweep, self.variant
        config = dataclasses.replace(self.inversion, space=space, steps=steps or self.inversion.steps)
        model = sweep.widened(seed, **variant) if control else sweep.model(k, seed, **variant)
        return model, config, sweep.path(1 if control else k, seed, **variant)

    def rows(self, k: int, space: str, control: bool = False) -> list[list[dict]]:
        """The result rows of every training seed (a list per seed) of k = 1 or k_max."""
        return [read_results(self.folder(k, space, seed, control)) for seed in self.sweep.seeds]

    def provenance(self) -> str:
        return f"{self.cache_use['computed']} computed, {self.cache_use['reused']} read back from {self.cache}"


def export_model(checkpoint: str | os.PathLike, out: str | os.PathLike, fd_images: int = 1000) -> dict:
    """Writes the generator-only `out` and, beside it, ``out.json`` (provenance + FD-VGG16 of samples)
    and ``out.log.jsonl`` (the run's training log, when the run folder has one)."""
    export_generator(checkpoint, out)
    state = read_checkpoint(out)
    train_cfg = state.get("train_config", {})
    record = {
        "preset": train_cfg.get("preset"),
        "k": state["model_config"]["k"],
        "seed": train_cfg.get("seed"),
        "affine_lr_mul": state["model_config"].get("affine_lr_mul"),
        "images_seen": state.get("images_seen"),
        "wall_seconds": state.get("wall_seconds"),
        "source_checkpoint": str(checkpoint),
        **state.get("provenance", {}),
    }
    generator, _ = load_generator(out)
    start = initial_generator(generator.cfg, train_cfg.get("seed", 0)).state_dict()
    record["distance_from_init"] = distance_from_init(generator, start)  # of G_ema, median per module group
    if fd_images:
        real = to_float(held_out_images(state, fd_images).images)
        record["fd_vgg16_samples_vs_test"] = fd_vgg16(generator.sample(len(real), seed=123), real)
        record["fd_vgg16_images"] = len(real)
    log = Path(checkpoint).parent / "log.jsonl"
    if log.is_file():
        # An export on the way (train --export-at) keeps the log up to its own images, not the run's.
        seen = state.get("images_seen") or 0
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        kept = [line for line in lines if json.loads(line).get("images_seen", 0) <= seen]
        write_text(str(out) + ".log.jsonl", "".join(line + "\n" for line in kept))
    write_json(str(out) + ".json", record)
    return record

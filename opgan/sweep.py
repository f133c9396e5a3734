"""The trained models of a scale (a *sweep*): where they live, how they are checked, loaded,
trained and exported, and the held-out images they are measured on.

A sweep's models differ only in k (style rows per layer) and training seed, stored as
``{checkpoints}/{scale}-k{k}{variant}.pt`` with ``variant`` = ``-seedN`` (seed N > 0) plus recipe
suffixes (`presets.variant_options`).  Beside each: ``.pt.json`` (provenance, distance from init,
FD-VGG16 of samples) and ``.pt.log.jsonl`` (the training log).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable

from opgan.checkpoint import CheckpointError, export_generator, load_generator, read_checkpoint
from opgan.data import ImageSet, load_images, to_float
from opgan.diagnostics import distance_from_init, initial_generator
from opgan.environment import pick_device
from opgan.files import write_json
from opgan.invert import InversionConfig
from opgan.metrics import fd_vgg16
from opgan.networks import Generator, ModelConfig
from opgan.results import cached_inversion, read_results
from opgan.presets import ABLATIONS, PRESETS, RECIPE_VARIANTS, config_for, variant_options

SCALES = tuple(PRESETS)


class ExperimentError(ValueError):
    """A notebook parameter that makes no sense; raised in the notebook's first cells."""


class TrainingInterrupted(RuntimeError):
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


def model_path(checkpoints: str | os.PathLike, scale: str, k: int, variant: str = "") -> Path:
    """Where the sweep's generator for `k` lives: ``{checkpoints}/{scale}-k{k}{variant}.pt``."""
    return Path(checkpoints) / f"{scale}-k{k}{variant}.pt"


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


def export_model(checkpoint: str | os.PathLike, out: str | os.PathLike, fd_images: int = 1000) -> dict:
    """Writes the generator-only `out` and, beside it, ``out.json`` (provenance + FD-VGG16 of samples)
    and ``out.log.jsonl`` (the run's training log, when the run folder has one)."""
    export_generator(checkpoint, out)
    state = read_checkpoint(out)
    train_cfg = state.get("train_config", {})
    record = {
        "preset": train_cfg.get("preset"), "k": state["model_config"]["k"], "seed": train_cfg.get("seed"),
        "affine_lr_mul": state["model_config"].get("affine_lr_mul"),
        "images_seen": state.get("images_seen"), "wall_seconds": state.get("wall_seconds"),
        "source_checkpoint": str(checkpoint), **state.get("provenance", {}),
    }
    generator, _ = load_generator(out)
    start = initial_generator(generator.cfg, train_cfg.get("seed", 0)).state_dict()
    record["distance_from_init"] = distance_from_init(generator, start)  # of G_ema, median per module group
    if fd_images:
        real = to_float(held_out_images(out, fd_images).images)
        record["fd_vgg16_samples_vs_test"] = fd_vgg16(generator.sample(len(real), seed=123), real)
        record["fd_vgg16_images"] = len(real)
    log = Path(checkpoint).parent / "log.jsonl"
    if log.is_file():
        shutil.copyfile(log, str(out) + ".log.jsonl")
    write_json(str(out) + ".json", record)
    return record


def held_out_images(checkpoint: str | os.PathLike, count: int, part: str = "reference") -> ImageSet:
    """`count` held-out images of the data a model was trained on (Fashion-MNIST's test split, or the
    seeded held-out split of the user's folder or archive), at the model's size.

    The held-out split is used in disjoint parts: ``reference`` (the first images: the real set of
    every Fréchet distance) and ``test`` (the last images: the ones the book inverts).  Inversion
    settings were tuned and benchmarked on Fashion-MNIST test images 1000-1063 (benchmarks/common.py,
    `tuning_images`), which neither part reaches while the reference part keeps to the first 1,000
    images and the test part to the last 8,936.
    """
    if part not in ("reference", "test"):
        raise ExperimentError(f"part must be 'reference' or 'test', got {part!r}")
    state = read_checkpoint(checkpoint)
    train_cfg, model_cfg = state.get("train_config", {}), state["model_config"]
    data = train_cfg.get("data") or "fashion-mnist:train"
    source = "fashion-mnist:test" if data.startswith("fashion-mnist") else data
    real = load_images(source, model_cfg["resolution"], model_cfg["img_channels"], split="test",
                       test_fraction=train_cfg.get("test_fraction", 0.05), seed=train_cfg.get("seed", 0))
    count = min(count, len(real))
    return real.subset(list(range(count)) if part == "reference" else list(range(len(real) - count, len(real))))


def seed_variant(seed: int) -> str:
    """The file suffix of a sweep model trained with `seed` (seed 0 has none): ``-seed1``."""
    return f"-seed{seed}" if seed else ""


def train_models(scale: str, ks: Iterable[int], checkpoints: str | os.PathLike, runs: str | os.PathLike,
                 variant: str = "", fd_images: int = 256, **overrides: Any) -> list[Path]:
    """Trains (or resumes) and exports each missing model of the sweep with the project's trainer."""
    from opgan.train import train  # the trainer pulls in torch.distributed; only training needs it

    made = []
    for k in ks:
        target = model_path(checkpoints, scale, k, variant)
        if target.is_file():
            continue
        run_dir = Path(runs) / target.stem
        cfg = config_for(scale, k, overrides)
        summary = train(cfg, run_dir, resume=(run_dir / "checkpoint.pt").is_file())
        if not summary["finished"]:
            raise TrainingInterrupted(f"training of {target.stem} was interrupted; run again to resume")
        target.parent.mkdir(parents=True, exist_ok=True)
        export_model(run_dir / "checkpoint.pt", target, fd_images)
        made.append(target)
    return made


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
    """The trained models a page uses: every k at seed 0, and k = 1 and the largest k at every seed.

    Validates the parameters (scale, k values, seeds) and that every model exists — or trains and
    exports the missing ones when `train` — before any work, so a nonsense parameter stops a
    notebook in its first cell with a message that names it.
    """

    def __init__(self, scale: str, ks: Iterable[int], seeds: Iterable[int], checkpoints: str | os.PathLike,
                 device: str = "auto", train: bool = False, runs: str | os.PathLike = "runs/book",
                 variants: Iterable[str] = ("",), fd_images: int = 256, **train_options: Any) -> None:
        self.scale, self.checkpoints = scale, Path(checkpoints)
        self.seeds = sorted(set(int(seed) for seed in seeds)) or [0]
        if self.seeds[0] != 0 or any(seed < 0 for seed in self.seeds):
            raise ExperimentError(f"seeds must start at 0 (the sweep's main models), got {self.seeds}")
        self.variants = tuple(variants)
        self.ks = check_parameters(scale, ks)
        try:
            self.device = pick_device(device)
        except ValueError as error:
            raise ExperimentError(str(error)) from None
        if train:
            for k, seed in self.members():
                for variant in self.variants:
                    full = seed_variant(seed) + variant
                    train_models(scale, [k], checkpoints, runs, variant=full, fd_images=fd_images, **train_options, **variant_options(full))
        missing = [str(self.path(k, seed, v)) for k, seed in self.members() for v in self.variants if not self.path(k, seed, v).is_file()]
        if missing:
            raise ExperimentError(
                f"missing checkpoint(s): {', '.join(missing)}. Train them with `opgan train --preset {scale} --model NAME "
                f"--out runs/NAME` and `opgan export`, or run this notebook with train=True."
            )
        self._models: dict[tuple, Generator] = {}

    @property
    def k_max(self) -> int:
        return max(self.ks)

    def members(self) -> list[tuple[int, int]]:
        """(k, seed) of every model the page uses."""
        ends = sorted({self.ks[0], self.k_max})
        return [(k, 0) for k in self.ks] + [(k, seed) for seed in self.seeds[1:] for k in ends]

    def path(self, k: int, seed: int = 0, variant: str = "") -> Path:
        return model_path(self.checkpoints, self.scale, k, seed_variant(seed) + variant)

    def name(self, k: int, seed: int = 0, variant: str = "") -> str:
        return self.path(k, seed, variant).stem

    def model(self, k: int, seed: int = 0, variant: str = "") -> Generator:
        """The generator (loaded once), checked to have the k its file name says."""
        key = (k, seed, variant)
        if key not in self._models:
            path = self.path(k, seed, variant)
            generator, _ = load_generator(path, self.device)
            if generator.cfg.k != k:
                raise CheckpointError(f"{path} holds a model with k={generator.cfg.k}, not k={k}")
            self._models[key] = generator
        return self._models[key]

    def widened(self, seed: int = 0) -> Generator:
        """The k = 1 model of `seed` driven by k_max rows: the equal-latent-size control."""
        key = ("widened", seed)
        if key not in self._models:
            self._models[key] = with_rows(self.model(1, seed), self.k_max)
        return self._models[key]

    def record(self, k: int, seed: int = 0, variant: str = "") -> dict:
        """The provenance `export_model` wrote beside the model (empty when absent)."""
        path = Path(str(self.path(k, seed, variant)) + ".json")
        return json.loads(path.read_text()) if path.is_file() else {}

    def log(self, k: int, seed: int = 0, variant: str = "") -> list[dict]:
        """The model's training log (one dict per logged step; empty when none was kept)."""
        path = Path(str(self.path(k, seed, variant)) + ".log.jsonl")
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


RECIPE_LABELS = {"": "sweep's recipe", "-paper": "+ path length (paper's recipe)", "-nomix": "− style mixing"}


def recipe_models(sweep: Sweep) -> list[dict]:
    """The models that measure the training recipe's ingredients: the sweep's own k = 1 and largest-k
    models at every seed, and every ablation model of the scale (presets.ABLATIONS) found on disk."""
    ends = sorted({sweep.ks[0], sweep.k_max})
    rows = [{"recipe": RECIPE_LABELS[""], "variant": "", "k": k, "seed": seed, "path": sweep.path(k, seed)}
            for k in ends for seed in sweep.seeds]
    for name, (k, options) in ABLATIONS.get(sweep.scale, {}).items():
        variant = next((suffix for suffix in RECIPE_VARIANTS if name.endswith(suffix)), "")
        path = sweep.checkpoints / f"{name}.pt"
        if k in ends and path.is_file() and "affine_lr_mul" not in options:  # the affine comparison is another page's
            rows.append({"recipe": RECIPE_LABELS.get(variant, variant), "variant": variant, "k": k,
                         "seed": options.get("seed", 0), "path": path})
    return rows


class SweepInversions:
    """The cached inversions of held-out images by a sweep's models, one results folder each, named
    after the model and space; counts how many were read back from the cache and how many computed."""

    def __init__(self, sweep: Sweep, targets: ImageSet, inversion: InversionConfig, cache: str | os.PathLike,
                 batch: int = 16) -> None:
        self.sweep, self.targets, self.inversion, self.cache, self.batch = sweep, targets, inversion, cache, batch
        self.cache_use = {"reused": 0, "computed": 0}

    def folder(self, k: int, space: str, seed: int = 0, control: bool = False, target_set: ImageSet | None = None,
               label: str = "", steps: int | None = None) -> Path:
        """The inversion by the (k, seed) model in `space` (of `target_set`, default the targets);
        control: by the k = 1 model of that seed driven by k_max rows (the equal-latent-size control)."""
        sweep = self.sweep
        config = dataclasses.replace(self.inversion, space=space, steps=steps or self.inversion.steps)
        model = sweep.widened(seed) if control else sweep.model(k, seed)
        name = f"{label}{sweep.name(1, seed)}-as-k{sweep.k_max}-{space}" if control else f"{label}{sweep.name(k, seed)}-{space}"
        checkpoint = sweep.path(1 if control else k, seed)
        folder, reused = cached_inversion(model, self.targets if target_set is None else target_set, config, self.cache,
                                          name, checkpoint, batch=self.batch)
        self.cache_use["reused" if reused else "computed"] += 1
        return folder

    def rows(self, k: int, space: str, control: bool = False) -> list[list[dict]]:
        """The result rows of every training seed (a list per seed) of k = 1 or k_max."""
        return [read_results(self.folder(k, space, seed, control)) for seed in self.sweep.seeds]

    def provenance(self) -> str:
        return f"{self.cache_use['computed']} computed, {self.cache_use['reused']} read back from {self.cache}"

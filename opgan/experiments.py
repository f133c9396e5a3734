"""The paper's experiments as plain functions: the notebooks call these, plot and tabulate.

A *sweep* is a set of trained models of one scale that differ only in k (style rows per layer),
stored as ``{checkpoints}/{scale}-k{k}.pt`` (plus variants such as ``-affine1``: affine layers
trained with the regular learning rate).  Results go to a results folder as CSV files, one row
per image (or per model), so the results page reads them instead of retyping numbers.

Long steps are cached: an inversion folder whose provenance records the same model file and
inversion settings is read back instead of recomputed, so an interrupted book build resumes.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import platform
import shutil
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import torch

from opgan.checkpoint import CheckpointError, export_generator, load_generator, read_checkpoint
from opgan.data import ImageSet, load_images, to_float
from opgan.diagnostics import distance_from_init, initial_generator
from opgan.files import code_version, device_description, write_csv, write_json
from opgan.interpolate import frames, midpoint_realism, path_smoothness
from opgan.invert import InversionConfig, config_dict
from opgan.metrics import fd_vgg16
from opgan.networks import Generator, ModelConfig
from opgan.presets import PRESETS, make_config, variant_options
from opgan.reconstruct import invert_to_folder

SCALES = tuple(PRESETS)
write_rows = write_csv  # the notebooks write their tables as ex.write_rows


class ExperimentError(ValueError):
    """A notebook parameter that makes no sense; raised in the notebook's first cells."""


# --------------------------------------------------------------------------- models of a sweep

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
    settings were tuned on Fashion-MNIST test images 1000-1007 (benchmarks/tune_invert.py), which
    neither part reaches while the two together take fewer than 9,000 images.
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


def enter_project_root() -> Path:
    """Makes the repository root (the folder of the reproduction's ``_config.yml``) the working
    directory, so a notebook opened from ``notebooks/`` or ``book/`` finds the same relative paths
    as under ``opgan book``; returns it (the current directory when no root is found)."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "notebooks").is_dir():
            os.chdir(folder)
            return folder
    return here


def pick_device(device: str = "auto") -> str:
    """"auto" -> cuda when available, else cpu."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ExperimentError(f"device {device!r} asked for, but no CUDA device is available")
    return device


def train_models(scale: str, ks: Iterable[int], checkpoints: str | os.PathLike, runs: str | os.PathLike,
                 variant: str = "", fd_images: int = 256, **overrides: Any) -> list[Path]:
    """Trains (or resumes) and exports each missing model of the sweep with the project's trainer."""
    from opgan.train import train

    made = []
    model_names = {f.name for f in dataclasses.fields(ModelConfig)}
    model_overrides = {name: value for name, value in overrides.items() if name in model_names}
    train_overrides = {name: value for name, value in overrides.items() if name not in model_names}
    for k in ks:
        target = model_path(checkpoints, scale, k, variant)
        if target.is_file():
            continue
        run_dir = Path(runs) / target.stem
        cfg = make_config(scale, {**model_overrides, "k": k}, **train_overrides)
        summary = train(cfg, run_dir, resume=(run_dir / "checkpoint.pt").is_file())
        if not summary["finished"]:
            raise KeyboardInterrupt(f"training of {target.stem} was interrupted; run again to resume")
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
        self.device = pick_device(device)
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
    from opgan.presets import ABLATIONS, RECIPE_VARIANTS

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


# --------------------------------------------------------------------------- results folders

@torch.no_grad()
def reconstructions(G: Generator, folder: str | os.PathLike) -> torch.Tensor:
    """The reconstructions of a results folder, regenerated from its codes."""
    from opgan.invert import synthesize

    saved = torch.load(Path(folder) / "codes.pt", map_location="cpu", weights_only=True)
    device = G.mapping.w_avg.device
    return synthesize(G, saved["codes"].to(device), saved["space"]).clamp(-1, 1).cpu()


def read_codes(folder: str | os.PathLike) -> torch.Tensor:
    """All codes of a results folder, [N, ...]."""
    return torch.load(Path(folder) / "codes.pt", map_location="cpu", weights_only=True)["codes"]


# --------------------------------------------------------------------------- reconstruction

CACHE_KEY = "cache-key.json"


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def reconstruct(G: Generator, targets: ImageSet, cfg: InversionConfig, out: str | os.PathLike, label: str,
                checkpoint: str | os.PathLike, record_every: int = 10, batch: int = 16, progress: bool = False) -> Path:
    """Inverts `targets` into ``out/label`` (results.csv, grid.png, codes, records) unless cached;
    prints one line per inversion (its summary, or that it was cached).

    The cache key holds the settings and the hashes of the model file and of the target pixels, so a
    retrained model (same path, new weights) or changed images are inverted again; it is written
    last, so an interrupted inversion is never mistaken for a finished one.
    """
    folder = Path(out) / label
    cfg = dataclasses.replace(cfg, record_every=record_every)
    key = {"checkpoint": str(checkpoint), "checkpoint_sha256": _sha256(Path(checkpoint).read_bytes()),
           "images": targets.source, "images_sha256": _sha256(targets.images.numpy().tobytes()), "count": len(targets),
           "inversion": config_dict(cfg), "model": G.cfg.to_dict()}
    try:
        cached = json.loads((folder / CACHE_KEY).read_text()) == json.loads(json.dumps(key))
    except (OSError, ValueError):
        cached = False
    if cached:
        print(f"{label}: cached in {folder}")
    else:
        (folder / CACHE_KEY).unlink(missing_ok=True)
        print(f"{label}: " + invert_to_folder(G, targets, cfg, folder, batch=batch, checkpoint=checkpoint, progress=progress))
        write_json(folder / CACHE_KEY, key)
    return folder


def read_results(folder: str | os.PathLike, **extra: Any) -> list[dict]:
    """The rows of a results folder's results.csv, numbers parsed, with `extra` columns added."""
    return [{**row, **extra} for row in read_rows(Path(folder) / "results.csv", text=("image", "space"))]


def read_records(folder: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Per-step metric records of a results folder: "step" -> [R], metric -> [R, N]."""
    return torch.load(Path(folder) / "records.pt", map_location="cpu", weights_only=True)


def read_rows(path: str | os.PathLike, text: tuple[str, ...] = ()) -> list[dict]:
    """Reads a CSV written by `write_csv`, numbers parsed except in the `text` columns."""
    def parse(key: str, value: str) -> Any:
        if key in text:
            return value
        try:
            return float(value) if any(c in value for c in ".eEn") else int(value)
        except ValueError:
            return value

    with open(path, newline="") as handle:
        return [{key: parse(key, value) for key, value in row.items()} for row in csv.DictReader(handle)]


def summarize(rows: list[dict], by: tuple[str, ...], metrics: tuple[str, ...] = ("psnr", "ssim", "lpips")) -> list[dict]:
    """Mean and standard deviation of `metrics` per group of `by` columns, groups in first-seen order."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in by), []).append(row)
    table = []
    for key, members in groups.items():
        entry = dict(zip(by, key))
        entry["images"] = len(members)
        for metric in metrics:
            values = torch.tensor([float(m[metric]) for m in members], dtype=torch.float64)
            entry[f"{metric}_mean"] = values.mean().item()
            entry[f"{metric}_std"] = values.std().item() if len(values) > 1 else 0.0
        table.append(entry)
    return table


def out_of_domain_images(resolution: int, channels: int, faces: int = 4) -> ImageSet:
    """Photos that scikit-image ships (no download): four scenes and the first `faces` LFW faces,
    centre-cropped, resized and converted like any user image (`data.prepare_image`)."""
    import numpy as np
    import skimage.data
    from PIL import Image

    from opgan.data import prepare_image

    photos = {name: getattr(skimage.data, name)() for name in ("astronaut", "camera", "coffee", "chelsea")}
    lfw = skimage.data.lfw_subset()[:faces]  # float [0, 1] grayscale 25x25; the first 100 are faces
    photos.update({f"lfw-face-{i}": (face * 255).round().astype(np.uint8) for i, face in enumerate(lfw)})
    arrays = [prepare_image(Image.fromarray(array), resolution, channels) for array in photos.values()]
    return ImageSet(torch.from_numpy(np.stack(arrays)), list(photos), "scikit-image")


# --------------------------------------------------------------------------- interpolation

def interpolation_measures(G: Generator, codes: torch.Tensor, space: str, real: torch.Tensor, pairs: int,
                           seed: int = 0) -> tuple[dict, torch.Tensor]:
    """Midpoint realism over `pairs` distinct random pairs and path smoothness between consecutive
    codes: a table row, and the midpoints' VGG16 features (for intervals on the realism)."""
    realism = midpoint_realism(G, codes, space, real, pairs=pairs, seed=seed)
    count = len(codes) - len(codes) % 2
    smooth = path_smoothness(G, codes[0:count:2], codes[1:count:2], space)
    features = realism.pop("midpoint_features")
    realism.pop("endpoint_features")
    return {
        **realism,
        "mean_step_lpips": smooth["mean_step"].mean().item(),
        "max_step_lpips": smooth["max_step"].mean().item(),
        "evenness": smooth["evenness"].mean().item(),
    }, features


def figure_one_strip(G: Generator, codes: torch.Tensor, targets: torch.Tensor, space: str, pair: tuple[int, int],
                     alphas: tuple[float, ...] = (0.25, 0.5, 0.75)) -> torch.Tensor:
    """Target A, inversion A, the frames at `alphas`, inversion B, target B (the paper's Figure 1)."""
    a, b = codes[pair[0]: pair[0] + 1], codes[pair[1]: pair[1] + 1]
    path = frames(G, a, b, space, [0.0, *alphas, 1.0])[:, 0].cpu()
    return torch.cat([targets[pair[0]: pair[0] + 1], path, targets[pair[1]: pair[1] + 1]])


# --------------------------------------------------------------------------- affine layers

def spectrum_summary(spectra: dict[str, torch.Tensor]) -> list[dict]:
    """Per layer: largest singular value, its ratio to the median one, and the effective rank
    (exp of the entropy of the normalized spectrum; equals the size for a flat spectrum)."""
    rows = []
    for layer, values in spectra.items():
        p = values / values.sum()
        rows.append({
            "layer": layer, "size": len(values), "largest": values[0].item(),
            "largest_over_median": (values[0] / values.median()).item(),
            "effective_rank": torch.exp(-(p * p.clamp_min(1e-300).log()).sum()).item(),
        })
    return rows


def affine_singular_values(G: Generator) -> dict[str, torch.Tensor]:
    """Singular values (descending) of every affine layer's effective weight (lr multiplier applied)."""
    spectra = {}
    for name, module in G.synthesis.named_modules():
        if name.endswith("affine"):
            spectra[name.removesuffix(".affine")] = torch.linalg.svdvals(module.effective_weight().detach().double().cpu())
    if not spectra:
        raise ExperimentError("the generator has no affine layers named '*.affine'")
    return spectra


# --------------------------------------------------------------------------- provenance

class Stopwatch:
    """Measures a notebook's run time from its first cell."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def run_provenance(seed: int, seconds: float, device: str = "cpu", **extra: Any) -> dict:
    """Code version, package versions, device, seed and run time of an experiment page."""
    packages = {}
    for name in ("torch", "numpy", "lpips", "torchmetrics", "matplotlib", "papermill", "jupyter-book"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    return {
        "code version": code_version(), "python": platform.python_version(), **packages,
        "device": device_description(device), "seed": seed, "run time": f"{seconds:.0f} s", **extra,
    }

"""The trained models of each scale, as records: what a model is (scale, k, training seed, recipe
variant, affine learning rate); its file name and training configuration are derived from the
record, never parsed back from a name.

The cpu scale's models live in ``checkpoints/{name}.pt`` (``.pt.json``: provenance, distance from
init, FD-VGG16 of samples; ``.pt.log.jsonl``: the training log).  Seeds 1-7 of k = 1 and k = 64
measure the spread between trainings (a page uses the seeds `_config.yml` gives it); the ablations
measure the recipe's ingredients (the generation page) and the affine learning rate (the affine page).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from opgan.errors import ConfigError
from opgan.presets import make_config
from opgan.train import TrainConfig, export_name

# Recipe variants of a scale's recipe: "paper" adds the paper's path-length regularization (weight
# 2, the authors' sqrt(k) length), "nomix" removes style mixing, "gamma0.01" trains a model with rows
# at k = 1's R1 weight (the sweep gives it the authors' 3x), to tell that confound from the rows.
RECIPES: dict[str, dict] = {
    "": {},
    "paper": {"pl_weight": 2.0},
    "nomix": {"style_mixing": 0.0},
    "gamma0.01": {"r1_gamma_rows": 0.01},
}
RECIPE_LABELS = {
    "": "sweep's recipe",
    "paper": "+ path length (paper's recipe)",
    "nomix": "− style mixing",
    "gamma0.01": "R1 γ 0.01 (k = 1's)",
}
# Training lengths of the dose-response design (images seen): one run per (k, seed) trains to the
# longest and exports the generator at the others on the way.
DOSE_LENGTHS = (150_000, 300_000, 450_000)


@dataclass(frozen=True)
class ModelSpec:
    """One trained model of a scale."""

    scale: str
    k: int
    seed: int = 0
    recipe: str = ""  # a key of RECIPES
    affine_lr_mul: float | None = None  # None: the scale's
    images: int | None = None  # training length in images; None: the scale's (and no suffix)

    def __post_init__(self) -> None:
        if self.recipe not in RECIPES:
            raise ConfigError(f"unknown recipe variant {self.recipe!r}; choose from {', '.join(map(repr, RECIPES))}")
        if self.images is not None and self.images % 1000:
            raise ConfigError(f"a model's training length is a whole number of thousands of images, got {self.images}")

    @property
    def name(self) -> str:
        """The file stem: ``{scale}-k{k}[-seed{seed}][-affine{x}][-{recipe}][-{images/1000}k]``."""
        parts = [f"{self.scale}-k{self.k}"]
        if self.seed:
            parts.append(f"seed{self.seed}")
        if self.affine_lr_mul is not None:
            parts.append(f"affine{self.affine_lr_mul:g}")
        if self.recipe:
            parts.append(self.recipe)
        if self.images is not None:
            parts.append(f"{self.images // 1000}k")
        return "-".join(parts)

    @property
    def run(self) -> ModelSpec:
        """The training run that makes this model: a shorter length of the dose-response design is
        exported on the way by the run to its longest length."""
        if self.images in DOSE_LENGTHS:
            return replace(self, images=max(DOSE_LENGTHS))
        return self

    @property
    def run_file(self) -> str:
        """The generator file of this model in its run's folder."""
        return "generator.pt" if self.run == self else export_name(self.images)

    def options(self) -> dict:
        """The training options that differ from the scale's preset."""
        options = {"seed": self.seed, **RECIPES[self.recipe]}
        if self.affine_lr_mul is not None:
            options["affine_lr_mul"] = self.affine_lr_mul
        if self.images is not None:
            options["total_images"] = self.images
            if self.images in DOSE_LENGTHS:
                options["export_at"] = tuple(length for length in DOSE_LENGTHS if length < self.images)
        return options

    def config(self, **overrides) -> TrainConfig:
        """The model's training configuration; `overrides` replace options (e.g. ``data``)."""
        return make_config(self.scale, k=self.k, **{**self.options(), **overrides})


def _cpu_models() -> tuple[list[ModelSpec], list[ModelSpec]]:
    sweep = [ModelSpec("cpu", k) for k in (1, 4, 16, 64)] + [
        ModelSpec("cpu", k, seed) for k in (1, 64) for seed in range(1, 8)
    ]
    sweep.sort(key=lambda spec: (spec.k, spec.seed))
    ablations = [ModelSpec("cpu", k, seed, "paper") for k in (1, 64) for seed in range(3)]
    ablations += [ModelSpec("cpu", 64, seed, "paper", affine_lr_mul=0.1) for seed in range(3)]
    ablations += [
        ModelSpec("cpu", 1, 2, "nomix"),
        ModelSpec("cpu", 64, 1, "nomix"),
    ]
    return sweep, ablations


def _cpu_dose_models() -> list[ModelSpec]:
    """The dose-response design: k = 1 and k = 64, seeds 0-2, at every training length; and k = 64
    at k = 1's R1 weight, seeds 0-2, at the sweep's length."""
    lengths = [
        ModelSpec("cpu", k, seed, images=images) for k in (1, 64) for seed in range(3) for images in DOSE_LENGTHS
    ]
    return lengths + [ModelSpec("cpu", 64, seed, "gamma0.01") for seed in range(3)]


SWEEP_MODELS, ABLATION_MODELS = _cpu_models()
DOSE_MODELS = _cpu_dose_models()
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in SWEEP_MODELS + ABLATION_MODELS + DOSE_MODELS}


def sweep_names(scale: str = "cpu", ablations: bool = False) -> list[str]:
    """The names of a scale's sweep models (and, with `ablations`, of its recipe ablations)."""
    chosen = SWEEP_MODELS + (ABLATION_MODELS if ablations else [])
    return [spec.name for spec in chosen if spec.scale == scale]


def dose_runs(scale: str = "cpu") -> list[str]:
    """The training runs of a scale's dose-response design (each long run exports its shorter
    lengths), the longest first so that two side by side finish together."""
    runs = {spec.run for spec in DOSE_MODELS if spec.scale == scale}
    return [spec.name for spec in sorted(runs, key=lambda spec: (-(spec.images or 0), spec.seed, spec.k))]


def find_model(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ConfigError(f"no model {name!r} in the registry; known: {', '.join(MODELS)}")
    return MODELS[name]

"""The generation page's measurements: the sweep's models as a table, their samples' distance to
the evaluation images, and the recipe ablations' (each model's sample features computed once)."""

from __future__ import annotations

import pandas as pd
import torch

from opgan.checkpoint import load_generator
from opgan.data import to_float
from opgan.files import write_csv
from opgan.metrics import frechet_distance, vgg16_features
from opgan.study import claims
from opgan.study.plots import MODULE_GROUP_NAMES
from opgan.study.rebuild import write_exact_csv
from opgan.study.sweep import Sweep, recipe_models, sample_vgg16_features


def model_rows(sweep: Sweep) -> list[dict]:
    """Every model of the sweep: images seen, training time and how far each module group moved
    from its initialization, as recorded when the models were exported."""
    rows = []
    for k, seed in sweep.members():
        record = sweep.record(k, seed)
        moved = record.get("distance_from_init", {})
        rows.append(
            {
                "model": sweep.name(k, seed),
                "k": k,
                "seed": seed,
                "images seen": record.get("images_seen"),
                "training time (s)": None if record.get("wall_seconds") is None else round(record["wall_seconds"]),
                **{f"{name} moved": moved.get(group) for group, name in MODULE_GROUP_NAMES.items()},
            }
        )
    return rows


def evaluation_features(sweep: Sweep, count: int) -> torch.Tensor:
    """VGG16 features of `count` held-out evaluation images: the real set of the realism measures."""
    return vgg16_features(to_float(sweep.held_out(count, part="evaluation").images).to(sweep.device))


def sample_quality(sweep: Sweep, real: torch.Tensor, cache: str, results) -> tuple[dict, list[dict]]:
    """Each model's sample features (as many samples as `real` has images; cached) and its FD-VGG16
    against `real`, written to ``generation.csv``."""
    features, quality = {}, []
    for k, seed in sweep.members():
        features[(k, seed)] = sample_vgg16_features(sweep.model(k, seed), sweep.path(k, seed), len(real), cache)
        quality.append(
            {
                "model": sweep.name(k, seed),
                "k": k,
                "seed": seed,
                "fd_vgg16": frechet_distance(features[(k, seed)], real),
                "images": len(real),
                "images_seen": sweep.record(k, seed).get("images_seen"),
            }
        )
    write_csv(results / "generation.csv", quality)
    return features, quality


def recipe_quality(
    sweep: Sweep, sample_features: dict, real: torch.Tensor, cache: str, results, shown: int, seed: int
) -> tuple[dict, list[dict], dict]:
    """The recipe ablations beside the sweep's own models: sample features per (variant, k, seed),
    FD-VGG16 rows (written to ``recipe.csv``) and `shown` samples of each recipe and k's lowest seed."""
    rows, features = [], {}
    for entry in recipe_models(sweep):
        key = (entry["variant"], entry["k"], entry["seed"])
        if entry["variant"] == "" and (entry["k"], entry["seed"]) in sample_features:  # the sweep's own: measured
            features[key] = sample_features[(entry["k"], entry["seed"])]
        else:
            generator = load_generator(entry["path"], sweep.device)[0]
            features[key] = sample_vgg16_features(generator, entry["path"], len(real), cache)
        rows.append(
            {
                **{name: entry[name] for name in ("recipe", "k", "seed")},
                "model": entry["path"].stem,
                "fd_vgg16": frechet_distance(features[key], real),
            }
        )
    write_csv(results / "recipe.csv", rows)
    first_seed = {}  # one row per recipe and k: its lowest training seed
    for row in sorted(rows, key=lambda row: row["seed"]):
        first_seed.setdefault((row["recipe"], row["k"]), row)
    samples = {
        f"{recipe}, k = {k} (seed {row['seed']})": load_generator(
            sweep.checkpoints / f"{row['model']}.pt", sweep.device
        )[0].sample(shown, seed=seed)
        for (recipe, k), row in first_seed.items()
    }
    return features, rows, samples


def widened_features(sweep: Sweep, real: torch.Tensor, cache: str) -> dict[tuple[str, int, int], torch.Tensor]:
    """Sample features of each seed's k = 1 model driven by the largest k's rows, every row an
    independent draw (as the trained largest k samples): did training with rows change the
    generator, or does any k = 1 model sample as well with that many rows?  Keyed like the recipe
    features, (claims.WIDENED, k_max, seed); empty without a control."""
    if not sweep.has_control:
        return {}
    return {
        (claims.WIDENED, sweep.k_max, seed): sample_vgg16_features(
            sweep.widened(seed), sweep.path(1, seed), len(real), cache, rows=sweep.k_max
        )
        for seed in sweep.seeds
    }


def samples(sweep: Sweep, count: int, seed: int) -> dict[str, torch.Tensor]:
    """The same latent seeds through every k of the sweep (training seed 0), one row per model."""
    return {f"k = {k}": sweep.model(k).sample(count, seed=seed) for k in sweep.ks}


def claims_note(real: torch.Tensor) -> str:
    """What the generation verdicts rest on, for the claims table."""
    return f"KID of {len(real)} samples per model against {len(real)} evaluation images, VGG16 features"


def widened_samples(sweep: Sweep, count: int, seed: int) -> dict[str, torch.Tensor]:
    """The same latent draws through the trained largest k and through k = 1 given as many rows
    (training seed 0), for the figure."""
    return {
        f"trained with k = {sweep.k_max}": sweep.model(sweep.k_max).sample(count, seed=seed),
        f"k = 1 given {sweep.k_max} rows": sweep.widened().sample(count, seed=seed),
    }


def kid_table(sample_features: dict, recipe_features: dict, real: torch.Tensor, results) -> list[dict]:
    """KID (and mean realism score) of every model's samples (the sweep's, the recipe ablations' and
    the widened k = 1's) to `real`, written to ``kid.csv`` at full precision: the generation claims
    and the rows' manipulation check are decided on it."""
    features = {("", k, seed): found for (k, seed), found in sample_features.items()} | recipe_features
    rows = claims.kid_rows(features, real)
    write_exact_csv(results / "kid.csv", rows)
    return rows


def recipe_table(rows: list[dict]) -> pd.DataFrame:
    """FD-VGG16 of samples per recipe and k: mean and standard deviation over the training seeds."""
    return (
        pd.DataFrame(rows)
        .groupby(["recipe", "k"])["fd_vgg16"]
        .agg(["mean", "std", "count"])
        .rename(columns={"mean": "mean FD-VGG16", "std": "sd over seeds", "count": "training seeds"})
    )


def plan(sweep: Sweep) -> dict[str, dict[str, float]]:
    """The sample features this page will read back or compute (each model's and each recipe
    ablation's), declared before it starts."""
    paths = [sweep.path(k, seed) for k, seed in sweep.members()] + [entry["path"] for entry in recipe_models(sweep)]
    names = [f"{path.stem}/sample-features.pt" for path in paths]
    if sweep.has_control:
        names += [f"{sweep.path(1, seed).stem}-as-k{sweep.k_max}/sample-features.pt" for seed in sweep.seeds]
    return {"sample features": {name: 1 for name in names}}


def _half_means(log: list[dict], key: str) -> tuple[float, float]:
    """The mean of `key` over the first and the second half of a training log."""
    values = [entry[key] for entry in log if key in entry]
    half = len(values) // 2
    return sum(values[:half]) / max(half, 1), sum(values[half:]) / max(len(values) - half, 1)


def loss_sentence(logs: dict[str, list[dict]]) -> str:
    """What the training curves say about who won (Markdown): the models whose generator loss rose
    in the second half of training while their discriminator's fell, read from the logs."""
    losing = {}
    for name, log in logs.items():
        generator, discriminator = _half_means(log, "loss_G"), _half_means(log, "loss_D")
        if len(log) >= 4 and generator[1] > generator[0] and discriminator[1] < discriminator[0]:
            losing[name] = (generator, discriminator)
    if not losing:
        return (
            "No model's generator loss rose in the second half of training while its discriminator's fell: no "
            "discriminator pulled ahead late."
        )
    numbers = "; ".join(
        f"{name}: generator {g[0]:.2g} → {g[1]:.2g}, discriminator {d[0]:.2g} → {d[1]:.2g}"
        for name, (g, d) in losing.items()
    )
    others = [name for name in logs if name not in losing]
    return (
        f"In the second half of training the generator loss of {' and of '.join(losing)} rose while the "
        f"discriminator's fell ({numbers}; the mean of each half): the discriminator pulled ahead"
        + (f", unlike at {', '.join(others)}" if others else "")
        + ". A generator that loses ground late may be under-trained at this length or held back by its R1 "
        "weight; the reconstruction page's *Scale or mechanism?* section tests both (training length and R1 γ), "
        "and says where its trainings are still pending."
    )

"""Named scales: one complete row of model, training and inversion settings per scale, merged one
way (a section's values replace the dataclass's, nothing else).  Read by the CLI (`opgan train
--help` and `opgan invert --help` show every scale's value), by the model registry and, through
the notebooks, by the book (`_config.yml` sets only experiment sizes).  Every field can be
overridden.

smoke  the cpu recipe shrunk to seconds (only the fields in SMOKE_SIZES differ), for tests and CI.
cpu    the embedded default, and the dataclasses' defaults: Fashion-MNIST 32x32, 64 channels, the
       paper's recipe (style mixing 0.9, no noise) with the style path's learning rate scaled to the
       step budget and without path-length regularization, which measurably hurt k = 64 here.
paper  the authors' configuration (arXiv 2205.06304 and their StyleGAN2-ADA fork): AFHQv2 cats at
       256x256 from a user-given folder or zip, config-F channels, k = 512 rows, 2 mapping layers,
       R1 gamma 10 / 30, batch 16, no noise, mapping and affine lr multipliers 0.01, style mixing
       0.9, path length 2.  Differences: no ADA augmentation (x-flips only) and bilinear instead of
       FIR resampling.
"""

from __future__ import annotations

from dataclasses import fields

from opgan.errors import ConfigError
from opgan.invert import InversionConfig
from opgan.networks import ModelConfig
from opgan.train import TrainConfig

# The embedded default scale; its inversion settings are the book's protocol.  The dataclasses'
# defaults equal this row (tests/test_presets.py holds them to it).
CPU: dict = {
    "dataset": "Fashion-MNIST",
    # Learning-rate multipliers of the style path from the step budget: with Adam a parameter
    # moves about lr x lr_mul per step in units of its initial scale.  The paper's x0.01 is
    # calibrated for ~1.6M steps (0.002 x 0.01 x 1.6M ~ 31); this scale's 4,700 steps at x0.01 give
    # ~0.12 and leave the style path at its random initialization, x1 gives ~12 (README, "Presets").
    # The 32-channel discriminator costs a quarter of a 64-channel one.
    "model": dict(
        resolution=32,
        img_channels=1,
        k=1,
        z_dim=64,
        w_dim=64,
        mapping_layers=2,
        mapping_lr_mul=1.0,
        affine_lr_mul=1.0,
        channel_base=2048,
        channel_max=64,
        w_avg_beta=0.995,
        d_channel_base=None,
        d_channel_max=32,
        mbstd_group=4,
    ),
    # The paper's recipe (style mixing 0.9, no noise) except path length, which made k = 64's samples
    # worse at this scale (the generation page measures it).  R1 gamma follows StyleGAN2-ADA's
    # CIFAR setting (0.01) and keeps the authors' 3x ratio for the overparameterized model.
    "train": dict(
        data="fashion-mnist:train",
        test_fraction=0.05,
        batch=32,
        total_images=150_000,
        lr_g=0.0025,
        lr_d=0.0025,
        beta1=0.0,
        beta2=0.99,
        r1_gamma=0.01,
        r1_gamma_rows=0.03,
        r1_interval=16,
        pl_weight=0.0,
        pl_interval=4,
        pl_decay=0.01,
        pl_batch_shrink=2,
        style_mixing=0.9,
        ema_images=10_000,
        ema_rampup=0.05,
        xflip=False,
        checkpoint_every=10_000,
        sample_every=10_000,
        log_every=1_000,
        sample_count=64,
        mixed_precision=False,
    ),
    # LPIPS-AlexNet + MSE (AlexNet costs ~1/5 of VGG per step on a CPU; the metrics use VGG), lr 0.2
    # (benchmarks/tune_invert.py), 150 steps.  The paper's own protocol: scripts/protocol_check.py.
    "invert": dict(steps=150, lr=0.2, warmup=0.05, rampdown=0.25, lpips_net="alex", mse_weight=1.0, record_every=10),
    "invert_batch": 64,
}

# What the smoke scale changes of the cpu recipe: sizes only, so that it exercises the same recipe.
SMOKE_SIZES: dict = {
    "model": dict(z_dim=32, w_dim=32, channel_base=512, channel_max=32),
    "train": dict(
        batch=16,
        total_images=2_000,
        checkpoint_every=1_000,
        sample_every=1_000,
        log_every=200,
        sample_count=16,
        ema_images=500,
    ),
    "invert": dict(steps=10, record_every=5),
    "invert_batch": 4,
}

PAPER: dict = {
    "dataset": "AFHQv2 cats (a folder or zip you provide)",
    "model": dict(
        resolution=256,
        img_channels=3,
        k=512,
        z_dim=512,
        w_dim=512,
        mapping_layers=2,
        mapping_lr_mul=0.01,
        affine_lr_mul=0.01,
        channel_base=32768,
        channel_max=512,
        w_avg_beta=0.995,
        d_channel_base=None,
        d_channel_max=None,
        mbstd_group=4,
    ),
    "train": dict(
        data="",
        test_fraction=0.05,
        batch=16,
        total_images=25_000_000,
        lr_g=0.002,
        lr_d=0.002,
        beta1=0.0,
        beta2=0.99,
        r1_gamma=10.0,
        r1_gamma_rows=30.0,
        r1_interval=16,
        pl_weight=2.0,
        pl_interval=4,
        pl_decay=0.01,
        pl_batch_shrink=2,
        style_mixing=0.9,
        ema_images=10_000,
        ema_rampup=0.0,
        xflip=True,
        checkpoint_every=200_000,
        sample_every=200_000,
        log_every=10_000,
        sample_count=64,
        mixed_precision=False,
    ),
    "invert": dict(steps=1000, lr=0.1, warmup=0.05, rampdown=0.25, lpips_net="vgg", mse_weight=0.0, record_every=25),
    "invert_batch": 16,
}


def _merged(row: dict, changes: dict) -> dict:
    """`row` with each section's values replaced by `changes`' (the one way presets combine)."""
    return {
        key: {**value, **changes[key]} if isinstance(value, dict) else changes.get(key, value)
        for key, value in row.items()
    }


PRESETS: dict[str, dict] = {"smoke": _merged(CPU, SMOKE_SIZES), "cpu": CPU, "paper": PAPER}


def preset_row(preset: str) -> dict:
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[preset]


def make_config(preset: str = "cpu", model_overrides: dict | None = None, **options) -> TrainConfig:
    """The one way to build a training configuration: a preset's row with `options` naming model and
    training fields alike (`model_overrides` too, for model fields); None values keep the preset's."""
    row = preset_row(preset)
    given = {key: value for key, value in {**(model_overrides or {}), **options}.items() if value is not None}
    model_names = {f.name for f in fields(ModelConfig)}
    train_names = {f.name for f in fields(TrainConfig)} - {"model", "preset"}
    unknown = set(given) - model_names - train_names
    if unknown:
        raise ConfigError(f"unknown training options: {sorted(unknown)}")
    model = {**row["model"], **{key: value for key, value in given.items() if key in model_names}}
    train = {**row["train"], **{key: value for key, value in given.items() if key in train_names}}
    return TrainConfig(model=ModelConfig(**model), preset=preset, **train)


def inversion_config(scale: str, **overrides) -> InversionConfig:
    """A scale's inversion settings with overrides (None values keep the scale's)."""
    row = preset_row(scale)
    return InversionConfig(**{**row["invert"], **{key: value for key, value in overrides.items() if value is not None}})

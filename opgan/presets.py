"""Named training scales.  Every field can be overridden from the CLI (`opgan train --help`).

smoke  seconds on 2 CPU cores: a tiny model on Fashion-MNIST, for tests and CI.
cpu    the embedded default: Fashion-MNIST 32x32, 64 channels, sized to train one model in about
       30 minutes on a 2-core machine and produce recognizable garments (measured: see README).
paper  the authors' configuration (arXiv 2205.06304 and their StyleGAN2-ADA fork): AFHQv2 cats at
       256x256 from a user-given folder or zip, config-F channels, k = 512 rows, 2 mapping layers,
       R1 gamma 30, batch 16, no noise, affine lr multiplier 0.01, style mixing 0.9, path length 2.
       Differences: no ADA augmentation (x-flips only) and bilinear instead of FIR resampling.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from opgan.networks import ModelConfig


@dataclass
class TrainConfig:
    """Everything a training run needs besides the architecture (which is `model`)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    preset: str = "cpu"
    data: str = "fashion-mnist:train"
    test_fraction: float = 0.05  # held-out share of an image folder (Fashion-MNIST has its own split)
    batch: int = 32  # global batch, split across DDP ranks
    total_images: int = 140_000
    lr_g: float = 0.0025
    lr_d: float = 0.0025
    beta1: float = 0.0
    beta2: float = 0.99
    r1_gamma: float = 0.01
    r1_interval: int = 16
    pl_weight: float = 0.0
    pl_interval: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    style_mixing: float = 0.0
    ema_images: int = 10_000  # G EMA half-life in images
    ema_rampup: float = 0.05  # half-life is at most this fraction of the images seen so far
    xflip: bool = False
    seed: int = 0
    checkpoint_every: int = 10_000  # images
    sample_every: int = 10_000  # images
    log_every: int = 1_000  # images
    sample_count: int = 64
    mixed_precision: bool = False  # bfloat16 autocast, CUDA only
    threads: int = 0  # torch CPU threads; 0 = PyTorch's default

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "model"}
        data["model"] = self.model.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training options: {sorted(unknown)}")
        values = dict(data)
        values["model"] = ModelConfig(**values.get("model", {}))
        return cls(**values)


# R1 gamma per preset for k = 1 and for k > 1: the authors used 10 / 30 at 256 px; smaller scales
# follow StyleGAN2-ADA's CIFAR setting (0.01) and keep the authors' 3x ratio.
PRESETS: dict[str, dict] = {
    "smoke": {
        "model": dict(resolution=32, img_channels=1, z_dim=32, w_dim=32, channel_base=512, channel_max=32),
        "train": dict(
            data="fashion-mnist:train", batch=16, total_images=2_000, checkpoint_every=1_000,
            sample_every=1_000, log_every=200, sample_count=16, ema_images=500,
        ),
        "r1_gamma": (0.01, 0.03),
    },
    "cpu": {
        "model": dict(
            resolution=32, img_channels=1, z_dim=64, w_dim=64, channel_base=2048, channel_max=64, d_channel_max=32,
        ),
        # A 32-channel discriminator costs a quarter of a 64-channel one: ~80 img/s instead of ~54
        # on 2 cores, which is what fits 140k images (recognizable garments) into 30 minutes.
        "train": dict(data="fashion-mnist:train", batch=32, total_images=140_000, lr_g=0.0025, lr_d=0.0025),
        "r1_gamma": (0.01, 0.03),
    },
    "paper": {
        "model": dict(
            resolution=256, img_channels=3, k=512, z_dim=512, w_dim=512, channel_base=32768,
            channel_max=512, mapping_layers=2, affine_lr_mul=0.01, mbstd_group=4,
        ),
        "train": dict(
            data="", batch=16, total_images=25_000_000, lr_g=0.002, lr_d=0.002, pl_weight=2.0,
            style_mixing=0.9, xflip=True, ema_images=10_000, ema_rampup=0.0,
            checkpoint_every=200_000, sample_every=200_000, log_every=10_000,
        ),
        "r1_gamma": (10.0, 30.0),
    },
}


def make_config(preset: str = "cpu", model_overrides: dict | None = None, **train_overrides) -> TrainConfig:
    """A preset with overrides; R1 gamma follows k unless given."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    spec = PRESETS[preset]
    model = ModelConfig(**{**spec["model"], **(model_overrides or {})})
    train = {**spec["train"], **{key: value for key, value in train_overrides.items() if value is not None}}
    if "r1_gamma" not in train:
        gamma_baseline, gamma_overparameterized = spec["r1_gamma"]
        train["r1_gamma"] = gamma_baseline if model.k == 1 else gamma_overparameterized
    return TrainConfig(model=model, preset=preset, **train)

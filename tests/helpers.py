"""Builders shared by the test files: `from helpers import tiny_generator` (pytest's default
"prepend" import mode puts tests/, the folder of conftest.py and of every test file, on sys.path)."""

from pathlib import Path

import torch

from opgan.networks import Generator, ModelConfig
from opgan.study import claims

# The tests' tiny architecture: 16 px grayscale, 8 channels in every layer (128 / resolution, capped
# at 8), 16-dim latents.
TINY_ARCHITECTURE = dict(resolution=16, img_channels=1, z_dim=16, w_dim=16, channel_base=128, channel_max=8)


def tiny_model_config(**overrides) -> ModelConfig:
    """The tiny architecture with k = 1 and ModelConfig's defaults elsewhere; `overrides` change any
    field (k, z_dim, img_channels, channel_max, ...)."""
    return ModelConfig(**{**TINY_ARCHITECTURE, "k": 1, **overrides})


def tiny_config(**overrides):
    """A training config that runs a step in well under a second: the smoke preset's recipe (its
    learning-rate multipliers, discriminator width cap, ...) on the tiny architecture."""
    from opgan.presets import PRESETS, make_config

    recipe = {name: value for name, value in PRESETS["smoke"]["model"].items() if name not in TINY_ARCHITECTURE}
    model = tiny_model_config(**{**recipe, "k": overrides.pop("k", 1)})
    train = dict(
        batch=8,
        total_images=48,
        checkpoint_every=24,
        sample_every=0,
        log_every=8,
        sample_count=4,
        ema_images=100,
        threads=0,
    )
    train.update(overrides)
    return make_config("smoke", model.to_dict(), **train)


def tiny_generator(k: int = 1, seed: int = 0) -> Generator:
    """A generator of the tiny architecture seeded for repeatable weights, in eval mode."""
    torch.manual_seed(seed)
    return Generator(tiny_model_config(k=k)).eval()


def _lpips_rows(values):
    return [{"image": f"img{i}", "lpips": float(v)} for i, v in enumerate(values)]


def opposite_claims(reverse: bool) -> list[dict]:
    """The reconstruction claim and the control on synthetic seeds: k = 64 much better than k = 1,
    and no better than the control; `reverse` makes k = 64 much worse than k = 1 and the control
    much worse than k = 64."""
    generator = torch.Generator().manual_seed(0)
    good = [_lpips_rows(0.10 + 0.01 * torch.randn(16, generator=generator)) for _ in range(3)]
    bad = [_lpips_rows(0.30 + 0.01 * torch.randn(16, generator=generator)) for _ in range(3)]
    same = [_lpips_rows(0.10 + 0.01 * torch.randn(16, generator=generator)) for _ in range(3)]
    improves = (bad, good) if not reverse else (good, bad)
    control = (same, good) if not reverse else (bad, good)
    return [
        claims.reconstruction_claim("reconstruction-improves", *improves, space="w", k_max=64),
        claims.reconstruction_claim("rows-beat-control", *control, space="w", k_max=64),
    ]


# The tiny model with 8-dim latents (the interpolation tests write their code shapes for them).
SMALL_LATENTS = dict(z_dim=8, w_dim=8)


def small_generator(seed: int) -> Generator:
    """The tiny architecture at k = 4 with 8-dim latents, w_avg tracked so that codes around it make images."""
    torch.manual_seed(seed)
    G = Generator(tiny_model_config(k=4, **SMALL_LATENTS)).eval()
    for _ in range(10):
        G.mapping(G.sample_z(16), update_w_avg=True)
    return G


ROOT = Path(__file__).resolve().parents[1]  # the repository

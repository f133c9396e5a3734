import os

import pytest
import torch

# Tests must be deterministic and must not fight over the 2 cores with each other's thread pools.
torch.set_num_threads(int(os.environ.get("OPGAN_TEST_THREADS", "2")))


@pytest.fixture(scope="session")
def fashion_test():
    """The first 512 Fashion-MNIST test images (installed by `make test`)."""
    from opgan.data import load_images

    return load_images("fashion-mnist:test:512")


def tiny_config(**overrides):
    """A model/training config that runs a step in well under a second."""
    from opgan.presets import make_config

    model = dict(resolution=16, img_channels=1, z_dim=16, w_dim=16, channel_base=128, channel_max=8, k=overrides.pop("k", 1))
    train = dict(batch=8, total_images=48, checkpoint_every=24, sample_every=0, log_every=8, sample_count=4,
                 ema_images=100, threads=0)
    train.update(overrides)
    return make_config("smoke", model, **train)


def tiny_generator(k: int = 1, seed: int = 0):
    """A 16-px grayscale generator (8 channels) seeded for repeatable weights, in eval mode."""
    from opgan.networks import Generator, ModelConfig

    torch.manual_seed(seed)
    return Generator(ModelConfig(resolution=16, img_channels=1, z_dim=16, w_dim=16, channel_base=128, channel_max=8, k=k)).eval()

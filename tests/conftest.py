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

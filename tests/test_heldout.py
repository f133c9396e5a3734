"""The book's held-out images: the out-of-domain set."""

import pytest
import torch

from opgan.data import DataError
from opgan.study.heldout import out_of_domain_images


@pytest.mark.slow  # VGG16 features of a few hundred images: outside the quick loop
def test_out_of_domain_images_come_at_the_model_size_and_mix_kinds():
    mixed = out_of_domain_images(32, 3, count=32)
    assert mixed.images.shape == (32, 3, 32, 32) and mixed.images.dtype == torch.uint8
    kinds = [name.split("-")[0] if name.startswith(("lfw", "mnist")) else "photo" for name in mixed.names]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {"photo": 11, "lfw": 11, "mnist": 10}
    assert len(set(mixed.names)) == 32 and mixed.images.float().std() > 10
    few = out_of_domain_images(32, 1, count=6)
    assert len(few) == 6 and sum(name.startswith("mnist") for name in few.names) == 2
    with pytest.raises(DataError):
        out_of_domain_images(32, 1, count=0)

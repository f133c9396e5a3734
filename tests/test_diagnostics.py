"""What training did to the weights: distance from the initialization, affine spectra and their summary."""

import pytest
import torch
from helpers import tiny_generator

from opgan.diagnostics import distance_from_init


def scaled_weights(G, factor, which=lambda name: True):
    """Multiplies the weight tensors of G that `which` picks by `factor`, in place."""
    with torch.no_grad():
        for name, param in G.named_parameters():
            if name.endswith("weight") and which(name):
                param.mul_(factor)


def test_an_unchanged_model_is_at_distance_zero_in_every_group():
    G = tiny_generator(k=2)
    start = {name: value.clone() for name, value in G.state_dict().items()}
    assert distance_from_init(G, start) == {"mapping": 0.0, "affine": 0.0, "conv": 0.0, "torgb": 0.0}
    with torch.no_grad():  # biases and the 4x4 constant are not weights: they do not count
        for name, param in G.named_parameters():
            if not name.endswith("weight"):
                param.add_(1.0)
    assert set(distance_from_init(G, start).values()) == {0.0}


def test_weights_scaled_by_1_1_are_at_distance_0_1():
    G = tiny_generator(k=2)
    start = {name: value.clone() for name, value in G.state_dict().items()}
    scaled_weights(G, 1.1)
    everywhere = {"mapping": 0.1, "affine": 0.1, "conv": 0.1, "torgb": 0.1}
    assert distance_from_init(G, start) == pytest.approx(everywhere, rel=1e-5)
    G.load_state_dict(start)

    def is_conv(name):
        return name.startswith("synthesis.") and ".affine." not in name and ".torgb." not in name

    scaled_weights(G, 1.1, is_conv)
    only_conv = {"mapping": 0.0, "affine": 0.0, "conv": 0.1, "torgb": 0.0}
    assert distance_from_init(G, start) == pytest.approx(only_conv, abs=1e-6)


def test_the_distance_of_a_group_is_the_median_of_its_tensors():
    G = tiny_generator(k=1)
    start = {name: value.clone() for name, value in G.state_dict().items()}
    torgb = [name for name, _ in G.named_parameters() if name.endswith(".torgb.weight")]
    assert len(torgb) == 3  # one ToRGB per resolution: 4, 8 and 16 px
    for name, factor in zip(torgb, (1.1, 1.2, 1.5)):
        scaled_weights(G, factor, lambda n, chosen=name: n == chosen)
    assert distance_from_init(G, start)["torgb"] == pytest.approx(0.2, rel=1e-5)  # the median of 0.1, 0.2, 0.5

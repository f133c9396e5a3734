"""What training did to the weights: distance from the initialization, affine spectra and their summary."""

import pytest
import torch
from helpers import tiny_generator, tiny_model_config

from opgan.diagnostics import affine_singular_values, distance_from_init, spectrum_summary
from opgan.networks import Generator


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


def test_affine_singular_values_of_a_known_diagonal_weight():
    # affine layers of the 16 px model: conv1 and torgb at 4 px, conv0, conv1 and torgb at 8 and 16 px
    torch.manual_seed(0)
    G = Generator(tiny_model_config(affine_lr_mul=0.01)).eval()
    layer = G.synthesis.blocks[1].conv0.affine  # w_dim 16 -> 8 channels
    diagonal = torch.zeros(8, 16)
    diagonal[range(8), range(8)] = torch.tensor([3.0, -8.0, 1.0, 5.0, 2.0, 7.0, 4.0, 6.0])
    with torch.no_grad():
        layer.weight.copy_(diagonal * 400)  # the layer applies weight x lr_mul / sqrt(w_dim) = weight / 400
    spectra = affine_singular_values(G)
    assert len(spectra) == 8 and all(values.shape == (8,) for values in spectra.values())
    eight_to_one = torch.arange(8.0, 0.0, -1.0, dtype=torch.float64)
    torch.testing.assert_close(spectra["blocks.1.conv0"], eight_to_one, rtol=1e-6, atol=1e-6)
    assert all(bool((values[:-1] >= values[1:]).all()) for values in spectra.values())  # descending
    rows = {row["layer"]: row for row in spectrum_summary(spectra)}
    assert rows["blocks.1.conv0"]["size"] == 8 and rows["blocks.1.conv0"]["largest"] == pytest.approx(8.0)
    assert rows["blocks.1.conv0"]["largest_over_median"] == pytest.approx(2.0)  # 8 over the lower median 4


def test_spectrum_summary_of_known_spectra():
    flat, spike, three = spectrum_summary(
        {
            "flat": torch.ones(5, dtype=torch.float64),
            "spike": torch.tensor([1.0, 1e-9, 1e-9], dtype=torch.float64),
            "three": torch.tensor([3.0, 3.0, 3.0, 0.0, 0.0], dtype=torch.float64),
        }
    )
    assert flat["layer"] == "flat" and flat["size"] == 5
    assert flat["largest"] == 1.0 and flat["largest_over_median"] == 1.0
    assert flat["effective_rank"] == pytest.approx(5.0)
    assert spike["effective_rank"] == pytest.approx(1.0, abs=1e-6)
    assert spike["largest_over_median"] == pytest.approx(1e9)
    assert three["effective_rank"] == pytest.approx(3.0) and three["largest_over_median"] == 1.0  # zeros add no rank

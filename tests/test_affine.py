"""The affine layers' spectra."""

import pytest
import torch
from helpers import tiny_model_config

from opgan.networks import Generator
from opgan.study.affine import affine_singular_values, spectrum_summary


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

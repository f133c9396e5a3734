"""What training did to the weights: affine spectra and their summary."""

import pytest
import torch

from conftest import tiny_generator
from opgan.diagnostics import affine_singular_values, spectrum_summary


def test_affine_singular_values_and_spectrum_summary():
    G = tiny_generator(k=1)
    spectra = affine_singular_values(G)
    assert len(spectra) == len([n for n, _ in G.synthesis.named_modules() if n.endswith("affine")])
    name, values = next(iter(spectra.items()))
    module = dict(G.synthesis.named_modules())[name + ".affine"]
    torch.testing.assert_close(values, torch.linalg.svdvals(module.effective_weight().double()))
    assert torch.all(values[:-1] >= values[1:])
    flat = spectrum_summary({"flat": torch.ones(5, dtype=torch.float64), "spike": torch.tensor([1.0, 1e-9, 1e-9], dtype=torch.float64)})
    assert flat[0]["effective_rank"] == pytest.approx(5.0)
    assert flat[1]["effective_rank"] == pytest.approx(1.0, abs=1e-6)



"""The reconstruction page's measurements: the convergence criterion of the long budget."""

import pytest
import torch

from opgan.study.reconstruction import tail_improvement


def test_tail_improvement_compares_the_last_fifth_of_the_steps():
    records = {
        "step": torch.tensor([0, 10, 20, 30, 40, 50]),
        "lpips": torch.tensor([[1.0, 1.0], [0.5, 0.5], [0.4, 0.4], [0.3, 0.3], [0.2, 0.2], [0.19, 0.21]]),
        "mse": torch.tensor([[0.1, 0.1]] * 5 + [[0.05, 0.05]]),
    }
    # the tail starts at step 40: loss 0.2 + 0.1 = 0.3 -> 0.2 + 0.05 = 0.25
    assert tail_improvement(records, {"lpips": 1.0, "mse": 1.0}) == pytest.approx(0.05 / 0.3)
    assert tail_improvement(records, {"lpips": 1.0}) == pytest.approx(0.0, abs=1e-6)

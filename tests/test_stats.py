import numpy as np
import pytest
import torch

from opgan import stats


def test_interval_covers_a_known_difference():
    generator = torch.Generator().manual_seed(0)
    true = 0.3
    covered = 0
    for trial in range(40):
        improvements = true + torch.randn(64, generator=generator)
        estimate = stats.paired_mean(improvements, draws=2000, seed=trial)
        covered += estimate.low <= true <= estimate.high
        assert estimate.low < estimate.value < estimate.high
    assert covered >= 34  # a 95% interval covers the truth in most of 40 trials


def test_seeds_widen_the_interval():
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(64, generator=generator) * 0.1
    same = torch.stack([images + 0.5] * 3)
    spread = torch.stack([images + 0.5 + shift for shift in (-0.3, 0.0, 0.3)])
    assert stats.paired_mean(spread).half_width > 2 * stats.paired_mean(same).half_width
    assert stats.paired_mean(spread).seeds == 3


def test_verdict_flips_to_inconclusive_when_the_interval_straddles_the_tolerance():
    clear = stats.Estimate(0.05, 0.03, 0.07)
    assert stats.verdict(clear, 0.01, "better") == "agrees"
    assert stats.verdict(clear, 0.05, "better") == "inconclusive"
    assert stats.verdict(clear, 0.08, "better") == "differs"
    worse = stats.Estimate(-0.05, -0.07, -0.03)
    assert stats.verdict(worse, 0.01, "kept") == "differs"
    assert stats.verdict(worse, 0.05, "kept") == "inconclusive"
    assert stats.verdict(worse, 0.08, "kept") == "agrees"
    with pytest.raises(ValueError):
        stats.verdict(clear, 0.01, "maybe")


def test_bootstrap_of_a_set_statistic():
    generator = torch.Generator().manual_seed(2)
    a, b = torch.randn(200, generator=generator) + 1.0, torch.randn(200, generator=generator)
    estimate = stats.bootstrap(lambda i, j: (a[i].mean() - b[j].mean()).item(), (200, 200), draws=300)
    assert estimate.low < 1.0 < estimate.high
    assert estimate.low > 0.5


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        stats.paired_mean([0.1])
    with pytest.raises(ValueError):
        stats.paired_mean([0.1, float("nan")])


def test_summarize_means_and_stds_per_group():
    rows = [
        {"k": 1, "space": "w", "psnr": 10.0, "ssim": 0.5, "lpips": 0.4},
        {"k": 1, "space": "w", "psnr": 14.0, "ssim": 0.7, "lpips": 0.2},
        {"k": 4, "space": "w", "psnr": 20.0, "ssim": 0.9, "lpips": 0.1},
    ]
    table = stats.summarize(rows, ("k", "space"))
    assert [(r["k"], r["images"]) for r in table] == [(1, 2), (4, 1)]
    assert table[0]["psnr_mean"] == pytest.approx(12.0)
    assert table[0]["psnr_std"] == pytest.approx(np.std([10.0, 14.0], ddof=1))
    assert table[1]["lpips_std"] == 0.0

"""The dose-response analysis: the mechanism rows at every training length, their own family, and
the trend with the seeds paired across lengths."""

import dataclasses
import json
import math

import torch

from opgan.study import claims, findings
from opgan.study.dose import (
    DoseResponse,
    GammaCheck,
    ScaleOrMechanism,
    detectable_change,
    length_text,
    replication_text,
    report_text,
    sweep_replication,
)
from opgan.study.kept import Run
from opgan.study.sweep import Sweep

LENGTHS = (150_000, 300_000, 450_000)


def dose(lead_by_length: dict[int, float], seeds=3, images=16, seed_sd=0.03) -> DoseResponse:
    """Synthetic kept runs: the control's LPIPS 0.05, the trained model's 0.05 * exp(lead) at each
    length (lead > 0: the control better), a per-seed offset shared across lengths (paired runs)."""
    generator = torch.Generator().manual_seed(0)
    offsets = seed_sd * torch.randn(seeds, generator=generator)
    found = DoseResponse(64, ["w", "w+"], LENGTHS, list(range(seeds)))
    for length in LENGTHS:
        for space in found.spaces:
            for control in (False, True):
                runs = []
                for seed in range(seeds):
                    noise = 0.01 * torch.randn(images, generator=generator)
                    log_lpips = math.log(0.05) + (0 if control else lead_by_length[length] + offsets[seed].item())
                    rows = [
                        {
                            "image": f"img{i}",
                            "lpips": math.exp(log_lpips + noise[i].item()),
                            "psnr": 30.0 - noise[i].item(),
                        }
                        for i in range(images)
                    ]
                    runs.append(Run((64, space, control), seed, rows, [], [], {}))
                found.runs[(length, (64, space, control))] = runs
    return found


def test_every_length_gets_the_mechanism_rows_in_a_family_of_their_own():
    response = dose({150_000: 0.6, 300_000: 0.5, 450_000: 0.4})
    rows = response.claims()
    assert len(rows) == 3 * 2 * 2  # lengths x metrics x spaces
    assert {r["subset"] for r in rows} == {f"{length_text(n)} images" for n in LENGTHS}
    lpips_450 = [r for r in rows if r["metric_id"] == "lpips" and r["subset"] == "450k images"]
    assert all(r["verdict"] == "contradicted" for r in lpips_450)  # the control 1.5x better everywhere
    assert "450k" in lpips_450[0]["claim"] and claims.claim_of(lpips_450[0]).family == "dose"
    # Holm per family: adding the dose rows does not change the claims family's correction
    paper = claims.reconstruction_claim(
        "rows-beat-control",
        response.results(150_000, (64, "w", True)),
        response.results(150_000, (64, "w", False)),
        "w",
        k_max=64,
    )
    alone = claims.family_wise([paper])[0]["holm"]
    together = claims.family_wise([paper, *rows])
    assert together[0]["holm"] == alone
    assert "over the 1 rows" in findings.holm_sentence(together)


def test_the_trend_says_which_way_the_lead_moves():
    shrinking = dose({150_000: 0.4, 300_000: 0.25, 450_000: 0.1})
    for space in ("w", "w+"):
        change = shrinking.trend(space)
        assert change.low > 0 and abs(change.value - 0.3) < 0.05  # D rises from -0.4 to -0.1
        assert "the control's lead shrinks" in findings.dose_sentence(change, "150k", "450k")
    flat = dose({150_000: 0.3, 300_000: 0.3, 450_000: 0.3}).trend("w")
    assert flat.low < 0 < flat.high
    points = shrinking.points()
    assert len(points) == 2 * 3 * 3 and all(p["log_control_over_trained"] < 0 for p in points)


def test_the_detectable_change_is_about_two_and_a_half_spreads_with_three_seeds():
    assert 2.4 < detectable_change(1.0, 3) < 2.6
    assert detectable_change(1.0, 5) < detectable_change(1.0, 3)


class DecidingRuns:
    """A stand-in for the page's deciding budget: the sweep's own runs are the 150k runs."""

    def __init__(self, response):
        self.response = response

    def rows(self, side):
        return self.response.results(150_000, side)


def test_the_section_says_the_power_first_then_the_trend_and_the_gamma_check():
    response = dose({150_000: 0.4, 300_000: 0.25, 450_000: 0.1})
    gamma_rows = [
        {"space": "w", "metric_id": "lpips", "verdict": "contradicted", "qualifier": ""},
        {"space": "w+", "metric_id": "lpips", "verdict": "inconclusive", "qualifier": ""},
    ]
    same_seeds = [dict(gamma_rows[0]), dict(gamma_rows[1], verdict="contradicted")]
    scale = ScaleOrMechanism(DecidingRuns(response), ["w", "w+"], response, GammaCheck(gamma_rows, same_seeds, []))
    lines = scale.report()
    assert lines[0].startswith("**Said before the result.**") and "3 training seeds" in lines[0]
    assert "the control's lead shrinks" in lines[1] and "not claimed" in lines[1]  # 450k still contradicts
    assert "excluded here" in lines[3] and "depends on γ" in lines[4]
    unfinished = dataclasses.replace(response, missing=["cpu-k64-seed2-450k-w-600steps-32images (model not trained)"])
    waiting = ScaleOrMechanism(DecidingRuns(response), ["w", "w+"], unfinished, GammaCheck([], [], ["x"]))
    assert "Not decided yet" in waiting.report()[1] and waiting.claims() == []
    assert "Not part of this build" in report_text(None)


def test_the_first_page_says_what_the_longest_training_reads_and_whether_gamma_matters():
    rows = dose({150_000: 0.6, 300_000: 0.5, 450_000: 0.4}).claims()
    gamma = dict(rows[0], claim_id="gamma-rows-beat-control", space="w+", note="3 seeds; the result depends on γ here")
    text = " ".join(findings.findings(rows + [gamma]))
    assert "**Scale or mechanism**" in text and "450k" in text and "no effect of short training is claimed" in text
    assert "**The result depends on R1 γ** in W+" in text


def test_the_new_runs_are_set_against_the_spread_of_the_shipped_sweep(tmp_path):
    def record(name, fd, device):
        (tmp_path / f"{name}.pt").write_bytes(b"")
        (tmp_path / f"{name}.pt.json").write_text(json.dumps({"fd_vgg16_samples_vs_test": fd, "device": device}))

    for seed in range(8):
        suffix = f"-seed{seed}" if seed else ""
        record(f"cpu-k1{suffix}", 20.0 + seed % 3, "NVIDIA H200")
        record(f"cpu-k64{suffix}", 22.0 + seed % 4, "NVIDIA H200")
    record("cpu-k1-150k", 16.4, "cpu (AMD EPYC, 1 threads)")
    record("cpu-k64-150k", 23.0, "cpu (AMD EPYC, 1 threads)")
    sweep = Sweep("cpu", [1, 64], [0], tmp_path, device="cpu")
    rows = sweep_replication(sweep, [0, 1])  # seed 1 has no export yet: left out
    assert [(r["k"], r["seed"]) for r in rows] == [(1, 0), (64, 0)]
    text = replication_text(rows)
    assert "k = 1 seed 0: 16.4 (outside the sweep's 20.0–22.0" in text and "k = 64 seed 0: 23.0 (inside" in text
    assert "trained on cpu (AMD EPYC, 1 threads); the sweep's on NVIDIA H200" in text
    assert "Do the new runs replicate the sweep?" in report_text(None, sweep, 1)

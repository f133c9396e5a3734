import pytest
import torch

from opgan.study import claims, findings


def _rows(values):
    return [{"image": f"img{i}", "lpips": float(v)} for i, v in enumerate(values)]


def test_reconstruction_claim_flips_when_the_results_say_the_opposite():
    generator = torch.Generator().manual_seed(0)
    good = [_rows(0.10 + 0.01 * torch.randn(64, generator=generator)) for _ in range(3)]
    bad = [_rows(0.20 + 0.01 * torch.randn(64, generator=generator)) for _ in range(3)]
    forward = claims.reconstruction_claim("reconstruction-improves", baseline=bad, candidate=good, k_max=64)
    backward = claims.reconstruction_claim("reconstruction-improves", baseline=good, candidate=bad, k_max=64)
    assert forward["verdict"] == "agrees" and forward["seeds"] == 3 and forward["images"] == 64
    assert backward["verdict"] == "contradicted"
    assert forward["ci_low"] < forward["improvement"] < forward["ci_high"]
    assert "Welch" in forward["interval"]
    assert "agrees" in findings.sentence(forward) and "0.01" in findings.sentence(forward)


def test_a_small_gain_is_no_material_gain():
    generator = torch.Generator().manual_seed(3)
    base = [_rows(0.150 + 0.001 * torch.randn(64, generator=generator)) for _ in range(4)]
    cand = [_rows(0.148 + 0.001 * torch.randn(64, generator=generator)) for _ in range(4)]
    assert claims.reconstruction_claim("reconstruction-improves", base, cand)["verdict"] == "no material gain"


def test_noise_alone_is_inconclusive():
    generator = torch.Generator().manual_seed(1)
    a = [_rows(0.15 + 0.05 * torch.randn(8, generator=generator)) for _ in range(2)]
    b = [_rows(0.15 + 0.05 * torch.randn(8, generator=generator)) for _ in range(2)]
    assert claims.reconstruction_claim("reconstruction-improves", a, b)["verdict"] == "inconclusive"


def test_fd_claim_sees_a_shifted_set_as_worse():
    generator = torch.Generator().manual_seed(2)
    real = torch.randn(300, 16, generator=generator)
    close = [torch.randn(100, 16, generator=generator) + 0.5 for _ in range(3)]
    far = [torch.randn(100, 16, generator=generator) + 1.5 for _ in range(3)]
    kept = claims.fd_claim("generation-kept", baseline=close, candidate=far, real=real)
    assert kept["verdict"] == "contradicted" and kept["improvement"] < 0
    assert claims.fd_claim("generation-kept", baseline=far, candidate=close, real=real)["verdict"] == "agrees"
    assert kept["metric"].startswith("KID") and kept["seeds"] == 3


def test_mismatched_images_are_refused():
    with pytest.raises(ValueError):
        claims.reconstruction_claim(
            "reconstruction-improves",
            [_rows([0.1, 0.2])],
            [[{"image": "other", "lpips": 0.1}, {"image": "img0", "lpips": 0.1}]],
        )


def _midpoint_rows(generator, realism_of_trained: float, seeds=4):
    """Midpoint rows for k = 1, the control and trained k = 4 on the same 12 pairs of 8 images."""
    labels = ["Bag", "Coat"] * 4
    names = [f"fashion-mnist-test-{i:05d}-{label}" for i, label in enumerate(labels)]
    pairs = [(a, b) for a in range(8) for b in range(a + 1, 8)][:12]
    rows = []
    for k, trained_k, level in ((1, 1, 1.0), (4, 1, 1.0), (4, 4, realism_of_trained)):
        for seed in range(seeds):
            for index, (a, b) in enumerate(pairs):
                value = level + 0.02 * torch.randn(1, generator=generator).item()
                rows.append(
                    {
                        "pair": index,
                        "image_a": names[a],
                        "image_b": names[b],
                        "same_class": labels[a] == labels[b],
                        "k": k,
                        "trained_k": trained_k,
                        "seed": seed,
                        "space": "w",
                        "realism": value,
                        "confidence": value / 2,
                    }
                )
    return rows


def test_midpoint_claims_flip_when_the_trained_model_is_worse():
    generator = torch.Generator().manual_seed(4)
    same = claims.midpoint_claims(_midpoint_rows(generator, 1.0), 4, ["w"], range(4))
    worse = claims.midpoint_claims(_midpoint_rows(generator, 0.6), 4, ["w"], range(4))
    # 2 comparisons x 2 pair subsets x 2 measures
    assert len(same) == 8 and {row["verdict"] for row in same} == {"agrees"}
    assert {row["verdict"] for row in worse} == {"contradicted"}
    assert {row["comparison"].split(", ")[-1] for row in same} == {"within-class pairs", "cross-class pairs"}
    assert all("image-clustered" in row["interval"] for row in same)


def test_near_perfect_is_judged_against_its_fixed_bars():
    generator = torch.Generator().manual_seed(5)

    def seeds(lpips, psnr):
        return [
            [
                {
                    "image": f"img{i}",
                    "lpips": lpips + 0.002 * torch.randn(1, generator=generator).item(),
                    "psnr": psnr + 0.3 * torch.randn(1, generator=generator).item(),
                }
                for i in range(16)
            ]
            for _ in range(3)
        ]

    good = claims.near_perfect_claims(64, seeds(lpips=0.02, psnr=34.0))
    bad = claims.near_perfect_claims(64, seeds(lpips=0.09, psnr=24.0))
    assert [row["metric"] for row in good] == list(claims.NEAR_PERFECT)
    assert {row["verdict"] for row in good} == {"agrees"} and {row["verdict"] for row in bad} == {"contradicted"}
    lpips_row = next(row for row in good if row["metric"] == "lpips")
    # the improvement is the distance past the bar, positive on the good side
    assert lpips_row["improvement"] == pytest.approx(claims.NEAR_PERFECT["lpips"] - 0.02, abs=0.002)
    assert lpips_row["seeds"] == 3 and "threshold" in lpips_row["interval"] and lpips_row["space"] == "w"


def test_out_of_domain_claims_take_every_seed():
    generator = torch.Generator().manual_seed(6)
    small = [_rows(0.30 + 0.01 * torch.randn(32, generator=generator)) for _ in range(3)]
    large = [_rows(0.10 + 0.01 * torch.randn(32, generator=generator)) for _ in range(3)]
    control = [_rows(0.10 + 0.01 * torch.randn(32, generator=generator)) for _ in range(3)]
    gain, equal = claims.out_of_domain_claims(64, small, large, control)
    assert gain["verdict"] == "agrees" and gain["seeds"] == 3 and gain["images"] == 32
    assert equal["verdict"] in ("no material gain", "inconclusive") and "Welch" in equal["interval"]


def test_a_reduced_rate_that_stayed_at_initialization_is_not_tamer_than_it():
    rows = []
    for seed, shift in enumerate((0.0, 0.02, -0.02)):  # three trainings per side
        for model, ratios in (
            ("regular", [3.0, 3.2, 3.4, 3.1]),
            ("reduced", [2.4, 2.5, 2.4, 2.6]),
            ("init", [2.4, 2.5, 2.4, 2.6]),
        ):
            rows += [{"model": model, "seed": seed, "largest_over_median": ratio + shift} for ratio in ratios]
    versus_regular, versus_initial = claims.affine_claims(rows, "regular", "reduced", initial="init")
    assert versus_regular["verdict"] == "agrees" and versus_regular["seeds"] == 3 and versus_regular["images"] == 4
    assert (
        "Welch t over training seeds" in versus_regular["interval"] and "layer variance" in versus_regular["interval"]
    )
    assert versus_initial["improvement"] == 0 and versus_initial["verdict"] == "no material gain"
    assert len(claims.affine_claims(rows, "regular", "reduced")) == 1
    # the opposite result flips the verdict
    flipped = claims.affine_claims(rows, "reduced", "regular")[0]
    assert flipped["verdict"] == "contradicted"


def test_generation_claims_take_every_seed_a_recipe_variant_was_trained_at():
    generator = torch.Generator().manual_seed(7)
    real = torch.randn(200, 8, generator=generator)
    samples = {(k, s): torch.randn(100, 8, generator=generator) + 0.3 for k in (1, 4) for s in range(4)}
    # the path-length variant at 2 of the 4 seeds only, and much further from the real set
    variant = {("paper", k, s): torch.randn(100, 8, generator=generator) + 2.0 for k in (1, 4) for s in range(2)}
    found = claims.generation_claims(samples, variant, real, [1, 4], range(4))
    assert [row["claim"].split(" (")[0] for row in found] == [
        "Generation quality kept",
        *["The paper's path-length regularization keeps generation quality"] * 2,
    ]
    assert found[1]["seeds"] == 2 and found[1]["verdict"] == "contradicted"
    assert (
        len(claims.generation_claims(samples, {key: variant[key] for key in list(variant)[:1]}, real, [1, 4], range(4)))
        == 1
    )


def test_the_committed_claims_that_committed_results_decide_are_rebuilt_exactly():
    """Every claims row whose inputs are committed under book/results (the midpoint scores, the
    out-of-domain results, the affine spectra) comes out of the current code with the committed
    values, to the 6 significant digits the CSVs keep (the inputs are rounded to them too, so a
    difference of nearly equal means moves in its 6th digit: 1e-6 absolute)."""
    from helpers import ROOT

    from opgan.results import TEXT_COLUMNS, read_table

    results = ROOT / "book" / "results"
    midpoints = read_table(results / "midpoints.csv", text=("image_a", "image_b", "same_class", "model", "space"))
    seeds = sorted({row["seed"] for row in midpoints})
    k_max = max(row["k"] for row in midpoints)
    ood = read_table(results / "out_of_domain.csv", text=(*TEXT_COLUMNS, "model"))
    by_side = {
        label: [
            [row for row in ood if row["model"] == label and row["seed"] == s] for s in sorted({r["seed"] for r in ood})
        ]
        for label in ("k = 1", f"k = {k_max}", "the control")
    }
    affine = read_table(results / "affine.csv", text=("model", "layer"))
    labels = list(dict.fromkeys(row["model"] for row in affine))  # regular, reduced, at initialization
    rebuilt = (
        claims.midpoint_claims(midpoints, k_max, ["w", "w+"], seeds)
        + claims.out_of_domain_claims(k_max, by_side["k = 1"], by_side[f"k = {k_max}"], by_side["the control"])
        + claims.affine_claims(affine, labels[0], labels[1], initial=labels[2])
    )
    committed = claims.read_claims(results / "claims.csv")
    key = lambda row: (row["claim_id"], row["space"], row["subset"], row["metric_id"])  # noqa: E731
    committed = {key(row): row for row in committed}
    assert len(rebuilt) == 20 and all(key(row) in committed for row in rebuilt)
    for row in rebuilt:
        kept = committed[key(row)]
        for column in ("baseline_value", "candidate_value", "improvement", "ci_low", "ci_high", "se", "df"):
            assert kept[column] == pytest.approx(row[column], rel=1e-5, abs=1e-6), (key(row), column)
        for column in ("claim", "comparison", "metric", "kind", "tolerance", "verdict", "images", "seeds", "interval"):
            assert kept[column] == row[column], (key(row), column)

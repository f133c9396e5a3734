"""scripts/flip_check.py: which run folders it swaps and what it accepts as a mirrored claim (the
whole check runs in `make test` on the smoke book)."""

import importlib.util
import json
from pathlib import Path

from opgan.files import write_json
from opgan.study import cache

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("flip_check", ROOT / "scripts" / "flip_check.py")
flip_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(flip_check)


def test_swaps_k1_with_its_largest_k_twin_and_leaves_the_control(tmp_path):
    names = [
        "smoke-k1-w",
        "smoke-k32-w",
        "check-smoke-k1-seed1-w+",
        "check-smoke-k32-seed1-w+",
        "smoke-k1-as-k32-w",
        "smoke-k16-w",
        "ood-smoke-k1-w+",
    ]  # the last has no twin
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.csv").write_text(name)
        (tmp_path / name / "codes.pt").write_text(name)  # the codes stay: they fit only their own model
    (tmp_path / "smoke-k1-w" / "midpoint-scores.pt").write_text("smoke-k1-w")
    (tmp_path / "smoke-k32-w" / "midpoint-scores.pt").write_text("smoke-k32-w")
    for model in ("smoke-k1-seed1", "smoke-k32-seed1", "smoke-k1-paper", "smoke-k32-paper"):  # sample features
        (tmp_path / model).mkdir()
        (tmp_path / model / "sample-features.pt").write_text(model)
    for folder in tmp_path.iterdir():  # the cache's keys, which vouch for every file
        for value in folder.glob("*-*.pt"):
            write_json(value.with_name(value.name + ".key.json"), {"file": cache.manifest(folder, [value])[value.name]})
        if (folder / "results.csv").is_file():
            write_json(folder / cache.CACHE_KEY, {"files": cache.manifest(folder, cache.verifiable_files(folder))})
    assert flip_check.swap_results(tmp_path, 32) == 4
    for folder in tmp_path.iterdir():  # the swapped files are vouched for: the pages read them back
        if (folder / cache.CACHE_KEY).is_file():
            assert cache.damage(folder, json.loads((folder / cache.CACHE_KEY).read_text())["files"]) is None
        for value in folder.glob("*-*.pt"):
            recorded = json.loads(value.with_name(value.name + ".key.json").read_text())["file"]
            assert cache.damage(folder, {value.name: recorded}) is None
    read = {path.parent.name + "/" + path.name: path.read_text() for path in tmp_path.glob("*/*")}
    assert json.loads(read["smoke-k1-w/cache-key.json"])["files"]["results.csv"][0] == len("smoke-k32-w")
    assert read["smoke-k1-w/results.csv"] == "smoke-k32-w" and read["smoke-k32-w/results.csv"] == "smoke-k1-w"
    assert read["smoke-k1-w/midpoint-scores.pt"] == "smoke-k32-w"
    assert read["check-smoke-k1-seed1-w+/results.csv"] == "check-smoke-k32-seed1-w+"
    assert read["smoke-k1-seed1/sample-features.pt"] == "smoke-k32-seed1"
    for unchanged in ("smoke-k1-as-k32-w", "smoke-k16-w", "ood-smoke-k1-w+"):
        assert read[f"{unchanged}/results.csv"] == unchanged
    assert read["smoke-k1-paper/sample-features.pt"] == "smoke-k1-paper"  # a recipe variant: no sweep twin
    assert all(read[f"{name}/codes.pt"] == name for name in names)
    assert not list(tmp_path.glob("*/*.swap"))


def test_a_mirror_needs_the_negated_interval_and_the_rules_verdict():
    original = {
        "metric_id": "lpips",
        "metric": "lpips",
        "improvement": 0.2,
        "ci_low": 0.1,
        "ci_high": 0.3,
        "tolerance": 0.01,
        "kind": "better",
        "verdict": "agrees",
    }
    mirror = {"improvement": -0.2, "ci_low": -0.3, "ci_high": -0.1, "verdict": "contradicted"}
    assert flip_check.mirrored(original, mirror) == []
    assert flip_check.mirrored(original, {**mirror, "verdict": "agrees"})  # a page that kept its verdict
    assert flip_check.mirrored(original, {**mirror, "improvement": 0.2})  # or read the same side twice
    # "no worse": a small loss inside the tolerance mirrors to a small gain, which agrees too
    kept = {**original, "kind": "kept", "improvement": -0.005, "ci_low": -0.008, "ci_high": -0.002}
    gain = {"improvement": 0.005, "ci_low": 0.002, "ci_high": 0.008}
    assert flip_check.mirrored({**kept, "verdict": "agrees"}, {**gain, "verdict": "agrees"}) == []
    assert flip_check.mirrored({**kept, "verdict": "agrees"}, {**gain, "verdict": "inconclusive"})


def test_a_relative_mirror_negates_the_log_ratio():
    from opgan.study.stats import seed_comparison

    baseline = [[1.0, 1.2, 0.9], [1.1, 1.0, 1.3]]
    candidate = [[0.7, 0.8, 0.6], [0.9, 0.6, 0.8], [0.7, 0.75, 0.7]]
    for lower_is_better in (True, False):

        def claim(base, cand, lower_is_better=lower_is_better):
            estimate = seed_comparison(base, cand, lower_is_better=lower_is_better, relative=True)
            return {
                "metric_id": "kid" if lower_is_better else "realism",
                "baseline_value": estimate.baseline,
                "candidate_value": estimate.candidate,
                "improvement": estimate.value,
                "ci_low": estimate.low,
                "ci_high": estimate.high,
                "tolerance": 0.0953,
                "kind": "kept",
                "verdict": flip_check.verdict(estimate, 0.0953, "kept"),
            }

        original, swapped = claim(baseline, candidate), claim(candidate, baseline)
        assert flip_check.mirrored(original, swapped) == []
        assert swapped["improvement"] == -original["improvement"]  # the log of the inverse ratio, exactly
        # a page that read the same side twice is caught
        assert flip_check.mirrored(original, {**swapped, "improvement": original["improvement"]})


def test_the_control_trades_with_the_trained_largest_k_of_its_seed_and_space():
    assert flip_check.control_twin("smoke-k1-as-k32-w", 32) == "smoke-k32-w"
    assert flip_check.control_twin("check-smoke-k1-seed1-as-k32-w+", 32) == "check-smoke-k32-seed1-w+"
    assert flip_check.control_twin("ood-smoke-k1-as-k32-w+", 32) == "ood-smoke-k32-w+"
    for other in ("smoke-k1-w", "smoke-k32-w", "smoke-k1-as-k16-w", "smoke-k1-seed1"):
        assert flip_check.control_twin(other, 32) is None
    assert flip_check.k_twin("smoke-k1-as-k32-w", 32) is None  # the k = 1 swap leaves the control alone

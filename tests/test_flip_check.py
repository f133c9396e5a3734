"""scripts/flip_check.py: which run folders it swaps and what it accepts as a mirrored claim (the
whole check runs in `make test` on the smoke book)."""

import importlib.util
from pathlib import Path

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
    assert flip_check.swap_results(tmp_path, 32) == 2
    read = {name: (tmp_path / name / "results.csv").read_text() for name in names}
    assert read["smoke-k1-w"] == "smoke-k32-w" and read["smoke-k32-w"] == "smoke-k1-w"
    assert read["check-smoke-k1-seed1-w+"] == "check-smoke-k32-seed1-w+"
    for unchanged in ("smoke-k1-as-k32-w", "smoke-k16-w", "ood-smoke-k1-w+"):
        assert read[unchanged] == unchanged
    assert not list(tmp_path.glob("*/results.csv.swap"))


def test_a_mirror_needs_the_negated_interval_and_the_rules_verdict():
    original = {
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

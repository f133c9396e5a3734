"""Kept runs: measured once, resumed run by run, refused when computed from other code or inputs,
read as the run their folder names; and the penalty check that a midpoint measure must pass."""

import dataclasses
import shutil

import pytest
import torch
from helpers import tiny_generator

from opgan.checkpoint import save_checkpoint
from opgan.data import to_float
from opgan.environment import PACKAGE_ROOT
from opgan.metrics import vgg16_features
from opgan.presets import inversion_config
from opgan.study import cache, claims, findings, kept
from opgan.study.midpoints import class_pairs
from opgan.study.registry import ModelSpec
from opgan.study.sweep import Sweep, SweepInversions

SIDES = [(1, "w", False), (2, "w", False), (2, "w", True)]


@pytest.fixture()
def measurer(tmp_path):
    """Tiny k = 1 and k = 2 models at seeds 0 and 1, 4 test images, 6 steps with snapshots, 3 pairs."""
    for k in (1, 2):
        for seed in (0, 1):
            G = tiny_generator(k=k, seed=seed)
            state = {"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}
            save_checkpoint(
                {**state, "train_config": {"data": "fashion-mnist:train"}},
                tmp_path / "models" / f"{ModelSpec('smoke', k, seed).name}.pt",
            )
    sweep = Sweep("smoke", [1, 2], [0, 1], tmp_path / "models", device="cpu").require()
    targets = sweep.held_out(4, part="test")
    config = dataclasses.replace(inversion_config("smoke", seed=0), steps=6, lpips_net=None, record_every=0)
    inversions = kept.with_snapshots(SweepInversions(sweep, targets, config, tmp_path / "cache", batch=4))
    real = vgg16_features(to_float(sweep.held_out(8, part="evaluation").images))
    return kept.Measurer(
        inversions, class_pairs(targets.names, 3), real, None, snapshot_seeds=1, reference=kept.reference_of(sweep, 8)
    )


def test_a_run_is_kept_with_its_numbers_and_resumed_run_by_run(measurer, tmp_path, monkeypatch):
    folder = tmp_path / "kept"
    runs = [(side, seed) for seed in (0, 1) for side in SIDES]
    assert kept.survey(measurer, runs, folder)["missing"] == runs
    for side, seed in runs[:4]:
        measurer.keep(side, seed, folder)
    first = measurer.read((1, "w", False), 0, folder)
    assert len(first.results) == 4 and len(first.midpoints) == 3
    # the snapshot seed keeps its trajectory: 3 snapshots and the end, each image and each pair
    assert sorted({row["steps"] for row in first.trajectory}) == [2, 3, 4, 6]  # 0.25 / 0.5 / 0.75 of 6 steps
    assert len(first.trajectory) == 4 * (4 + 3)
    assert measurer.read((1, "w", False), 1, folder).trajectory == []

    # a run interrupted while measuring leaves no record: it is missing, and only it is computed again
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kept, "midpoint_items", interrupted)
    with pytest.raises(KeyboardInterrupt):
        measurer.keep(*runs[0], folder)
    monkeypatch.undo()
    found = kept.survey(measurer, runs, folder)
    assert found["missing"] == [runs[0], *runs[4:]]
    assert found["kept"] == runs[1:4] and found["stale"] == []


def test_a_run_from_other_code_or_inputs_is_refused_naming_what_changed(measurer, tmp_path, monkeypatch):
    folder = tmp_path / "kept"
    measurer.keep(SIDES[0], 0, folder)
    measurer.read(SIDES[0], 0, folder)  # unchanged: read back
    # other inversion code: a copy of the package with one line added to invert.py
    package = tmp_path / "package"
    shutil.copytree(PACKAGE_ROOT, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "invert.py").write_text((package / "invert.py").read_text() + "\n# changed\n")
    monkeypatch.setattr(cache, "SOURCE_ROOT", package)
    with pytest.raises(kept.StaleKeptRun, match=r"inversion\.code_sha256 changed"):
        measurer.read(SIDES[0], 0, folder)
    found = kept.survey(measurer, [(SIDES[0], 0)], folder)
    assert found["kept"] == [] and found["missing"] == [] and len(found["stale"]) == 1
    monkeypatch.undo()
    # other pairs, other settings
    with pytest.raises(kept.StaleKeptRun, match="pairs_sha256 changed"):
        dataclasses.replace(measurer, pairs=class_pairs(measurer.inversions.targets.names, 2)).read(SIDES[0], 0, folder)
    with pytest.raises(kept.StaleKeptRun, match="no finished kept run"):
        measurer.read(SIDES[1], 0, folder)


def test_a_kept_run_is_read_as_the_run_its_folder_names(measurer, tmp_path):
    """The flip check swaps two runs' files: each must then be read as the other side's numbers."""
    folder = tmp_path / "kept"
    small, large = (1, "w", False), (2, "w", False)
    for side in (small, large):
        measurer.keep(side, 0, folder)
    before = {side: measurer.read(side, 0, folder) for side in (small, large)}
    a, b = (folder / measurer.name(side, 0) for side in (small, large))
    for name in ("results.csv", "midpoints.csv"):
        (a / name).rename(tmp_path / name)
        (b / name).rename(a / name)
        (tmp_path / name).rename(b / name)
    after = measurer.read(small, 0, folder)
    assert [r["lpips"] for r in after.results] == [r["lpips"] for r in before[large].results]
    assert {(r["k"], r["trained_k"]) for r in after.results + after.midpoints} == {(1, 1)}


def midpoint_rows(measure_values, seeds=4, images=6):
    """Synthetic midpoint rows of k = 1, k = 4 and the control in W and W+: every pair of `images` images,
    `measure_values(side, seed, pair)` -> {"realism": ..., "confidence": ...}."""
    names = [f"img{i}-{'Bag' if i % 2 else 'Coat'}" for i in range(images)]
    pairs = [(a, b) for a in range(images) for b in range(a + 1, images)]
    rows = []
    for side in ((1, 1, "w"), (1, 1, "w+"), (4, 4, "w"), (4, 4, "w+"), (4, 1, "w"), (4, 1, "w+")):
        for seed in range(seeds):
            for index, (a, b) in enumerate(pairs):
                rows.append(
                    {
                        "pair": index,
                        "image_a": names[a],
                        "image_b": names[b],
                        "same_class": (a % 2) == (b % 2),
                        "k": side[0],
                        "trained_k": side[1],
                        "seed": seed,
                        "space": side[2],
                        **measure_values(side, seed, index),
                    }
                )
    return rows


def test_a_blind_measure_fails_the_penalty_check_and_decides_nothing():
    generator = torch.Generator().manual_seed(0)

    def values(side, seed, pair):
        noise = 0.02 * torch.randn(2, generator=generator)
        penalty = 0.7 if side[2] == "w+" else 1.0  # W+ midpoints clearly less realistic
        return {"realism": (penalty + noise[0]).item(), "confidence": 0.5}  # the classifier sees nothing

    rows = midpoint_rows(values)
    checks = claims.penalty_checks(rows, 4, range(4))
    verdicts = {check["metric_id"]: check["verdict"] for check in checks}
    assert verdicts["realism"] == "agrees" and verdicts["confidence"] != "agrees"
    decided, descriptive = claims.editability_claims(rows, 4, ["w", "w+"], range(4))
    in_claims = {(r["claim_id"], r["metric_id"]) for r in decided}
    assert ("editability-kept", "realism") in in_claims and ("editability-kept", "confidence") not in in_claims
    assert {r["metric_id"] for r in descriptive} == {"confidence"} and all(r["verdict"] == "" for r in descriptive)
    assert [r for r in decided if r["claim_id"] == "editability-penalty-detected"] == checks
    assert not any(claims.in_family(r) for r in checks)  # a manipulation check: outside the family
    text = " ".join(findings.findings(decided))
    assert "midpoint classifier confidence could not see the known loss" in text and "**Editability kept**" in text
    blind_everywhere = claims.editability_claims(
        midpoint_rows(lambda *_: {"realism": 1.0, "confidence": 0.5}), 4, ["w", "w+"], range(4)
    )
    assert "**Editability is not decided**" in " ".join(findings.findings(blind_everywhere[0]))


def test_a_measure_that_sees_no_penalty_fails_its_check_whichever_way_it_leans():
    generator = torch.Generator().manual_seed(1)

    def values(side, seed, pair):
        noise = 0.05 * torch.randn(2, generator=generator)
        confident = 1.15 if side[2] == "w+" else 1.0  # the confidence *rises* in W+: the wrong way
        return {"realism": (1.0 + noise[0]).item(), "confidence": (0.5 * confident + noise[1]).item()}

    verdicts = {c["metric_id"]: c["verdict"] for c in claims.penalty_checks(midpoint_rows(values), 4, range(4))}
    assert verdicts["realism"] != "agrees" and verdicts["confidence"] == "contradicted"


def test_the_dose_response_reads_the_kept_runs_of_its_models_as_the_script_keeps_them(measurer, tmp_path):
    """Kept runs of model variants (a training length) are named and keyed so that the reconstruction
    page's dose-response reader finds them, and says what is missing."""
    from types import SimpleNamespace

    from opgan.study.dose import DoseResponse

    sweep = measurer.inversions.sweep
    lengths = (150_000, 450_000)
    for length in lengths:
        for k in (1, 2):
            for seed in (0, 1):
                G = tiny_generator(k=k, seed=seed + length // 1000)
                state = {"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}
                save_checkpoint(
                    {**state, "train_config": {"data": "fashion-mnist:train"}},
                    sweep.path(k, seed, images=length),
                )
    folder = tmp_path / "kept"
    base = measurer.inversions
    for length in lengths:  # what `scripts/kept_runs.py --variant images=L --seeds 0 1` does
        variant = SweepInversions(sweep, base.targets, base.inversion, base.cache, base.batch, {"images": length})
        keeping = dataclasses.replace(measurer, inversions=variant)
        for side in ((2, "w", False), (2, "w", True)):
            for seed in (0, 1):
                if (length, side, seed) != (450_000, (2, "w", True), 1):  # one run left missing
                    keeping.keep(side, seed, folder)
    long = SimpleNamespace(page=SimpleNamespace(sweep=sweep), inversions=base, measurer=measurer, kept=folder)
    response = DoseResponse.read(long, ["w"], [0, 1], lengths)
    assert not response.complete and len(response.missing) == 1 and "smoke-k1-seed1-450k-as-k2-w" in response.missing[0]
    assert len(response.runs[(150_000, (2, "w", True))]) == 2
    keeping.keep((2, "w", True), 1, folder)
    response = DoseResponse.read(long, ["w"], [0, 1], lengths)
    assert response.complete and len(response.claims()) == 2 * 2  # lengths x metrics
    assert response.trend("w").seeds == 2

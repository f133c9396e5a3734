"""The model registry: records from which names and configurations derive."""

from pathlib import Path

import pytest

from opgan.errors import ConfigError
from opgan.presets import make_config
from opgan.study.registry import (
    ABLATION_MODELS,
    DOSE_LENGTHS,
    DOSE_MODELS,
    MODELS,
    SWEEP_MODELS,
    ModelSpec,
    dose_runs,
    find_model,
    sweep_names,
)

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def test_names_are_derived_from_the_records():
    assert ModelSpec("cpu", 64).name == "cpu-k64"
    assert ModelSpec("cpu", 1, 2, "nomix").name == "cpu-k1-seed2-nomix"
    assert ModelSpec("cpu", 64, 0, "paper", affine_lr_mul=0.1).name == "cpu-k64-affine0.1-paper"
    assert ModelSpec("paper", 512, affine_lr_mul=1.0).name == "paper-k512-affine1"
    with pytest.raises(ConfigError, match="unknown recipe variant"):
        ModelSpec("cpu", 1, recipe="bogus")


def test_every_record_has_its_own_name_and_the_configuration_it_says():
    assert len(MODELS) == len(SWEEP_MODELS) + len(ABLATION_MODELS) + len(DOSE_MODELS)
    for spec in MODELS.values():
        cfg = spec.config()
        assert (cfg.model.k, cfg.seed) == (spec.k, spec.seed)
        assert cfg.pl_weight == (2.0 if spec.recipe == "paper" else make_config(spec.scale).pl_weight)
        assert cfg.style_mixing == (0.0 if spec.recipe == "nomix" else make_config(spec.scale).style_mixing)
        assert cfg.model.affine_lr_mul == (spec.affine_lr_mul or make_config(spec.scale).model.affine_lr_mul)
    assert find_model("cpu-k64-seed1").seed == 1
    with pytest.raises(ConfigError, match="no model 'cpu-k3'"):
        find_model("cpu-k3")


def test_the_shipped_checkpoints_are_the_registry_and_hold_what_their_record_says():
    import torch

    shipped = {path.stem for path in CHECKPOINTS.glob("cpu-*.pt")}
    assert set(sweep_names("cpu", ablations=True)) <= shipped
    for name in sweep_names("cpu", ablations=True):
        state = torch.load(CHECKPOINTS / f"{name}.pt", map_location="cpu", weights_only=True)
        spec, saved = MODELS[name], state["train_config"]
        assert (state["model_config"]["k"], saved["seed"]) == (spec.k, spec.seed), name
        assert state["model_config"]["affine_lr_mul"] == spec.config().model.affine_lr_mul, name
        assert (saved["pl_weight"], saved["style_mixing"]) == (spec.config().pl_weight, spec.config().style_mixing), (
            name
        )


def test_the_dose_response_lengths_come_from_one_run_per_k_and_seed():
    assert ModelSpec("cpu", 64, 1, images=150_000).name == "cpu-k64-seed1-150k"
    assert ModelSpec("cpu", 64, 2, "gamma0.01").name == "cpu-k64-seed2-gamma0.01"
    shorter = find_model("cpu-k64-seed1-300k")
    assert shorter.run.name == "cpu-k64-seed1-450k" and shorter.run_file == "generator-300k.pt"
    run = shorter.run.config()
    assert run.total_images == max(DOSE_LENGTHS) and run.export_at == (150_000, 300_000)
    assert find_model("cpu-k64-seed1-450k").run_file == "generator.pt"
    assert find_model("cpu-k64-gamma0.01").config().r1_weight == make_config("cpu", k=1).r1_weight
    assert find_model("cpu-k64").config().r1_weight != make_config("cpu", k=1).r1_weight
    runs = dose_runs("cpu")
    assert len(runs) == 2 * 3 + 3 and len({find_model(name).run for name in runs}) == len(runs)
    assert {spec.run.name for spec in DOSE_MODELS} == set(runs)
    with pytest.raises(ConfigError, match="thousands"):
        ModelSpec("cpu", 1, images=1500)

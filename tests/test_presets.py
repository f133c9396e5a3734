"""Presets: one complete row per scale, the dataclasses' defaults equal to the cpu row, smoke the
cpu recipe shrunk, one way to build a configuration."""

from dataclasses import fields

import pytest

from opgan.errors import ConfigError
from opgan.invert import InversionConfig
from opgan.networks import ModelConfig
from opgan.presets import CPU, PRESETS, SMOKE_SIZES, inversion_config, make_config
from opgan.train import RUN_OPTIONS, TrainConfig

SECTIONS = {
    "model": {f.name for f in fields(ModelConfig)},
    "train": {f.name for f in fields(TrainConfig)} - {"model", "preset", *RUN_OPTIONS},
    # what a run keeps besides its codes (snapshots) is no setting of the protocol
    "invert": {f.name for f in fields(InversionConfig)} - {"space", "seed", "snapshots"},
}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_one_complete_row_with_the_same_keys(preset):
    row = PRESETS[preset]
    assert set(row) == set(CPU)
    for section, names in SECTIONS.items():
        assert set(row[section]) == names, f"{preset}.{section}: {sorted(set(row[section]) ^ names)}"


def test_the_dataclass_defaults_are_the_cpu_row():
    assert ModelConfig().to_dict() == CPU["model"]
    assert {name: getattr(TrainConfig(), name) for name in SECTIONS["train"]} == CPU["train"]
    assert {name: getattr(InversionConfig(), name) for name in SECTIONS["invert"]} == CPU["invert"]
    assert make_config("cpu") == TrainConfig(), "building the cpu preset adds nothing to the defaults"
    assert inversion_config("cpu") == InversionConfig()


def test_smoke_is_the_cpu_recipe_with_only_its_sizes_changed():
    smoke, cpu = PRESETS["smoke"], PRESETS["cpu"]
    for section in SECTIONS:
        changed = {name for name in SECTIONS[section] if smoke[section][name] != cpu[section][name]}
        assert changed == set(SMOKE_SIZES[section]), section
    assert smoke["train"]["style_mixing"] == cpu["train"]["style_mixing"] == 0.9
    assert make_config("smoke").model.mapping_lr_mul == make_config("cpu").model.mapping_lr_mul


def test_r1_weight_follows_k_and_old_configs_keep_the_weight_they_used():
    assert make_config("cpu", k=1).r1_weight == 0.01 and make_config("cpu", k=64).r1_weight == 0.03
    assert make_config("paper", k=1).r1_weight == 10.0 and make_config("paper").r1_weight == 30.0
    assert make_config("cpu", k=64, r1_gamma_rows=0.5).r1_weight == 0.5
    saved = make_config("cpu", k=64).to_dict()
    del saved["r1_gamma_rows"]
    saved["r1_gamma"] = 0.07  # written when r1_gamma was the weight a run used
    assert TrainConfig.from_dict(saved).r1_weight == 0.07


def test_make_config_takes_model_and_training_options_alike_and_refuses_unknown_ones():
    cfg = make_config("cpu", k=64, seed=3, affine_lr_mul=0.1, pl_weight=2.0, batch=None)
    assert (cfg.model.k, cfg.seed, cfg.model.affine_lr_mul, cfg.pl_weight, cfg.batch) == (64, 3, 0.1, 2.0, 32)
    assert make_config("paper").model.k == 512 and make_config("paper").model.mapping_lr_mul == 0.01
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        make_config("huge")
    with pytest.raises(ConfigError, match="unknown training options"):
        make_config("cpu", learning_rate=0.1)
    with pytest.raises(ConfigError, match="k=3 style rows cannot split"):
        make_config("cpu", k=3)

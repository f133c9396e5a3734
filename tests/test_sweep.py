"""The trained models of a scale: parameter checks, the equal-size control, members, held-out
images, model-name suffixes, recipe ablations."""

import json
from pathlib import Path

import pytest
import torch
from helpers import tiny_generator

from opgan.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from opgan.data import DataError, load_images
from opgan.study import sweep as sw
from opgan.study.heldout import held_out_images
from opgan.study.registry import RECIPE_LABELS, ModelSpec


def test_parameters_are_checked_before_any_work(tmp_path):
    with pytest.raises(sw.ExperimentError, match="unknown scale 'huge'"):
        sw.Sweep("huge", [1], [0], tmp_path)
    with pytest.raises(sw.ExperimentError, match="k=3 cannot be used at the cpu scale"):
        sw.Sweep("cpu", [1, 3], [0], tmp_path)
    with pytest.raises(sw.ExperimentError, match="seeds must start at 0"):
        sw.Sweep("cpu", [1], [1, 2], tmp_path)
    with pytest.raises(sw.ExperimentError, match="variants must be dicts"):
        sw.Sweep("cpu", [1], [0], tmp_path, variants=[{"recipe": "bogus"}])
    sweep = sw.Sweep("cpu", [4, 1, 64], [0, 1], tmp_path)  # no model is needed to check parameters
    assert [spec.name for spec in sweep.missing()] == ["cpu-k1", "cpu-k4", "cpu-k64", "cpu-k1-seed1", "cpu-k64-seed1"]
    with pytest.raises(sw.ExperimentError, match=r"missing checkpoint.*cpu-k4.pt.*cpu-k64-seed1.pt.*train=True"):
        sweep.require()
    assert sw.check_parameters("cpu", [64, 1, 4, 4]) == [1, 4, 64]


def test_with_rows_keeps_the_weights_and_equal_rows_give_the_same_image():
    G = tiny_generator(k=1)
    widened = sw.with_rows(G, 8)
    assert widened.cfg.k == 8
    w = G.mapping(torch.randn(2, 1, 16))  # [2, 1, w_dim]
    single = G.synthesize(w, "w")
    repeated = widened.synthesize(w.expand(-1, 8, -1).contiguous(), "w")
    torch.testing.assert_close(repeated, single, atol=1e-5, rtol=1e-5)
    different = w.expand(-1, 8, -1) + 0.5 * torch.randn(2, 8, 16)
    assert not torch.allclose(widened.synthesize(different, "w"), single, atol=1e-3)


def test_sweep_members_files_records_and_logs(tmp_path):
    for k, seed in ((1, 0), (2, 0), (1, 1), (2, 1)):
        G = tiny_generator(k=k, seed=seed)
        path = tmp_path / f"{ModelSpec('smoke', k, seed).name}.pt"
        save_checkpoint(
            {"model_config": G.cfg.to_dict(), "G_ema": G.state_dict(), "train_config": {"data": "fashion-mnist:train"}},
            path,
        )
    (tmp_path / "smoke-k2-seed1.pt.json").write_text(json.dumps({"k": 2, "images_seen": 10}))
    (tmp_path / "smoke-k2.pt.log.jsonl").write_text(
        '{"images_seen": 5, "loss_G": 1.0}\n{"images_seen": 10, "loss_G": 0.5}\n'
    )
    sweep = sw.Sweep("smoke", [2, 1], [0, 1], tmp_path, device="cpu").require()
    assert sweep.members() == [(1, 0), (2, 0), (1, 1), (2, 1)]
    assert sweep.name(2, 1) == "smoke-k2-seed1" and sweep.model(2, 1).cfg.k == 2
    assert sweep.model(2, 1) is sweep.model(2, 1)  # loaded once
    assert sweep.record(2, 1)["images_seen"] == 10 and sweep.record(1) == {}
    assert [e["loss_G"] for e in sweep.log(2)] == [1.0, 0.5] and sweep.log(1) == []
    assert sweep.widened(1).cfg.k == 2 and sweep.widened(1).cfg.w_dim == sweep.model(1, 1).cfg.w_dim
    G = tiny_generator(k=2)  # a file whose name says k = 4 but holds k = 2
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, tmp_path / "smoke-k4.pt")
    with pytest.raises(CheckpointError, match="k=2, not k=4"):
        sw.Sweep("smoke", [4], [0], tmp_path, device="cpu").model(4)


def test_reference_and_test_images_are_disjoint(tmp_path):
    G = tiny_generator(k=1)
    path = tmp_path / "m.pt"
    save_checkpoint(
        {"model_config": G.cfg.to_dict(), "G_ema": G.state_dict(), "train_config": {"data": "fashion-mnist:train"}},
        path,
    )
    state = read_checkpoint(path)
    reference = held_out_images(state, 1000, part="reference")
    evaluation = held_out_images(state, 1000, part="evaluation")
    test = held_out_images(state, 64, part="test")
    assert len(reference) == 1000 and len(evaluation) == 1000 and len(test) == 64
    parts = [set(reference.names), set(evaluation.names), set(test.names)]
    assert all(not a & b for i, a in enumerate(parts) for b in parts[i + 1 :])
    # the images the inversion settings were tuned on (benchmarks/common.py) are in no part
    tuning = {name for name in load_images("fashion-mnist:test", 32, 1).names[1000:1064]}
    assert not tuning & set().union(*parts)
    with pytest.raises(DataError):
        held_out_images(state, 4, part="train")


def test_recipe_models_group_the_ablations_found_on_disk(tmp_path):
    for stem in ("cpu-k1", "cpu-k64", "cpu-k64-paper", "cpu-k64-affine0.1-paper", "cpu-k1-seed2-nomix"):
        G = tiny_generator(k=1)
        save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, tmp_path / f"{stem}.pt")
    sweep = sw.Sweep("cpu", [1, 64], [0], tmp_path, device="cpu")
    found = {(row["path"].stem, row["recipe"], row["seed"]) for row in sw.recipe_models(sweep)}
    assert found == {
        ("cpu-k1", RECIPE_LABELS[""], 0),
        ("cpu-k64", RECIPE_LABELS[""], 0),
        ("cpu-k64-paper", RECIPE_LABELS["paper"], 0),
        ("cpu-k1-seed2-nomix", RECIPE_LABELS["nomix"], 2),
    }


def test_project_root_is_found_from_below_without_changing_directory(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "_config.yml").write_text("book: book\n")
    (tmp_path / "book" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "book" / "deep")
    assert sw.project_root() == tmp_path.resolve()
    assert sw.project_root(tmp_path / "notebooks") == tmp_path.resolve()
    assert Path.cwd() == (tmp_path / "book" / "deep").resolve()


def test_sweep_inversions_name_folders_and_count_the_cache(tmp_path):
    from opgan.data import ImageSet
    from opgan.invert import InversionConfig

    for k, seed in ((1, 0), (2, 0), (1, 1), (2, 1)):
        G = tiny_generator(k=k, seed=seed)
        save_checkpoint(
            {"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()},
            tmp_path / f"{ModelSpec('smoke', k, seed).name}.pt",
        )
    sweep = sw.Sweep("smoke", [1, 2], [0, 1], tmp_path, device="cpu")
    targets = ImageSet(torch.full((2, 1, 16, 16), 90, dtype=torch.uint8), ["a", "b"], "constant")
    inversions = sw.SweepInversions(
        sweep, targets, InversionConfig(steps=2, lpips_net=None), tmp_path / "cache", batch=2
    )
    assert inversions.folder(2, "w", seed=1).name == "smoke-k2-seed1-w"
    assert inversions.folder(2, "w+", seed=1, control=True).name == "smoke-k1-seed1-as-k2-w+"
    assert inversions.name(2, "w+", seed=1, control=True, label="x-") == "x-smoke-k1-seed1-as-k2-w+"
    assert not (tmp_path / "cache" / "x-smoke-k1-seed1-as-k2-w+").exists()  # named, not run
    rows = inversions.rows(2, "w")  # seed 1 is read back, seed 0 computed
    assert [len(per_seed) for per_seed in rows] == [2, 2] and rows[1][0]["k"] == 2
    assert inversions.cache_use == {"reused": 1, "computed": 3}
    assert inversions.provenance() == f"3 computed, 1 read back from {tmp_path / 'cache'}"


def test_sample_features_are_kept_per_model_file_and_model(tmp_path, monkeypatch):
    from helpers import tiny_generator

    from opgan.checkpoint import save_checkpoint
    from opgan.study import sweep as sweep_module

    sampled = []

    def fake_features(images):  # the samples' mean per image: cheap, and it follows the model
        sampled.append(len(images))
        return images.flatten(1).mean(1, keepdim=True)

    monkeypatch.setattr(sweep_module, "vgg16_features", fake_features)
    G = tiny_generator(k=2)
    checkpoint = tmp_path / "cpu-k2-seed1.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, checkpoint)
    direct = sweep_module.sample_vgg16_features(G, checkpoint, 5)
    cached = sweep_module.sample_vgg16_features(G, checkpoint, 5, tmp_path / "cache")
    assert torch.equal(direct, cached) and (tmp_path / "cache" / "cpu-k2-seed1" / "sample-features.pt").is_file()
    assert torch.equal(sweep_module.sample_vgg16_features(G, checkpoint, 5, tmp_path / "cache"), direct)
    assert sampled == [5, 5]  # the third call read the second's back
    sweep_module.sample_vgg16_features(G, checkpoint, 6, tmp_path / "cache")  # another count: sampled again
    retrained = tiny_generator(k=2, seed=7)
    save_checkpoint({"model_config": retrained.cfg.to_dict(), "G_ema": retrained.state_dict()}, checkpoint)
    new = sweep_module.sample_vgg16_features(retrained, checkpoint, 6, tmp_path / "cache")
    assert sampled == [5, 5, 6, 6] and not torch.equal(new[:5], direct)

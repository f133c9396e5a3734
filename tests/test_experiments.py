"""The experiment functions the notebooks call: parameter checks, the equal-size control, tables,
cached inversions, spectra."""

import json

import numpy as np
import pytest
import torch

from opgan import experiments as ex
from opgan.checkpoint import save_checkpoint
from opgan.data import ImageSet
from opgan.invert import InversionConfig, synthesize
from opgan.networks import Generator, ModelConfig


def tiny_generator(k: int = 1, seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    return Generator(ModelConfig(resolution=16, img_channels=1, z_dim=16, w_dim=16, channel_base=128, channel_max=8, k=k)).eval()


def test_parameters_are_checked_before_any_work(tmp_path):
    with pytest.raises(ex.ExperimentError, match="unknown scale 'huge'"):
        ex.Sweep("huge", [1], [0], tmp_path)
    with pytest.raises(ex.ExperimentError, match="k=3 cannot be used at the cpu scale"):
        ex.Sweep("cpu", [1, 3], [0], tmp_path)
    with pytest.raises(ex.ExperimentError, match="seeds must start at 0"):
        ex.Sweep("cpu", [1], [1, 2], tmp_path)
    with pytest.raises(ex.ExperimentError, match=r"missing checkpoint.*cpu-k4.pt.*cpu-k64-seed1.pt.*train=True"):
        ex.Sweep("cpu", [4, 1, 64], [0, 1], tmp_path)
    assert ex.check_parameters("cpu", [64, 1, 4, 4]) == [1, 4, 64]


def test_with_rows_keeps_the_weights_and_equal_rows_give_the_same_image():
    G = tiny_generator(k=1)
    widened = ex.with_rows(G, 8)
    assert widened.cfg.k == 8
    w = G.mapping(torch.randn(2, 1, 16))  # [2, 1, w_dim]
    single = synthesize(G, w, "w")
    repeated = synthesize(widened, w.expand(-1, 8, -1).contiguous(), "w")
    torch.testing.assert_close(repeated, single, atol=1e-5, rtol=1e-5)
    different = w.expand(-1, 8, -1) + 0.5 * torch.randn(2, 8, 16)
    assert not torch.allclose(synthesize(widened, different, "w"), single, atol=1e-3)


def test_summarize_means_and_stds_per_group():
    rows = [{"k": 1, "space": "w", "psnr": 10.0, "ssim": 0.5, "lpips": 0.4},
            {"k": 1, "space": "w", "psnr": 14.0, "ssim": 0.7, "lpips": 0.2},
            {"k": 4, "space": "w", "psnr": 20.0, "ssim": 0.9, "lpips": 0.1}]
    table = ex.summarize(rows, ("k", "space"))
    assert [(r["k"], r["images"]) for r in table] == [(1, 2), (4, 1)]
    assert table[0]["psnr_mean"] == pytest.approx(12.0)
    assert table[0]["psnr_std"] == pytest.approx(np.std([10.0, 14.0], ddof=1))
    assert table[1]["lpips_std"] == 0.0


def test_rows_round_trip_through_csv(tmp_path):
    rows = [{"k": 1, "space": "w+", "psnr": 21.5, "model": "trained k = 1, inverted with 64 rows"}, {"k": 64, "space": "w", "psnr": 30.25}]
    ex.write_rows(tmp_path / "t.csv", rows)
    back = ex.read_rows(tmp_path / "t.csv")
    assert back[0] == rows[0]
    assert back[1]["k"] == 64 and back[1]["psnr"] == 30.25 and back[1]["model"] == ""


def test_reconstruct_caches_by_model_and_settings(tmp_path, capsys):
    G = tiny_generator(k=2)
    checkpoint = tmp_path / "m.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, checkpoint)
    torch.manual_seed(1)
    targets = ImageSet((torch.rand(3, 1, 16, 16) * 255).to(torch.uint8), ["a", "b", "c"], "random")
    cfg = InversionConfig(space="w", steps=4, lpips_net=None, mse_weight=1.0)
    folder = ex.reconstruct(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint, record_every=2)
    first = (folder / "results.csv").stat().st_mtime_ns
    records = ex.read_records(folder)
    assert records["step"].tolist() == [0, 2, 3, 4] and records["psnr"].shape == (4, 3)
    assert len(ex.read_results(folder)) == 3 and ex.read_codes(folder).shape == (3, 2, 16)
    torch.testing.assert_close(ex.reconstructions(G, folder), synthesize(G, ex.read_codes(folder), "w").clamp(-1, 1))
    capsys.readouterr()
    ex.reconstruct(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint, record_every=2)
    assert "cached" in capsys.readouterr().out
    assert (folder / "results.csv").stat().st_mtime_ns == first
    ex.reconstruct(G, targets, InversionConfig(space="w", steps=5, lpips_net=None), tmp_path / "cache", "k2-w", checkpoint, record_every=2)
    assert (folder / "results.csv").stat().st_mtime_ns != first
    assert ex.read_results(folder)[0]["steps"] == 5
    # a retrained model under the same file name is inverted again
    retrained = tiny_generator(k=2, seed=7)
    save_checkpoint({"model_config": retrained.cfg.to_dict(), "G_ema": retrained.state_dict()}, checkpoint)
    capsys.readouterr()
    ex.reconstruct(retrained, targets, InversionConfig(space="w", steps=5, lpips_net=None), tmp_path / "cache", "k2-w", checkpoint, record_every=2)
    assert "cached" not in capsys.readouterr().out


def test_affine_singular_values_and_spectrum_summary():
    G = tiny_generator(k=1)
    spectra = ex.affine_singular_values(G)
    assert len(spectra) == len([n for n, _ in G.synthesis.named_modules() if n.endswith("affine")])
    name, values = next(iter(spectra.items()))
    module = dict(G.synthesis.named_modules())[name + ".affine"]
    torch.testing.assert_close(values, torch.linalg.svdvals(module.effective_weight().double()))
    assert torch.all(values[:-1] >= values[1:])
    flat = ex.spectrum_summary({"flat": torch.ones(5, dtype=torch.float64), "spike": torch.tensor([1.0, 1e-9, 1e-9], dtype=torch.float64)})
    assert flat[0]["effective_rank"] == pytest.approx(5.0)
    assert flat[1]["effective_rank"] == pytest.approx(1.0, abs=1e-6)


def test_sweep_members_files_records_and_logs(tmp_path):
    for k, seed in ((1, 0), (2, 0), (1, 1), (2, 1)):
        G = tiny_generator(k=k, seed=seed)
        path = ex.model_path(tmp_path, "smoke", k, ex.seed_variant(seed))
        save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict(), "train_config": {"data": "fashion-mnist:train"}}, path)
    (tmp_path / "smoke-k2-seed1.pt.json").write_text(json.dumps({"k": 2, "images_seen": 10}))
    (tmp_path / "smoke-k2.pt.log.jsonl").write_text('{"images_seen": 5, "loss_G": 1.0}\n{"images_seen": 10, "loss_G": 0.5}\n')
    sweep = ex.Sweep("smoke", [2, 1], [0, 1], tmp_path, device="cpu")
    assert sweep.members() == [(1, 0), (2, 0), (1, 1), (2, 1)]
    assert sweep.name(2, 1) == "smoke-k2-seed1" and sweep.model(2, 1).cfg.k == 2
    assert sweep.model(2, 1) is sweep.model(2, 1)  # loaded once
    assert sweep.record(2, 1)["images_seen"] == 10 and sweep.record(1) == {}
    assert [e["loss_G"] for e in sweep.log(2)] == [1.0, 0.5] and sweep.log(1) == []
    assert sweep.widened(1).cfg.k == 2 and sweep.widened(1).cfg.w_dim == sweep.model(1, 1).cfg.w_dim
    G = tiny_generator(k=2)  # a file whose name says k = 4 but holds k = 2
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, ex.model_path(tmp_path, "smoke", 4))
    with pytest.raises(Exception, match="k=2, not k=4"):
        ex.Sweep("smoke", [4], [0], tmp_path, device="cpu").model(4)


def test_reference_and_test_images_are_disjoint(tmp_path):
    G = tiny_generator(k=1)
    path = tmp_path / "m.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict(), "train_config": {"data": "fashion-mnist:train"}}, path)
    reference = ex.held_out_images(path, 1000, part="reference")
    test = ex.held_out_images(path, 64, part="test")
    assert len(reference) == 1000 and len(test) == 64
    assert not set(reference.names) & set(test.names)
    with pytest.raises(ex.ExperimentError):
        ex.held_out_images(path, 4, part="train")


def test_out_of_domain_images_come_at_the_model_size():
    photos = ex.out_of_domain_images(32, 3, faces=2)
    assert photos.images.shape == (6, 3, 32, 32) and photos.images.dtype == torch.uint8
    assert "chelsea" in photos.names and photos.images.float().std() > 10


def test_variant_suffixes_name_their_training_options():
    from opgan.presets import ABLATIONS, SWEEPS, sweep_config, variant_options

    assert variant_options("-seed2-paper") == {"seed": 2, "pl_weight": 2.0}
    assert variant_options("-affine0.1-paper") == {"affine_lr_mul": 0.1, "pl_weight": 2.0}
    assert variant_options("") == {}
    with pytest.raises(ValueError, match="unknown model variant"):
        variant_options("-bogus")
    for name in [*SWEEPS["cpu"], *ABLATIONS["cpu"]]:  # every shipped name means what its suffix says
        cfg = sweep_config("cpu", name)
        options = variant_options(name.split(f"-k{cfg.model.k}", 1)[1])
        assert cfg.seed == options.get("seed", 0)
        assert cfg.model.affine_lr_mul == options.get("affine_lr_mul", 1.0)
        assert cfg.pl_weight == options.get("pl_weight", 0.0)
        assert cfg.style_mixing == options.get("style_mixing", 0.9)


def test_recipe_models_group_the_ablations_found_on_disk(tmp_path):
    for stem, k in (("cpu-k1", 1), ("cpu-k64", 64), ("cpu-k64-paper", 64), ("cpu-k64-affine0.1-paper", 64), ("cpu-k1-seed2-nomix", 1)):
        G = tiny_generator(k=1)
        save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, tmp_path / f"{stem}.pt")
    sweep = ex.Sweep("cpu", [1, 64], [0], tmp_path, device="cpu")
    found = {(row["path"].stem, row["recipe"], row["seed"]) for row in ex.recipe_models(sweep)}
    assert found == {("cpu-k1", ex.RECIPE_LABELS[""], 0), ("cpu-k64", ex.RECIPE_LABELS[""], 0),
                     ("cpu-k64-paper", ex.RECIPE_LABELS["-paper"], 0), ("cpu-k1-seed2-nomix", ex.RECIPE_LABELS["-nomix"], 2)}

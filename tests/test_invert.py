"""Inversion: spaces and latent sizes, batched = one by one, determinism, bad input, CLI."""

import csv
import dataclasses
import os
import subprocess
import sys

import pytest
import torch
from helpers import tiny_model_config

from opgan.checkpoint import save_checkpoint
from opgan.data import to_float
from opgan.errors import ConfigError
from opgan.invert import InversionConfig, InversionError, initial_codes, invert, latent_size, used_latent_size
from opgan.networks import Generator, ModelConfig
from opgan.presets import PRESETS
from opgan.results import read_codes, read_snapshots

SMALL = dict(z_dim=8, w_dim=8)  # the tiny model with 8-dim latents: the latent sizes below are counted for them


def small_generator(k=4, seed=0):
    torch.manual_seed(seed)
    G = Generator(tiny_model_config(k=k, **SMALL)).eval()
    for _ in range(20):
        G.mapping(G.sample_z(16), update_w_avg=True)
    return G


@pytest.fixture(scope="module")
def targets(fashion_test):
    from opgan.data import convert_images

    return to_float(convert_images(fashion_test.subset(range(3)), resolution=16, channels=1).images)


@pytest.mark.parametrize("space, shape, size", [("z", (4, 8), 32), ("w", (4, 8), 32), ("w+", (6, 4, 8), 192)])
def test_spaces_shapes_and_latent_sizes(space, shape, size, targets):
    G = small_generator(k=4)
    result = invert(G, targets, InversionConfig(space=space, steps=3, lpips_net=None, mse_weight=1.0), progress=False)
    assert result.codes.shape == (3, *shape)
    assert latent_size(G, space) == size
    assert result.reconstructions.shape == targets.shape
    assert result.loss_history.shape == (3, 3)
    torch.testing.assert_close(G.synthesize(result.codes, space).clamp(-1, 1), result.reconstructions)


def test_w_codes_start_at_w_avg_in_every_row():
    G = small_generator(k=4)
    codes = initial_codes(G, 2, "w+")
    assert torch.equal(codes, G.mapping.w_avg.expand(2, 6, 4, 8))


def test_used_latent_size_of_the_paper_model():
    paper = Generator(ModelConfig(**PRESETS["paper"]["model"]))
    assert used_latent_size(paper, "w+") == 2_754_048  # the paper's "W+ ~ 2.75 M values"
    G = small_generator(k=8)
    assert used_latent_size(G, "w+") == (5 * 8 + 1) * 8  # the last slot feeds only ToRGB (1 row, grayscale)


def test_batched_equals_one_by_one(targets):
    G = small_generator(k=4)
    cfg = InversionConfig(space="w+", steps=8, lpips_net="alex", mse_weight=0.5, lr=0.05)
    batched = invert(G, targets, cfg, progress=False)
    for i in range(len(targets)):
        single = invert(G, targets[i : i + 1], cfg, seeds=[cfg.seed + i], progress=False)
        torch.testing.assert_close(single.codes[0], batched.codes[i], atol=2e-5, rtol=1e-4)
    z_cfg = InversionConfig(space="z", steps=4, lpips_net=None, mse_weight=1.0, seed=5)
    batched = invert(G, targets, z_cfg, progress=False)
    single = invert(G, targets[2:3], z_cfg, seeds=[7], progress=False)
    torch.testing.assert_close(single.codes[0], batched.codes[2], atol=2e-5, rtol=1e-4)


def test_seeded_and_deterministic_and_improving(targets):
    G = small_generator(k=4)
    cfg = InversionConfig(space="w", steps=30, lpips_net=None, mse_weight=1.0, lr=0.1, record_every=10)
    first, second = invert(G, targets, cfg, progress=False), invert(G, targets, cfg, progress=False)
    assert torch.equal(first.codes, second.codes)
    assert (first.loss_history[-1] < first.loss_history[0]).all()
    assert first.records["step"].tolist() == [0, 10, 20, 29, 30]
    assert first.records["psnr"].shape == (5, 3)
    assert (first.records["psnr"][-1] > first.records["psnr"][0]).all()


def test_snapshots_keep_the_codes_part_of_the_way_and_change_nothing(targets):
    G = small_generator(k=4)
    cfg = InversionConfig(space="w+", steps=8, lpips_net=None, mse_weight=1.0, lr=0.1, snapshots=[0.75, 0.25, 0.5])
    assert cfg.snapshots == (0.25, 0.5, 0.75) and cfg.snapshot_steps() == [2, 4, 6]
    with_snapshots = invert(G, targets, cfg, progress=False)
    without = invert(G, targets, dataclasses.replace(cfg, snapshots=()), progress=False)
    assert torch.equal(with_snapshots.codes, without.codes) and without.snapshots == {}
    assert sorted(with_snapshots.snapshots) == [2, 4, 6]
    # a snapshot is the run part of the way through its own schedule, not a shorter inversion
    shorter = invert(G, targets, dataclasses.replace(cfg, steps=2, snapshots=()), progress=False)
    assert not torch.allclose(with_snapshots.snapshots[2], shorter.codes)
    distances = [(with_snapshots.snapshots[s] - without.codes).norm() for s in (2, 4, 6)]
    assert distances[0] > distances[1] > distances[2] > 0
    for bad in ([0.0], [1.0], [1.5]):
        with pytest.raises(ConfigError, match="snapshots are fractions"):
            InversionConfig(snapshots=bad)


def test_bad_inversion_input(targets):
    G = small_generator(k=4)
    with pytest.raises(ValueError, match="unknown latent space"):
        InversionConfig(space="s")
    with pytest.raises(InversionError, match="targets must be"):
        invert(G, torch.zeros(1, 3, 16, 16), InversionConfig(lpips_net=None, mse_weight=1.0), progress=False)
    bad = targets.clone()
    bad[1, 0, 0, 0] = float("nan")
    with pytest.raises(InversionError, match=r"\[1\]"):
        invert(G, bad, InversionConfig(lpips_net=None, mse_weight=1.0), progress=False)
    with torch.no_grad():
        G.synthesis.blocks[-1].torgb.bias.fill_(float("nan"))
    with pytest.raises(InversionError, match="non-finite"):
        invert(G, targets, InversionConfig(lpips_net=None, mse_weight=1.0, steps=3), progress=False)


def _run(*args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    return subprocess.run([sys.executable, "-m", "opgan", *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    G = small_generator(k=4)
    path = tmp_path_factory.mktemp("ckpt") / "generator.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, path)
    return path


@pytest.mark.slow
def test_invert_cli_writes_table_grid_codes(tmp_path, checkpoint):
    out = tmp_path / "inv"
    result = _run(
        "invert",
        "--checkpoint",
        str(checkpoint),
        "--images",
        "fashion-mnist:test:5",
        "--space",
        "w+",
        "--steps",
        "5",
        "--lpips",
        "alex",
        "--batch",
        "2",
        "--snapshots",
        "0.4",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    snapshots = read_snapshots(out)  # every batch's codes 2 of the 5 steps through
    assert list(snapshots) == [2] and snapshots[2].shape == read_codes(out).shape
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert len(rows) == 5
    assert set(rows[0]) >= {"image", "space", "k", "latent_size", "steps", "psnr", "ssim", "lpips", "mse", "seconds"}
    assert rows[0]["space"] == "w+" and rows[0]["latent_size"] == "192" and float(rows[0]["psnr"]) > 0
    assert (out / "grid.png").is_file() and len(list((out / "codes").glob("*.pt"))) == 5
    codes = sorted((out / "codes").glob("*.pt"))
    strip = tmp_path / "strip.png"
    result = _run(
        "interpolate",
        "--checkpoint",
        str(checkpoint),
        "--codes",
        str(codes[0]),
        str(codes[1]),
        "--frames",
        "5",
        "--out",
        str(strip),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    from PIL import Image

    assert Image.open(strip).size[0] > Image.open(strip).size[1] * 4


@pytest.mark.slow
def test_invert_cli_out_of_domain_colour_photo(tmp_path, checkpoint):
    from PIL import Image
    from skimage import data as skdata

    Image.fromarray(skdata.chelsea()).save(tmp_path / "cat.jpg")  # 451x300 RGB into a 16 px grayscale model
    result = _run(
        "interpolate",
        "--checkpoint",
        str(checkpoint),
        "--images",
        str(tmp_path / "cat.jpg"),
        str(tmp_path / "cat.jpg"),
        "--steps",
        "3",
        "--lpips",
        "none",
        "--mse-weight",
        "1",
        "--frames",
        "3",
        "--out",
        str(tmp_path / "s.png"),
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
def test_invert_cli_bad_inputs_name_the_culprit(tmp_path, checkpoint):
    (tmp_path / "empty").mkdir()
    result = _run(
        "invert", "--checkpoint", str(checkpoint), "--images", str(tmp_path / "empty"), "--out", str(tmp_path / "o")
    )
    assert result.returncode == 2 and "empty" in result.stderr and "no image files" in result.stderr
    (tmp_path / "junk.pt").write_bytes(b"junk")
    result = _run(
        "invert",
        "--checkpoint",
        str(tmp_path / "junk.pt"),
        "--images",
        "fashion-mnist:test:1",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 2 and "junk.pt" in result.stderr
    result = _run(
        "invert",
        "--checkpoint",
        str(checkpoint),
        "--images",
        "fashion-mnist:test:1",
        "--space",
        "q",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr
    result = _run(
        "interpolate",
        "--checkpoint",
        str(checkpoint),
        "--codes",
        str(tmp_path / "junk.pt"),
        str(tmp_path / "junk.pt"),
        "--out",
        str(tmp_path / "s.png"),
    )
    assert result.returncode == 2 and "junk.pt" in result.stderr


def test_inversion_hands_the_generator_back_as_it_came(targets):
    G = small_generator(k=4)
    G.requires_grad_(True)
    G.mapping.requires_grad_(False)  # a caller's own choice, e.g. fine-tuning only the synthesis
    before = [p.requires_grad for p in G.parameters()]
    invert(G, targets, InversionConfig(space="w", steps=2, lpips_net=None), progress=False)
    assert [p.requires_grad for p in G.parameters()] == before

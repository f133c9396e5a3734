"""The compute-once cache: inversions and values reused while their key (settings, file and code
hashes) matches, recomputed when anything it depends on changes or a file is broken."""

import pytest
import torch
from helpers import tiny_generator

from opgan import results as res
from opgan.checkpoint import save_checkpoint
from opgan.data import ImageSet
from opgan.invert import InversionConfig
from opgan.study import cache as compute_once


def test_cached_inversion_reuses_by_model_and_settings(tmp_path, capsys):
    G = tiny_generator(k=2)
    checkpoint = tmp_path / "m.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, checkpoint)
    torch.manual_seed(1)
    targets = ImageSet((torch.rand(3, 1, 16, 16) * 255).to(torch.uint8), ["a", "b", "c"], "random")
    cfg = InversionConfig(space="w", steps=4, lpips_net=None, mse_weight=1.0, record_every=2)
    folder, reused = compute_once.cached_inversion(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint)
    assert not reused and capsys.readouterr().out == ""  # library code is silent
    first = (folder / "results.csv").stat().st_mtime_ns
    records = res.read_records(folder)
    assert records["step"].tolist() == [0, 2, 3, 4] and records["psnr"].shape == (4, 3)
    assert len(res.read_results(folder)) == 3 and res.read_codes(folder).shape == (3, 2, 16)
    torch.testing.assert_close(res.reconstructions(G, folder), G.synthesize(res.read_codes(folder), "w").clamp(-1, 1))
    assert compute_once.cached_inversion(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint) == (folder, True)
    assert (folder / "results.csv").stat().st_mtime_ns == first
    longer = InversionConfig(space="w", steps=5, lpips_net=None, record_every=2)
    assert compute_once.cached_inversion(G, targets, longer, tmp_path / "cache", "k2-w", checkpoint)[1] is False
    assert res.read_results(folder)[0]["steps"] == 5
    # a retrained model under the same file name is inverted again
    retrained = tiny_generator(k=2, seed=7)
    save_checkpoint({"model_config": retrained.cfg.to_dict(), "G_ema": retrained.state_dict()}, checkpoint)
    assert compute_once.cached_inversion(retrained, targets, longer, tmp_path / "cache", "k2-w", checkpoint)[1] is False


def test_a_change_to_the_inversion_code_invalidates_the_cache(tmp_path, monkeypatch):
    import shutil

    from opgan.environment import PACKAGE_ROOT

    source = tmp_path / "package"
    source.mkdir()
    for name in compute_once.INVERSION_SOURCES:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE_ROOT / name, source / name)
    monkeypatch.setattr(compute_once, "SOURCE_ROOT", source)
    G, checkpoint = tiny_generator(k=2), tmp_path / "model.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, checkpoint)
    images = ImageSet(torch.randint(0, 256, (2, 1, 16, 16), dtype=torch.uint8), ["a.png", "b.png"], "test")
    cfg = InversionConfig(space="w", steps=2, lpips_net=None, record_every=0)
    cache = tmp_path / "cache"
    assert compute_once.cached_inversion(G, images, cfg, cache, "run", checkpoint)[1] is False
    assert compute_once.cached_inversion(G, images, cfg, cache, "run", checkpoint)[1] is True
    with open(source / "invert.py", "a") as changed:
        changed.write("\n# a change to the optimization\n")
    assert compute_once.cached_inversion(G, images, cfg, cache, "run", checkpoint)[1] is False, (
        "stale inversions were reused"
    )
    assert compute_once.cached_inversion(G, images, cfg, cache, "run", checkpoint)[1] is True


def test_cached_value_reuses_by_key_and_recomputes_what_is_broken(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"scores": torch.arange(3.0) + len(calls)}

    path = tmp_path / "model" / "value.pt"
    first, reused = compute_once.cached_value(path, {"model": "a"}, compute)
    assert not reused and first["scores"].tolist() == [1.0, 2.0, 3.0]
    again, reused = compute_once.cached_value(path, {"model": "a"}, compute)
    assert reused and torch.equal(again["scores"], first["scores"]) and len(calls) == 1
    assert compute_once.cached_value(path, {"model": "b"}, compute)[1] is False  # another key: computed again
    path.write_bytes(path.read_bytes()[:100])  # a truncated value under a matching key
    with pytest.warns(
        compute_once.DamagedCache, match=r"value.pt has 100 bytes, [\d,]+ when written; computing it again"
    ):
        value, reused = compute_once.cached_value(path, {"model": "b"}, compute)
    assert not reused and value["scores"].tolist() == [3.0, 4.0, 5.0]
    (tmp_path / "model" / "value.pt.key.json").unlink()  # interrupted before its key was written
    assert compute_once.cached_value(path, {"model": "b"}, compute)[1] is False and len(calls) == 4


@pytest.mark.parametrize("damaged", ["results.csv", "codes.pt", "reconstructions/b.png"])
def test_a_truncated_or_lost_file_of_a_cached_inversion_is_inverted_again(tmp_path, damaged):
    G = tiny_generator(k=2)
    checkpoint = tmp_path / "m.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, checkpoint)
    targets = ImageSet((torch.rand(3, 1, 16, 16) * 255).to(torch.uint8), ["a", "b", "c"], "random")
    cfg = InversionConfig(space="w", steps=3, lpips_net=None, mse_weight=1.0, record_every=0)
    folder, _ = compute_once.cached_inversion(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint)
    rows = res.read_results(folder)
    path = folder / damaged
    if damaged == "reconstructions/b.png":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(compute_once.DamagedCache, match=f"{folder}: {damaged} (is missing|has)"):
        again, reused = compute_once.cached_inversion(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint)
    assert not reused and again == folder
    assert [row["lpips"] for row in res.read_results(folder)] == [row["lpips"] for row in rows]
    assert compute_once.cached_inversion(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint)[1] is True

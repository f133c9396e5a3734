"""Results folders: cached inversions, tables read back exactly, names that survive any file
system, and no result lost to a file that cannot be written."""

import os

import pytest
import torch
from helpers import tiny_generator

from opgan import results as res
from opgan.checkpoint import save_checkpoint
from opgan.data import ImageSet
from opgan.files import write_csv
from opgan.invert import InversionConfig


def test_rows_round_trip_through_csv(tmp_path):
    rows = [
        {"k": 1, "space": "w+", "psnr": 21.5, "model": "trained k = 1, inverted with 64 rows"},
        {"k": 64, "space": "w", "psnr": 30.25},
    ]
    write_csv(tmp_path / "t.csv", rows)
    back = res.read_table(tmp_path / "t.csv", text=("model",))
    assert back[0] == rows[0]
    assert back[1]["k"] == 64 and back[1]["psnr"] == 30.25 and back[1]["model"] == ""


def test_cached_inversion_reuses_by_model_and_settings(tmp_path, capsys):
    G = tiny_generator(k=2)
    checkpoint = tmp_path / "m.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, checkpoint)
    torch.manual_seed(1)
    targets = ImageSet((torch.rand(3, 1, 16, 16) * 255).to(torch.uint8), ["a", "b", "c"], "random")
    cfg = InversionConfig(space="w", steps=4, lpips_net=None, mse_weight=1.0, record_every=2)
    folder, reused = res.cached_inversion(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint)
    assert not reused and capsys.readouterr().out == ""  # library code is silent
    first = (folder / "results.csv").stat().st_mtime_ns
    records = res.read_records(folder)
    assert records["step"].tolist() == [0, 2, 3, 4] and records["psnr"].shape == (4, 3)
    assert len(res.read_results(folder)) == 3 and res.read_codes(folder).shape == (3, 2, 16)
    torch.testing.assert_close(res.reconstructions(G, folder), G.synthesize(res.read_codes(folder), "w").clamp(-1, 1))
    assert res.cached_inversion(G, targets, cfg, tmp_path / "cache", "k2-w", checkpoint) == (folder, True)
    assert (folder / "results.csv").stat().st_mtime_ns == first
    longer = InversionConfig(space="w", steps=5, lpips_net=None, record_every=2)
    assert res.cached_inversion(G, targets, longer, tmp_path / "cache", "k2-w", checkpoint)[1] is False
    assert res.read_results(folder)[0]["steps"] == 5
    # a retrained model under the same file name is inverted again
    retrained = tiny_generator(k=2, seed=7)
    save_checkpoint({"model_config": retrained.cfg.to_dict(), "G_ema": retrained.state_dict()}, checkpoint)
    assert res.cached_inversion(retrained, targets, longer, tmp_path / "cache", "k2-w", checkpoint)[1] is False


def test_file_stems_are_safe_and_unique():
    names = ["a b.png", "a_b.png", "../../etc/passwd", "", "caf\udce9.png", "ok-1.png"]
    stems = res.file_stems(names)
    assert len(set(stems)) == len(stems)
    assert all(stem and "/" not in stem and not stem.startswith(".") for stem in stems)
    assert stems[0] == "a_b.png" and stems[1] == "a_b.png-1" and stems[5] == "ok-1.png"
    assert res.printable_name("caf\udce9.png") == "caf\\xe9.png"  # the byte survives, as text


def test_a_non_utf8_image_name_costs_nothing(tmp_path):
    """A folder image whose name is not UTF-8 is inverted and written like the others."""
    from PIL import Image

    from opgan.data import load_images

    folder = tmp_path / "images"
    folder.mkdir()
    for name in (b"plain.png", b"caf\xe9.png"):  # the second is Latin-1, not UTF-8
        Image.new("L", (16, 16), 128).save(os.path.join(os.fsencode(folder), name))
    images = load_images(str(folder), 16, 1, split="all")
    assert len(images) == 2
    G = tiny_generator(k=2)
    out = tmp_path / "out"
    res.invert_to_folder(G, images, InversionConfig(space="w", steps=2, lpips_net=None), out, progress=False)
    rows = res.read_results(out)
    assert sorted(row["image"] for row in rows) == ["caf\\xe9.png", "plain.png"]
    assert len(list((out / "codes").glob("*.pt"))) == 2 and len(list((out / "reconstructions").glob("*.png"))) == 2
    (out / "results.csv").read_text(encoding="utf-8")  # the table stays valid UTF-8


def test_a_file_that_cannot_be_written_loses_only_itself(tmp_path):
    G = tiny_generator(k=2)
    images = ImageSet(torch.full((3, 1, 16, 16), 100, dtype=torch.uint8), ["a", "b", "c"], "constant")
    out = tmp_path / "out"
    (out / "codes" / "b.pt").mkdir(parents=True)  # a directory where b's code file should go
    with pytest.raises(res.ResultsError, match="1 of 3 images.*b"):
        res.invert_to_folder(G, images, InversionConfig(space="w", steps=2, lpips_net=None), out, progress=False)
    assert [row["image"] for row in res.read_results(out)] == ["a", "b", "c"]
    assert res.read_codes(out).shape == (3, 2, 16)
    assert (out / "codes" / "a.pt").is_file() and (out / "codes" / "c.pt").is_file() and (out / "grid.png").is_file()


def test_a_change_to_the_inversion_code_invalidates_the_cache(tmp_path, monkeypatch):
    import shutil

    from opgan.environment import PACKAGE_ROOT

    source = tmp_path / "package"
    source.mkdir()
    for name in res.INVERSION_SOURCES:
        shutil.copyfile(PACKAGE_ROOT / name, source / name)
    monkeypatch.setattr(res, "SOURCE_ROOT", source)
    G, checkpoint = tiny_generator(k=2), tmp_path / "model.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, checkpoint)
    images = ImageSet(torch.randint(0, 256, (2, 1, 16, 16), dtype=torch.uint8), ["a.png", "b.png"], "test")
    cfg = InversionConfig(space="w", steps=2, lpips_net=None, record_every=0)
    cache = tmp_path / "cache"
    assert res.cached_inversion(G, images, cfg, cache, "run", checkpoint)[1] is False
    assert res.cached_inversion(G, images, cfg, cache, "run", checkpoint)[1] is True
    with open(source / "invert.py", "a") as changed:
        changed.write("\n# a change to the optimization\n")
    assert res.cached_inversion(G, images, cfg, cache, "run", checkpoint)[1] is False, "stale inversions were reused"
    assert res.cached_inversion(G, images, cfg, cache, "run", checkpoint)[1] is True


def test_tail_improvement_compares_the_last_fifth_of_the_steps():
    records = {
        "step": torch.tensor([0, 10, 20, 30, 40, 50]),
        "lpips": torch.tensor([[1.0, 1.0], [0.5, 0.5], [0.4, 0.4], [0.3, 0.3], [0.2, 0.2], [0.19, 0.21]]),
        "mse": torch.tensor([[0.1, 0.1]] * 5 + [[0.05, 0.05]]),
    }
    # the tail starts at step 40: loss 0.2 + 0.1 = 0.3 -> 0.2 + 0.05 = 0.25
    assert res.tail_improvement(records, {"lpips": 1.0, "mse": 1.0}) == pytest.approx(0.05 / 0.3)
    assert res.tail_improvement(records, {"lpips": 1.0}) == pytest.approx(0.0, abs=1e-6)


def test_cached_value_reuses_by_key_and_recomputes_what_is_broken(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"scores": torch.arange(3.0) + len(calls)}

    path = tmp_path / "model" / "value.pt"
    first, reused = res.cached_value(path, {"model": "a"}, compute)
    assert not reused and first["scores"].tolist() == [1.0, 2.0, 3.0]
    again, reused = res.cached_value(path, {"model": "a"}, compute)
    assert reused and torch.equal(again["scores"], first["scores"]) and len(calls) == 1
    assert res.cached_value(path, {"model": "b"}, compute)[1] is False  # another key: computed again
    path.write_bytes(b"not a tensor file")  # a broken value under a matching key
    value, reused = res.cached_value(path, {"model": "b"}, compute)
    assert not reused and value["scores"].tolist() == [3.0, 4.0, 5.0]
    (tmp_path / "model" / "value.pt.key.json").unlink()  # interrupted before its key was written
    assert res.cached_value(path, {"model": "b"}, compute)[1] is False and len(calls) == 4

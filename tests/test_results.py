"""Results folders: cached inversions, tables read back exactly, names that survive any file
system, and no result lost to a file that cannot be written."""

import os

import pytest
import torch
from helpers import tiny_generator

from opgan import results as res
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

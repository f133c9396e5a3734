"""Datasets: Fashion-MNIST, image folders and zips, odd and broken files."""

import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from opgan.data import DataError, convert_images, load_image_source, load_images, split_indices, to_float, to_uint8


def test_fashion_mnist_test_split(fashion_test):
    assert fashion_test.images.shape == (512, 1, 32, 32) and fashion_test.images.dtype == torch.uint8
    # padded by 2 pixels of background on every side, real content inside
    assert fashion_test.images[:, :, :2].max() == 0 and fashion_test.images[:, :, :, -2:].max() == 0
    assert fashion_test.images.float().mean() > 20
    assert "Ankle boot" in fashion_test.names[0]


def test_float_conversion_round_trips(fashion_test):
    images = fashion_test.images[:8]
    assert to_float(images).min() >= -1 and to_float(images).max() <= 1
    assert torch.equal(to_uint8(to_float(images)), images)


def _write_images(folder):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(folder / "wide.png")
    Image.fromarray(rng.integers(0, 255, (50, 30), dtype=np.uint8)).save(folder / "tall_gray.jpg")
    Image.fromarray(rng.integers(0, 255, (20, 20, 4), dtype=np.uint8), "RGBA").save(folder / "alpha.png")
    Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8)).convert("P").save(folder / "palette.gif")
    Image.fromarray(rng.integers(0, 65535, (16, 16), dtype=np.uint16)).save(folder / "deep.tif")
    (folder / "sub").mkdir(exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(folder / "sub" / "small.bmp")
    (folder / "notes.txt").write_text("not an image, and not named like one")


def test_folder_of_odd_images_is_converted(tmp_path):
    _write_images(tmp_path / "images")
    for channels in (1, 3):
        images = load_image_source(tmp_path / "images", resolution=16, channels=channels)
        assert images.images.shape == (6, channels, 16, 16)
    assert images.names[0] == "alpha.png" and "sub/small.bmp" in images.names


def test_zip_archive_matches_folder(tmp_path):
    _write_images(tmp_path / "images")
    with zipfile.ZipFile(tmp_path / "images.zip", "w") as archive:
        for path in sorted((tmp_path / "images").rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(tmp_path / "images"))
    from_zip = load_image_source(tmp_path / "images.zip", 16, 3)
    from_folder = load_image_source(tmp_path / "images", 16, 3)
    assert from_zip.names == from_folder.names
    assert torch.equal(from_zip.images, from_folder.images)


def test_corrupt_files_are_skipped_by_name(tmp_path):
    _write_images(tmp_path / "images")
    (tmp_path / "images" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "images" / "empty.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match="broken.png.*empty.jpg|empty.jpg.*broken.png"):
        images = load_image_source(tmp_path / "images", 16, 3)
    assert len(images) == 6 and "broken.png" not in images.names


def test_empty_or_unreadable_sources_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files"):
        load_images(str(tmp_path / "empty"), 16, 3)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.png").write_bytes(b"nope")
    with pytest.warns(UserWarning), pytest.raises(DataError, match="no readable image"):
        load_images(str(tmp_path / "bad"), 16, 3)
    with pytest.raises(DataError, match="does not exist"):
        load_images(str(tmp_path / "missing"), 16, 3)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(DataError, match="neither"):
        load_images(str(tmp_path / "file.txt"), 16, 3)
    with pytest.raises(DataError, match="split"):
        load_images("fashion-mnist:validation")


def test_seeded_split_is_disjoint_and_reproducible(tmp_path):
    train, test = split_indices(100, 0.1, seed=3)
    assert len(test) == 10 and len(train) == 90 and not set(train.tolist()) & set(test.tolist())
    again_train, again_test = split_indices(100, 0.1, seed=3)
    assert torch.equal(test, again_test)
    assert not torch.equal(test, split_indices(100, 0.1, seed=4)[1])
    _write_images(tmp_path / "images")
    held_out = load_images(str(tmp_path / "images"), 16, 3, split="test", test_fraction=0.3, seed=1)
    kept = load_images(str(tmp_path / "images"), 16, 3, split="train", test_fraction=0.3, seed=1)
    assert len(held_out) == 2 and len(kept) == 4 and not set(held_out.names) & set(kept.names)


def test_convert_images_resolution_and_channels(fashion_test):
    small = convert_images(fashion_test.subset(range(4)), resolution=16, channels=3)
    assert small.images.shape == (4, 3, 16, 16)
    assert torch.equal(small.images[:, 0], small.images[:, 2])


def test_a_tiny_image_is_used_with_a_warning_that_names_it(tmp_path):
    Image.new("L", (1, 1), 200).save(tmp_path / "dot.png")
    Image.new("L", (20, 20), 50).save(tmp_path / "fine.png")
    with pytest.warns(UserWarning, match=r"dot.png: 1x1 px is enlarged") as caught:
        images = load_images(str(tmp_path), 32, 1, split="all")
    assert len(images) == 2 and not any("fine.png" in str(w.message) for w in caught)
    assert images.images[images.names.index("dot.png")].float().mean() == pytest.approx(200, abs=1)

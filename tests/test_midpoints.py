"""Midpoint scoring: the book's pairs, each midpoint's scores kept beside its inversion, and the
set-level midpoint realism."""

import pytest
import torch
from helpers import small_generator

from opgan.interpolate import distinct_pairs
from opgan.invert import initial_codes
from opgan.metrics import vgg16_features
from opgan.study import midpoints
from opgan.study.midpoints import class_pairs, midpoint_items, midpoint_realism


def test_midpoints_of_identical_codes_are_the_endpoints(fashion_test):
    from opgan.data import convert_images, to_float

    G = small_generator(seed=1)
    code = initial_codes(G, 1, "w") + 0.5 * torch.randn(1, 4, 8)
    real = to_float(convert_images(fashion_test.subset(range(24)), resolution=16, channels=1).images)
    realism = midpoint_realism(G, code.expand(6, -1, -1).clone(), "w", real, pairs=4)
    assert realism["pairs"] == 4
    torch.testing.assert_close(realism["midpoint_features"], realism["endpoint_features"])
    with torch.no_grad():
        the_code = vgg16_features(G.synthesize(code, "w").clamp(-1, 1))
    torch.testing.assert_close(realism["endpoint_features"], the_code.expand(4, -1), atol=1e-4, rtol=1e-4)
    assert realism["fd_midpoints"] == pytest.approx(realism["fd_endpoints"])


def test_midpoint_realism_counts_pairs_and_takes_images_or_features(fashion_test):
    from opgan.data import convert_images, to_float

    G = small_generator(seed=1)
    codes = initial_codes(G, 6, "w") + 0.5 * torch.randn(6, 4, 8)
    real = to_float(convert_images(fashion_test.subset(range(24)), resolution=16, channels=1).images)
    from_images = midpoint_realism(G, codes, "w", real)
    assert from_images["pairs"] == 6 and from_images["midpoint_features"].shape[0] == 6  # as many pairs as codes
    first, _ = distinct_pairs(6, 6, seed=0)  # each endpoint is made once, however often its code starts a pair
    directly = vgg16_features(G.synthesize(codes[first], "w").clamp(-1, 1))
    torch.testing.assert_close(from_images["endpoint_features"], directly, atol=1e-4, rtol=1e-4)
    assert midpoint_realism(G, codes, "w", real, pairs=100)["pairs"] == 15  # 6 codes make 15 pairs
    from_features = midpoint_realism(G, codes, "w", vgg16_features(real))
    for key in ("fd_midpoints", "fd_endpoints"):
        assert from_features[key] == pytest.approx(from_images[key], rel=1e-6) and from_images[key] > 0
    with pytest.raises(ValueError, match="at least 2 codes"):
        midpoint_realism(G, codes[:1], "w", real)


def test_class_pairs_are_half_within_a_class_and_the_same_every_time():

    names = [
        f"fashion-mnist-test-{i:05d}-{label}" for i, label in enumerate(["Bag", "Coat", "Bag", "Coat", "Bag", "Dress"])
    ]
    first, second, same = class_pairs(names, 6, seed=0)
    assert len(first) == 6 and sum(same) == 3
    assert all((names[a].split("-")[-1] == names[b].split("-")[-1]) == s for a, b, s in zip(first, second, same))
    again = class_pairs(names, 6, seed=0)
    assert torch.equal(first, again[0]) and torch.equal(second, again[1])
    assert len({(a, b) for a, b in zip(first.tolist(), second.tolist())}) == 6  # distinct pairs
    unlabelled = class_pairs(["a.png", "b.png", "c.png"], 2)
    assert unlabelled[2] == [None, None]


def test_midpoint_items_score_every_pair_once():

    G = small_generator(seed=1)
    names = [f"fashion-mnist-test-{i:05d}-{label}" for i, label in enumerate(["Bag", "Coat", "Bag", "Coat"])]
    codes = initial_codes(G, 4, "w") + 0.5 * torch.randn(4, 4, 8)
    real = torch.randn(20, 512)
    rows = midpoint_items(G, codes, "w", class_pairs(names, 4), names, real, None, model="m", k=4, seed=0)
    assert [row["pair"] for row in rows] == [0, 1, 2, 3]
    assert all(row["realism"] > 0 and row["confidence"] == "" and row["model"] == "m" for row in rows)


def test_midpoint_scores_are_kept_in_their_inversion_folder(tmp_path, monkeypatch):

    G = small_generator(seed=1)
    names = [f"fashion-mnist-test-{i:05d}-{label}" for i, label in enumerate(["Bag", "Coat", "Bag", "Coat"])]
    codes = initial_codes(G, 4, "w") + 0.5 * torch.randn(4, 4, 8)
    real, pairs = torch.randn(20, 512), class_pairs(names, 4)
    folder = tmp_path / "cpu-k4-w"
    folder.mkdir()
    (folder / "cache-key.json").write_text('{"checkpoint_sha256": "a"}')
    direct = midpoint_items(G, codes, "w", pairs, names, real, None, model="m", k=4, seed=0)
    scored = []
    original = midpoints.midpoint_scores
    monkeypatch.setattr(midpoints, "midpoint_scores", lambda *args: scored.append(1) or original(*args))
    for _ in range(2):
        kept = midpoint_items(G, codes, "w", pairs, names, real, None, inversion_folder=folder, model="m", k=4, seed=0)
        assert kept == direct
    assert len(scored) == 1 and (folder / midpoints.MIDPOINT_SCORES).is_file()
    (folder / "cache-key.json").write_text('{"checkpoint_sha256": "b"}')  # the inversion was made again
    midpoint_items(G, codes, "w", pairs, names, real, None, inversion_folder=folder, model="m", k=4, seed=0)
    midpoint_items(G, codes, "w", pairs, names, real[:19], None, inversion_folder=folder, model="m", k=4, seed=0)
    assert len(scored) == 3  # and so was another reference

"""Interpolation: endpoints equal the inputs, lerp and slerp at hand-computed points, realism and
smoothness measures."""

import math

import pytest
import torch
from helpers import tiny_model_config

from opgan.interpolate import distinct_pairs, frames, interpolate_codes, midpoint_realism, path_smoothness, slerp
from opgan.invert import initial_codes
from opgan.metrics import vgg16_features
from opgan.networks import Generator

SMALL = dict(z_dim=8, w_dim=8)  # the tiny model with 8-dim latents: the code shapes below are written for them


def small_generator(seed: int) -> Generator:
    """k = 4, with w_avg tracked so that codes around it make images."""
    torch.manual_seed(seed)
    G = Generator(tiny_model_config(k=4, **SMALL)).eval()
    for _ in range(10):
        G.mapping(G.sample_z(16), update_w_avg=True)
    return G


@pytest.mark.parametrize("space", ["z", "w", "w+"])
def test_endpoints_equal_the_inputs(space):
    torch.manual_seed(0)
    G = Generator(tiny_model_config(k=4, **SMALL)).eval()
    shape = {"z": (2, 4, 8), "w": (2, 4, 8), "w+": (2, 6, 4, 8)}[space]
    a, b = torch.randn(shape), torch.randn(shape)
    images = frames(G, a, b, space, [0.0, 0.5, 1.0])
    with torch.no_grad():
        torch.testing.assert_close(images[0], G.synthesize(a, space).clamp(-1, 1))
        torch.testing.assert_close(images[2], G.synthesize(b, space).clamp(-1, 1))
    assert (images[1] - images[0]).abs().max() > 1e-3


def test_frames_follow_the_line_in_w_and_the_great_circle_in_z():
    torch.manual_seed(0)
    G = Generator(tiny_model_config(k=4, **SMALL)).eval()
    c, d = torch.randn(2, 4, 8), torch.randn(2, 4, 8)
    with torch.no_grad():  # a quarter of the way from c to c + 4d is c + d
        torch.testing.assert_close(
            frames(G, c, c + 4 * d, "w", [0.25])[0], G.synthesize(c + d, "w").clamp(-1, 1), atol=1e-5, rtol=1e-5
        )
    a, b = torch.zeros(2, 4, 8), torch.zeros(2, 4, 8)
    a[:, 0, 0], b[:, 1, 3] = 2.0, 2.0  # orthogonal, of equal norm
    # a third of the way along the arc is 30 degrees from a: cos 30 a + sin 30 b (the chord's point,
    # 2/3 a + 1/3 b, points elsewhere, and z's normalization does not hide a direction)
    with torch.no_grad():
        on_arc = G.synthesize(math.sqrt(3) / 2 * a + 0.5 * b, "z").clamp(-1, 1)
        on_chord = G.synthesize(2 / 3 * a + 1 / 3 * b, "z").clamp(-1, 1)
    third = frames(G, a, b, "z", [1 / 3])[0]
    torch.testing.assert_close(third, on_arc, atol=1e-5, rtol=1e-5)
    assert (third - on_chord).abs().max() > 1e-4


def test_slerp_and_lerp_at_hand_computed_points():
    a, b = torch.tensor([[[2.0, 0.0]]]), torch.tensor([[[0.0, 2.0]]])  # one code [1, 1, 2] each: orthogonal, norm 2
    torch.testing.assert_close(slerp(a, b, 0.5), torch.tensor([[[math.sqrt(2), math.sqrt(2)]]]))
    torch.testing.assert_close(slerp(a, b, 1 / 3), torch.tensor([[[math.sqrt(3), 1.0]]]))  # 30 degrees from a
    torch.testing.assert_close(interpolate_codes(a, b, 1 / 3, "z"), torch.tensor([[[math.sqrt(3), 1.0]]]))
    torch.testing.assert_close(slerp(a, b, 0.0), a)
    torch.testing.assert_close(slerp(a, b, 1.0), b)
    a, b = torch.tensor([[[0.0, 4.0]]]), torch.tensor([[[8.0, -4.0]]])
    for space in ("w", "w+"):
        torch.testing.assert_close(interpolate_codes(a, b, 0.25, space), torch.tensor([[[2.0, 2.0]]]))
        torch.testing.assert_close(interpolate_codes(a, b, 0.5, space), torch.tensor([[[4.0, 0.0]]]))


def test_slerp_keeps_the_norm_and_identical_codes_stay_put():
    a, b = torch.randn(3, 4, 8), torch.randn(3, 4, 8)
    b = b / b.flatten(1).norm(dim=1).view(-1, 1, 1) * a.flatten(1).norm(dim=1).view(-1, 1, 1)  # equal norms
    for alpha in (0.25, 0.5, 0.9):
        torch.testing.assert_close(slerp(a, b, alpha).flatten(1).norm(dim=1), a.flatten(1).norm(dim=1))
    for space in ("z", "w", "w+"):  # the midpoint of a code and itself is the code
        torch.testing.assert_close(interpolate_codes(a, a, 0.5, space), a)
    torch.testing.assert_close(slerp(a, a, 0.3), a)
    with pytest.raises(ValueError, match="shapes"):
        interpolate_codes(a, b[:, :2], 0.5, "w")


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


def test_path_smoothness_of_a_still_path_is_zero_and_reversal_keeps_its_length():
    G = small_generator(seed=1)
    codes = initial_codes(G, 6, "w") + 0.5 * torch.randn(6, 4, 8)
    still = path_smoothness(G, codes[:3], codes[:3], "w", steps=4)
    for key in ("mean_step", "max_step", "path_length"):
        torch.testing.assert_close(still[key], torch.zeros(3), atol=1e-6, rtol=0)
    forward = path_smoothness(G, codes[:3], codes[3:], "w", steps=4)
    backward = path_smoothness(G, codes[3:], codes[:3], "w", steps=4)
    assert forward["mean_step"].shape == (3,) and (forward["path_length"] > 0).all()
    torch.testing.assert_close(backward["path_length"], forward["path_length"], atol=1e-4, rtol=1e-3)
    torch.testing.assert_close(backward["max_step"], forward["max_step"], atol=1e-4, rtol=1e-3)
    # a sum of 4 non-negative steps lies between its largest and 4 times that
    assert (forward["max_step"] >= forward["mean_step"]).all()
    assert (forward["path_length"] >= forward["max_step"]).all()
    assert (forward["path_length"] <= 4 * forward["max_step"] + 1e-6).all()


def test_distinct_pairs_never_repeat_a_pair():
    first, second = distinct_pairs(64, 256, seed=3)
    pairs = {(min(a, b), max(a, b)) for a, b in zip(first.tolist(), second.tolist())}
    assert len(pairs) == 256 and all(a != b for a, b in pairs)
    assert all(0 <= a < 64 and 0 <= b < 64 for a, b in pairs)
    with pytest.raises(ValueError):
        distinct_pairs(4, 7)  # 4 codes make only 6 pairs


def test_class_pairs_are_half_within_a_class_and_the_same_every_time():
    from opgan.interpolate import class_pairs

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
    from opgan.interpolate import class_pairs, midpoint_items

    G = small_generator(seed=1)
    names = [f"fashion-mnist-test-{i:05d}-{label}" for i, label in enumerate(["Bag", "Coat", "Bag", "Coat"])]
    codes = initial_codes(G, 4, "w") + 0.5 * torch.randn(4, 4, 8)
    real = torch.randn(20, 512)
    rows = midpoint_items(G, codes, "w", class_pairs(names, 4), names, real, None, model="m", k=4, seed=0)
    assert [row["pair"] for row in rows] == [0, 1, 2, 3]
    assert all(row["realism"] > 0 and row["confidence"] == "" and row["model"] == "m" for row in rows)


def test_midpoint_scores_are_kept_in_their_inversion_folder(tmp_path, monkeypatch):
    from opgan import interpolate
    from opgan.interpolate import class_pairs, midpoint_items

    G = small_generator(seed=1)
    names = [f"fashion-mnist-test-{i:05d}-{label}" for i, label in enumerate(["Bag", "Coat", "Bag", "Coat"])]
    codes = initial_codes(G, 4, "w") + 0.5 * torch.randn(4, 4, 8)
    real, pairs = torch.randn(20, 512), class_pairs(names, 4)
    folder = tmp_path / "cpu-k4-w"
    folder.mkdir()
    (folder / "cache-key.json").write_text('{"checkpoint_sha256": "a"}')
    direct = midpoint_items(G, codes, "w", pairs, names, real, None, model="m", k=4, seed=0)
    scored = []
    original = interpolate.midpoint_scores
    monkeypatch.setattr(interpolate, "midpoint_scores", lambda *args: scored.append(1) or original(*args))
    for _ in range(2):
        kept = midpoint_items(G, codes, "w", pairs, names, real, None, inversion_folder=folder, model="m", k=4, seed=0)
        assert kept == direct
    assert len(scored) == 1 and (folder / interpolate.MIDPOINT_SCORES).is_file()
    (folder / "cache-key.json").write_text('{"checkpoint_sha256": "b"}')  # the inversion was made again
    midpoint_items(G, codes, "w", pairs, names, real, None, inversion_folder=folder, model="m", k=4, seed=0)
    midpoint_items(G, codes, "w", pairs, names, real[:19], None, inversion_folder=folder, model="m", k=4, seed=0)
    assert len(scored) == 3  # and so was another reference

"""Interpolation: endpoints equal the inputs, lerp and slerp at hand-computed points, realism and
smoothness measures."""

import math

import pytest
import torch
from helpers import SMALL_LATENTS, small_generator, tiny_model_config

from opgan.interpolate import distinct_pairs, frames, interpolate_codes, path_smoothness, slerp
from opgan.invert import initial_codes
from opgan.networks import Generator


@pytest.mark.parametrize("space", ["z", "w", "w+"])
def test_endpoints_equal_the_inputs(space):
    torch.manual_seed(0)
    G = Generator(tiny_model_config(k=4, **SMALL_LATENTS)).eval()
    shape = {"z": (2, 4, 8), "w": (2, 4, 8), "w+": (2, 6, 4, 8)}[space]
    a, b = torch.randn(shape), torch.randn(shape)
    images = frames(G, a, b, space, [0.0, 0.5, 1.0])
    with torch.no_grad():
        torch.testing.assert_close(images[0], G.synthesize(a, space).clamp(-1, 1))
        torch.testing.assert_close(images[2], G.synthesize(b, space).clamp(-1, 1))
    assert (images[1] - images[0]).abs().max() > 1e-3


def test_frames_follow_the_line_in_w_and_the_great_circle_in_z():
    torch.manual_seed(0)
    G = Generator(tiny_model_config(k=4, **SMALL_LATENTS)).eval()
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

"""Interpolation: endpoints equal the inputs, slerp geometry, realism and smoothness measures."""

import pytest
import torch

from opgan.interpolate import distinct_pairs, frames, interpolate_codes, midpoint_realism, path_smoothness, slerp
from opgan.invert import initial_codes
from opgan.metrics import frechet_distance, vgg16_features
from opgan.networks import Generator, ModelConfig

SMALL = dict(resolution=16, img_channels=1, z_dim=8, w_dim=8, channel_base=128, channel_max=8)


@pytest.mark.parametrize("space", ["z", "w", "w+"])
def test_endpoints_equal_the_inputs(space):
    torch.manual_seed(0)
    G = Generator(ModelConfig(k=4, **SMALL)).eval()
    shape = {"z": (2, 4, 8), "w": (2, 4, 8), "w+": (2, 6, 4, 8)}[space]
    a, b = torch.randn(shape), torch.randn(shape)
    images = frames(G, a, b, space, [0.0, 0.5, 1.0])
    with torch.no_grad():
        torch.testing.assert_close(images[0], G.synthesize(a, space).clamp(-1, 1))
        torch.testing.assert_close(images[2], G.synthesize(b, space).clamp(-1, 1))
    assert (images[1] - images[0]).abs().max() > 1e-3


def test_slerp_geometry():
    a, b = torch.randn(3, 4, 8), torch.randn(3, 4, 8)
    b = b / b.flatten(1).norm(dim=1).view(-1, 1, 1) * a.flatten(1).norm(dim=1).view(-1, 1, 1)  # equal norms
    middle = slerp(a, b, 0.5)
    torch.testing.assert_close(middle.flatten(1).norm(dim=1), a.flatten(1).norm(dim=1))
    torch.testing.assert_close(slerp(a, a, 0.3), a)
    torch.testing.assert_close(interpolate_codes(a, b, 0.25, "w"), a + 0.25 * (b - a))
    with pytest.raises(ValueError, match="shapes"):
        interpolate_codes(a, b[:, :2], 0.5, "w")


def test_midpoint_realism_and_smoothness_are_measured(fashion_test):
    from opgan.data import convert_images, to_float

    torch.manual_seed(1)
    G = Generator(ModelConfig(k=4, **SMALL)).eval()
    for _ in range(10):
        G.mapping(G.sample_z(16), update_w_avg=True)
    codes = initial_codes(G, 12, "w") + 0.5 * torch.randn(12, 4, 8)
    real = to_float(convert_images(fashion_test.subset(range(24)), resolution=16, channels=1).images)
    realism = midpoint_realism(G, codes, "w", real, pairs=12)
    assert realism["pairs"] == 12
    reference = vgg16_features(real)
    assert realism["fd_midpoints"] == pytest.approx(frechet_distance(realism["midpoint_features"], reference), rel=1e-6)
    assert realism["fd_endpoints"] == pytest.approx(frechet_distance(realism["endpoint_features"], reference), rel=1e-6)
    first, second = distinct_pairs(12, 12)
    midpoints = G.synthesize((codes[first] + codes[second]) / 2, "w").clamp(-1, 1)
    torch.testing.assert_close(realism["midpoint_features"], vgg16_features(midpoints), atol=1e-4, rtol=1e-4)
    smooth = path_smoothness(G, codes[:3], codes[3:6], "w", steps=4)
    assert smooth["mean_step"].shape == (3,) and (smooth["max_step"] >= smooth["mean_step"]).all()
    assert torch.allclose(smooth["path_length"], smooth["mean_step"] * 4)


def test_distinct_pairs_never_repeat_a_pair():
    from opgan.interpolate import distinct_pairs

    first, second = distinct_pairs(64, 256, seed=3)
    pairs = {(min(a, b), max(a, b)) for a, b in zip(first.tolist(), second.tolist())}
    assert len(pairs) == 256 and all(a != b for a, b in pairs)
    assert all(0 <= a < 64 and 0 <= b < 64 for a, b in pairs)
    with pytest.raises(ValueError):
        distinct_pairs(4, 7)  # 4 codes make only 6 pairs

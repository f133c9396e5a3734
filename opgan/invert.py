"""Optimization-based inversion: find the code in Z, W or W+ that regenerates each target image.

As in the paper, codes in W and W+ start at ``w_avg`` in every row, the loss is LPIPS (VGG by
default) between the generated and the target image, optionally plus a weighted MSE, and Adam
optimizes the code.  Images are inverted in batches, each with its own code and loss: since Adam
is elementwise and the losses are summed, a batch gives the same codes as inverting one by one.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import torch
from tqdm import tqdm  # plain bars: tqdm.auto warns in kernels without ipywidgets

from opgan import module_calls
from opgan.errors import ConfigError, OpganError
from opgan.metrics import LPIPS, _cached_lpips, mse, psnr, ssim
from opgan.networks import SPACES, Generator


class InversionError(OpganError, RuntimeError):
    """Inversion could not proceed (non-finite loss, bad input); the message names the images."""


@dataclass
class InversionConfig:
    """How codes are optimized; the defaults are the cpu preset's, the book's protocol (opgan.presets;
    chosen with benchmarks/tune_invert.py, benchmarks/README.md)."""

    space: str = "w+"
    steps: int = 150
    lr: float = 0.2
    warmup: float = 0.05  # fraction of steps with a linear learning-rate ramp-up
    rampdown: float = 0.25  # fraction of steps with a cosine ramp-down to zero (StyleGAN2's projector)
    lpips_net: str | None = "alex"  # "vgg" (the paper), "alex", or None for pixel losses only
    mse_weight: float = 1.0  # LPIPS alone reconstructs 32-px images poorly (PSNR ~15 dB vs ~26 dB with MSE)
    seed: int = 0  # for z initialization
    record_every: int = 10  # record PSNR/SSIM/MSE/LPIPS of the current reconstructions every N steps (0: never)
    # fractions of the steps after which the codes are also kept (a trajectory): a snapshot at 0.25 is
    # the code a quarter of the way through this schedule, not a 4x shorter inversion
    snapshots: tuple[float, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    def __post_init__(self) -> None:
        if self.space not in SPACES:
            raise ConfigError(f"unknown latent space {self.space!r}; choose one of {', '.join(SPACES)}")
        if self.steps < 1 or self.lr <= 0:
            raise ConfigError(f"steps must be >= 1 and lr > 0 (got steps={self.steps}, lr={self.lr})")
        if self.lpips_net is None and self.mse_weight <= 0:
            raise ConfigError("no loss: give an LPIPS network or a positive MSE weight")
        self.snapshots = tuple(sorted(set(float(f) for f in self.snapshots)))  # from JSON: a list
        if any(not 0 < f < 1 for f in self.snapshots):
            raise ConfigError(f"snapshots are fractions of the steps in (0, 1), got {list(self.snapshots)}")

    def snapshot_steps(self) -> list[int]:
        """The steps done at each snapshot (at least 1, fewer than all), in order."""
        return sorted({min(max(1, round(f * self.steps)), self.steps - 1) for f in self.snapshots if self.steps > 1})


@dataclass
class InversionResult:
    codes: torch.Tensor  # [N, k, dim] (z, w) or [N, num_ws, k, dim] (w+)
    reconstructions: torch.Tensor  # [N, C, H, W] in [-1, 1]
    loss_history: torch.Tensor  # [steps, N]
    records: dict[str, torch.Tensor] = field(default_factory=dict)  # metric -> [records, N]; "step" -> [records]
    seconds: float = 0.0
    space: str = "w+"
    record_seconds: torch.Tensor | None = None  # [records]: optimization time at each record, recording excluded
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)  # steps done -> codes then (cfg.snapshots)


def latent_size(G: Generator, space: str) -> int:
    """Free values of one image's code in a space."""
    cfg = G.cfg
    return {"z": cfg.k * cfg.z_dim, "w": cfg.k * cfg.w_dim, "w+": cfg.num_ws * cfg.k * cfg.w_dim}[space]


def used_latent_size(G: Generator, space: str) -> int:
    """Values of a code that actually affect the image (W+ rows that no layer reads are excluded)."""
    if space == "w+":
        return sum(G.rows_per_slot()) * G.cfg.w_dim
    return latent_size(G, space)


def initial_codes(G: Generator, count: int, space: str, seeds: list[int] | None = None, seed: int = 0) -> torch.Tensor:
    """w_avg in every row (w, w+) or a seeded normal draw per image (z; seed `seeds[i]` for image i)."""
    cfg = G.cfg
    device = G.mapping.w_avg.device
    if space == "z":
        seeds = seeds if seeds is not None else [seed + i for i in range(count)]
        draws = [torch.randn(cfg.k, cfg.z_dim, generator=torch.Generator().manual_seed(s)) for s in seeds]
        return torch.stack(draws).to(device)
    w = G.mapping.w_avg.detach().view(1, 1, -1).expand(count, cfg.k, -1)
    return (w if space == "w" else w.unsqueeze(1).expand(-1, G.num_ws, -1, -1)).clone()


def learning_rate(step: int, steps: int, base: float, warmup: float, rampdown: float) -> float:
    """StyleGAN2 projector schedule: linear ramp-up, flat, cosine ramp-down to zero."""
    t = step / steps
    ramp = min(1.0, (1.0 - t) / rampdown) if rampdown > 0 else 1.0
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    if warmup > 0:
        ramp *= min(1.0, t / warmup) if t > 0 else 1.0 / (warmup * steps + 1)
    return base * ramp


def invert(
    G: Generator,
    targets: torch.Tensor,
    cfg: InversionConfig | None = None,
    seeds: list[int] | None = None,
    progress: bool = True,
    initial: torch.Tensor | None = None,
) -> InversionResult:
    """Inverts target images [N, C, H, W] in [-1, 1] (already at the model's resolution and channels).
    Codes start at `initial` when given (codes of cfg.space, e.g. a W solution broadcast to W+)."""
    cfg = cfg or InversionConfig()
    model_cfg = G.cfg
    expected = (model_cfg.img_channels, model_cfg.resolution, model_cfg.resolution)
    if targets.ndim != 4 or tuple(targets.shape[1:]) != expected:
        raise InversionError(
            f"targets must be [N, {expected[0]}, {expected[1]}, {expected[2]}], got {list(targets.shape)}"
        )
    if not torch.isfinite(targets).all():
        bad = torch.nonzero(~torch.isfinite(targets.flatten(1)).all(1)).flatten().tolist()
        raise InversionError(f"target images {bad} contain NaN or infinite values")
    device = G.mapping.w_avg.device
    targets = targets.to(device).float()
    trainable = [p for p in G.parameters() if p.requires_grad]  # handed back as they came
    G.requires_grad_(False)
    try:
        return _optimize(G, targets, cfg, seeds, progress, initial)
    finally:
        for p in trainable:
            p.requires_grad_(True)


def _optimize(
    G: Generator,
    targets: torch.Tensor,
    cfg: InversionConfig,
    seeds: list[int] | None,
    progress: bool,
    initial: torch.Tensor | None,
) -> InversionResult:
    model_cfg, device = G.cfg, targets.device
    perceptual: LPIPS | None = _cached_lpips(cfg.lpips_net, 64, str(device)) if cfg.lpips_net else None
    with torch.no_grad():  # the targets' side of LPIPS, once for all steps
        target_features = perceptual.features(targets) if perceptual is not None else []

    start_codes = initial_codes(G, len(targets), cfg.space, seeds, cfg.seed)
    if initial is not None:
        if initial.shape != start_codes.shape:
            raise InversionError(
                f"initial codes {list(initial.shape)} do not fit {cfg.space} codes {list(start_codes.shape)}"
            )
        start_codes = initial.detach().to(device=start_codes.device, dtype=start_codes.dtype).clone()
    codes = start_codes.requires_grad_(True)
    optimizer = torch.optim.Adam([codes], lr=cfg.lr, betas=(0.9, 0.999))
    losses = []
    snapshot_steps, snapshots = set(cfg.snapshot_steps()), {}
    records: dict[str, list] = {"step": []}
    record_seconds, recording = [], 0.0  # time spent measuring, not optimizing
    start = time.perf_counter()
    bar = tqdm(
        range(cfg.steps),
        desc=f"invert {cfg.space} k={model_cfg.k}",
        leave=False,
        **({} if progress else {"disable": True}),
    )  # a shown bar obeys TQDM_DISABLE
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, cfg.steps, cfg.lr, cfg.warmup, cfg.rampdown)
        images = G.synthesize(codes, cfg.space)
        per_image = torch.zeros(len(targets), device=device)
        if perceptual is not None:
            per_image = per_image + perceptual.distance_to(images, target_features)
        if cfg.mse_weight > 0:
            per_image = per_image + cfg.mse_weight * mse(images, targets)
        if not torch.isfinite(per_image).all():
            bad = torch.nonzero(~torch.isfinite(per_image)).flatten().tolist()
            raise InversionError(f"loss became non-finite at step {step} for images {bad} (try a lower --lr)")
        optimizer.zero_grad(set_to_none=True)
        per_image.sum().backward()  # a sum keeps every image's gradient independent of the others
        optimizer.step()
        losses.append(per_image.detach().cpu())
        if step + 1 in snapshot_steps:
            snapshots[step + 1] = codes.detach().clone()
        if cfg.record_every and (step % cfg.record_every == 0 or step == cfg.steps - 1):
            record_start = time.perf_counter()
            record_seconds.append(record_start - start - recording)
            _record(records, step, images.detach(), targets, perceptual, target_features)
            recording += time.perf_counter() - record_start
        if step % 10 == 0:
            bar.set_postfix(loss=f"{per_image.mean().item():.4f}")
    with torch.no_grad():
        reconstructions = G.synthesize(codes, cfg.space).clamp(-1, 1)
    if cfg.record_every:
        record_seconds.append(time.perf_counter() - start - recording)
        _record(records, cfg.steps, reconstructions, targets, perceptual, target_features)
    return InversionResult(
        codes=codes.detach(),
        reconstructions=reconstructions,
        loss_history=torch.stack(losses),
        records={
            key: torch.as_tensor(value) if key == "step" else torch.stack(value)
            for key, value in records.items()
            if value
        },
        seconds=time.perf_counter() - start,
        space=cfg.space,
        record_seconds=torch.tensor(record_seconds, dtype=torch.float64) if record_seconds else None,
        snapshots=snapshots,
    )


def _record(
    records: dict,
    step: int,
    images: torch.Tensor,
    targets: torch.Tensor,
    perceptual: LPIPS | None,
    target_features: list[torch.Tensor],
) -> None:
    images = images.clamp(-1, 1)
    with torch.no_grad():
        values = {"psnr": psnr(images, targets), "ssim": ssim(images, targets), "mse": mse(images, targets)}
        if perceptual is not None:
            values["lpips"] = perceptual.distance_to(images, target_features)
    records["step"].append(step)
    for key, value in values.items():
        records.setdefault(key, []).append(value.cpu())


def reconstruction_metrics(
    reconstructions: torch.Tensor, targets: torch.Tensor, lpips_net: str = "vgg"
) -> dict[str, torch.Tensor]:
    """PSNR, SSIM, MSE and LPIPS per image of final reconstructions."""
    from opgan.metrics import lpips_distance

    targets = targets.to(reconstructions.device)
    return {
        "psnr": psnr(reconstructions, targets),
        "ssim": ssim(reconstructions, targets),
        "lpips": lpips_distance(reconstructions, targets, lpips_net),
        "mse": mse(reconstructions, targets),
    }


module_calls(__name__, invert)  # `from opgan import invert; invert(G, targets, cfg)`

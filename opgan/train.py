"""The trainer: networks, optimizers, randomness, the loop, G EMA and checkpoints (the objective is
`opgan.loss`).

One code path from a laptop CPU to several GPUs: run it directly, or under ``torchrun`` for
distributed data parallel (gloo on CPU, NCCL on CUDA).  Every rank draws the *global* batch from the
same seeded generator and keeps its own slice, so a run's images, latents and (averaged) gradients
do not depend on the number of ranks.  Only rank 0 writes files.

State lives in ``OUT/checkpoint.pt`` (written atomically every ``checkpoint_every`` images, at the
end, and on Ctrl-C/SIGTERM); ``resume=True`` continues exactly where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm  # plain bars: tqdm.auto warns in kernels without ipywidgets

from opgan import module_calls
from opgan.checkpoint import CheckpointError, export_generator, read_checkpoint, save_checkpoint
from opgan.data import ImageSet, load_images, to_float
from opgan.diagnostics import distance_from_init
from opgan.distributed import average_gradients, close_distributed, process_placement, setup_distributed
from opgan.environment import provenance
from opgan.errors import ConfigError
from opgan.files import WriteError, save_image_grid, write_json, write_text
from opgan.loss import StyleGAN2Loss
from opgan.networks import Discriminator, Generator, ModelConfig

RUN_OPTIONS = ("seed", "threads", "export_at")  # options of one run, not of a recipe: no preset sets them


@dataclass
class TrainConfig:
    """Everything a training run needs besides the architecture (`model`); the defaults are the cpu
    preset's (opgan.presets)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    preset: str = "cpu"
    data: str = "fashion-mnist:train"
    test_fraction: float = 0.05  # held-out share of an image folder (Fashion-MNIST has its own split)
    batch: int = 32  # global batch, split across DDP ranks
    total_images: int = 150_000
    lr_g: float = 0.0025
    lr_d: float = 0.0025
    beta1: float = 0.0
    beta2: float = 0.99
    r1_gamma: float = 0.01  # R1 weight of a k = 1 model
    r1_gamma_rows: float = 0.03  # R1 weight of a k > 1 model (the authors: 3x the baseline's)
    r1_interval: int = 16
    pl_weight: float = 0.0
    pl_interval: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    style_mixing: float = 0.9
    ema_images: int = 10_000  # G EMA half-life in images
    ema_rampup: float = 0.05  # half-life is at most this fraction of the images seen so far
    xflip: bool = False
    checkpoint_every: int = 10_000  # images
    sample_every: int = 10_000  # images
    log_every: int = 1_000  # images
    sample_count: int = 64
    mixed_precision: bool = False  # bfloat16 autocast, CUDA only
    seed: int = 0
    threads: int = 0  # torch CPU threads; 0 = PyTorch's default
    # Image counts at which the run also writes its generator as ``generator-{N/1000}k.pt``: one run
    # gives the same model at several training lengths (the state after N images does not depend on
    # total_images, so a long run's export equals a shorter run's end).
    export_at: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        self.export_at = tuple(sorted(int(images) for images in self.export_at))
        if any(images <= 0 for images in self.export_at):
            raise ConfigError(f"export_at takes positive image counts, got {self.export_at}")

    @property
    def r1_weight(self) -> float:
        """The R1 weight this run uses: r1_gamma for k = 1, r1_gamma_rows for more rows."""
        return self.r1_gamma if self.model.k == 1 else self.r1_gamma_rows

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "model"}
        data["model"] = self.model.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        values = dict(data)
        if "r1_gamma_rows" not in values and "r1_gamma" in values:
            # written before the two weights were separate fields: r1_gamma was the weight used
            values["r1_gamma_rows"] = values["r1_gamma"]
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown training options: {sorted(unknown)}")
        values["model"] = ModelConfig.from_dict(values.get("model", {}))
        return cls(**values)


# --------------------------------------------------------------------------------------------
# The trainer


class RunningMeans:
    """Sums of the step statistics, kept on the device (float64) so that no step waits for it; read
    with one synchronization per log interval."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        for key, value in stats.items():
            self.sums[key] = self.sums[key] + value.double() if key in self.sums else value.double()
            self.counts[key] = self.counts.get(key, 0) + 1

    def means(self, images_seen: int) -> dict[str, float]:
        """The window's mean of every statistic; FloatingPointError when one is not finite."""
        if not self.sums:
            return {}
        sums = torch.stack(list(self.sums.values())).tolist()
        means = {key: total / self.counts[key] for key, total in zip(self.sums, sums)}
        for key, value in means.items():
            if not math.isfinite(value):
                raise FloatingPointError(f"{key} became {value} in the log window ending at {images_seen} images")
        return means


class Trainer:
    """Holds networks, optimizers and RNG; `run()` trains to `cfg.total_images`."""

    def __init__(
        self,
        cfg: TrainConfig,
        out_dir: str | os.PathLike,
        resume: bool = False,
        data: ImageSet | None = None,
        device: str | None = None,
    ):
        """Builds the run in `out_dir` on `device` (None: CUDA when available; under torchrun the
        rank's GPU).  Touches no process-wide state: `train()` sets threads and CUDA flags and owns
        the process group, which a caller may also have started itself."""
        self.cfg = cfg
        self.out_dir = Path(out_dir)
        self.rank, self.world, self.device = process_placement(device)
        if cfg.batch % self.world:
            raise ConfigError(f"batch {cfg.batch} does not split across {self.world} ranks")
        self.local_batch = cfg.batch // self.world
        self.is_writer = self.rank == 0
        self.autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if cfg.mixed_precision and self.device.type == "cuda"
            else nullcontext()
        )

        model_cfg = cfg.model
        self.data = (
            data
            if data is not None
            else load_images(
                cfg.data,
                resolution=model_cfg.resolution,
                channels=model_cfg.img_channels,
                split="train",
                test_fraction=cfg.test_fraction,
                seed=cfg.seed,
            )
        )
        if self.data.resolution != model_cfg.resolution or self.data.channels != model_cfg.img_channels:
            raise ConfigError(
                f"data {self.data.source} is {self.data.channels}x{self.data.resolution}px, the model "
                f"wants {model_cfg.img_channels}x{model_cfg.resolution}px"
            )

        # Network initialization from the run's seed, identical on every rank, without moving the
        # caller's global random state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.G = Generator(model_cfg).to(self.device)
            self.G_init = {name: p.detach().clone() for name, p in self.G.named_parameters()}
            self.D = Discriminator(model_cfg).to(self.device)
            self.G_ema = Generator(model_cfg).to(self.device).eval().requires_grad_(False)
        self.G_ema.load_state_dict(self.G.state_dict())
        betas = (cfg.beta1, cfg.beta2)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=betas, eps=1e-8)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=betas, eps=1e-8)
        # All randomness of the loop (data order, latents, mixing, noise) comes from this generator,
        # whose state is checkpointed: that is what makes a resumed run identical to an unbroken one.
        self.rng = torch.Generator().manual_seed(cfg.seed)
        self.sample_z = torch.randn(
            cfg.sample_count, model_cfg.k, model_cfg.z_dim, generator=torch.Generator().manual_seed(cfg.seed + 1)
        )
        self.loss = StyleGAN2Loss(
            self.G,
            self.D,
            cfg.r1_weight,
            cfg.r1_interval,
            cfg.pl_weight,
            cfg.pl_interval,
            cfg.pl_decay,
            self.autocast,
            self.world,
        )
        self.images_seen = 0
        self.step = 0
        self.wall_seconds = 0.0
        self.stop_requested = False
        if resume:
            self.load(self.out_dir / "checkpoint.pt")

    # ---- state ------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "model_config": self.cfg.model.to_dict(),
            "train_config": self.cfg.to_dict(),
            "G": self.G.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "D": self.D.state_dict(),
            "opt_G": self.opt_G.state_dict(),
            "opt_D": self.opt_D.state_dict(),
            "pl_mean": self.loss.pl_mean.cpu(),
            "rng": self.rng.get_state(),
            "images_seen": self.images_seen,
            "step": self.step,
            "wall_seconds": self.wall_seconds,
            "world_size": self.world,
            "provenance": provenance(self.device, seed=self.cfg.seed, preset=self.cfg.preset, data=self.cfg.data),
        }

    def load(self, path: Path) -> None:
        state = read_checkpoint(path, map_location=self.device)
        saved_model = ModelConfig.from_dict(state["model_config"]).to_dict()
        if saved_model != self.cfg.model.to_dict():
            raise CheckpointError(f"cannot resume {path}: its model config {saved_model} differs from this run's")
        self.G.load_state_dict(state["G"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.D.load_state_dict(state["D"])
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        self.loss.pl_mean.copy_(state["pl_mean"])
        self.rng.set_state(state["rng"].cpu())  # map_location may have moved it to the GPU
        self.images_seen = state["images_seen"]
        self.step = state["step"]
        self.wall_seconds = state["wall_seconds"]

    def save(self) -> None:
        if not self.is_writer:
            return
        path = self.out_dir / "checkpoint.pt"
        try:
            save_checkpoint(self.state(), path)
        except WriteError as error:
            raise WriteError(f"{error}. {last_intact(path)}", error.errno) from None

    def checkpoint(self, window: RunningMeans) -> None:
        """Saves the state unless the run has diverged: every log checks the steps of its window,
        and this checks the steps since the last log (FloatingPointError), so no checkpoint ever
        holds a step whose statistics were not finite."""
        window.means(self.images_seen)
        self.save()

    # ---- one iteration ----------------------------------------------------------------------

    def draw(self, *shape: int) -> torch.Tensor:
        """Global-batch randoms from the shared generator; this rank's slice along dim 0."""
        values = torch.randn(*shape, generator=self.rng)
        start = self.rank * (shape[0] // self.world)
        return values[start : start + shape[0] // self.world].to(self.device)

    def real_batch(self) -> torch.Tensor:
        indices = torch.randint(len(self.data), (self.cfg.batch,), generator=self.rng)
        flips = torch.rand(self.cfg.batch, generator=self.rng) < 0.5
        start = self.rank * self.local_batch
        indices, flips = indices[start : start + self.local_batch], flips[start : start + self.local_batch]
        images = to_float(self.data.images[indices])
        if self.cfg.xflip:
            images = torch.where(flips.view(-1, 1, 1, 1), images.flip(3), images)
        return images.to(self.device)

    def latents(self) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        model = self.cfg.model
        z = self.draw(self.cfg.batch, model.k, model.z_dim)
        mix_z = self.draw(self.cfg.batch, model.k, model.z_dim)
        u = torch.rand(self.cfg.batch, generator=self.rng)
        cutoff = torch.randint(1, model.num_ws, (self.cfg.batch,), generator=self.rng)
        if self.cfg.style_mixing <= 0:
            return z, None, None
        cutoff = torch.where(u < self.cfg.style_mixing, cutoff, torch.full_like(cutoff, model.num_ws))
        start = self.rank * self.local_batch
        return z, mix_z, cutoff[start : start + self.local_batch].to(self.device)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One discriminator step then one generator step, both on the same generated batch; returns
        the step's statistics as detached tensors on the device.

        The fakes are generated once with their graph: the D step uses them detached, and the G step
        back-propagates through them after D's update (G has not changed in between).  That saves
        one generator forward per iteration (~11% of a cpu-preset step) compared with generating
        anew for each phase, as StyleGAN2-ADA does.
        """
        cfg, G, D = self.cfg, self.G, self.D
        with_r1 = cfg.r1_weight > 0 and self.step % cfg.r1_interval == 0
        with_pl = cfg.pl_weight > 0 and self.step % cfg.pl_interval == 0

        G.requires_grad_(True)
        fake, _ = self.loss.generate(*self.latents(), update_w_avg=True)

        D.requires_grad_(True)
        real = self.real_batch().requires_grad_(with_r1)
        loss_D, stats = self.loss.discriminator(fake, real, with_r1)
        loss_D.backward()
        average_gradients(D)
        self.opt_D.step()
        self.opt_D.zero_grad(set_to_none=True)

        D.requires_grad_(False)
        loss_G, generator_stats = self.loss.generator(fake)
        loss_G.backward()
        stats.update(generator_stats)
        if with_pl:
            pl_batch = max(1, self.local_batch // cfg.pl_batch_shrink)
            z, mix_z, cutoff = self.latents()
            sub = slice(0, pl_batch)
            fake, ws = self.loss.generate(
                z[sub], None if mix_z is None else mix_z[sub], None if cutoff is None else cutoff[sub]
            )
            noise = self.draw(self.cfg.batch, *fake.shape[1:])[:pl_batch] / math.sqrt(fake.shape[2] * fake.shape[3])
            loss_pl, pl_stats = self.loss.path_length(fake, ws, noise)
            loss_pl.backward()
            stats.update(pl_stats)
        average_gradients(G)
        self.opt_G.step()
        self.opt_G.zero_grad(set_to_none=True)

        self.images_seen += cfg.batch
        self.step += 1
        self.update_ema()
        return stats

    @torch.no_grad()
    def update_ema(self) -> None:
        half_life = self.cfg.ema_images
        if self.cfg.ema_rampup > 0:
            half_life = min(half_life, self.images_seen * self.cfg.ema_rampup)
        beta = 0.5 ** (self.cfg.batch / max(half_life, 1e-8))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.lerp_(p.detach(), 1 - beta)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    @torch.no_grad()
    def save_samples(self) -> Path:
        images = torch.cat([self.G_ema(z.to(self.device)) for z in self.sample_z.split(64)])
        path = self.out_dir / f"samples-{self.images_seen // 1000:06d}k.png"
        save_image_grid(images, path, scale=2)
        save_image_grid(images, self.out_dir / "samples-latest.png", scale=2)
        return path

    # ---- the loop ---------------------------------------------------------------------------

    def _request_stop(self, signum: int, frame: Any) -> None:
        if self.stop_requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.stop_requested = True

    def run(self) -> dict[str, Any]:
        cfg = self.cfg
        if self.is_writer:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            write_json(self.out_dir / "config.json", cfg.to_dict())
        previous_handlers = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous_handlers[sig] = signal.signal(sig, self._request_stop)
            except ValueError:  # not the main thread (e.g. a notebook kernel thread): keep defaults
                pass
        log_path = self.out_dir / "log.jsonl"
        if self.is_writer and log_path.is_file():
            # After a resume, drop what a killed run logged past its last checkpoint (no image twice).
            kept = [
                line
                for line in log_path.read_text().splitlines()
                if line.strip() and json.loads(line)["images_seen"] <= self.images_seen
            ]
            write_text(log_path, "".join(line + "\n" for line in kept))
        bar = tqdm(
            total=cfg.total_images,
            initial=self.images_seen,
            unit="img",
            unit_scale=True,
            desc=f"train k={cfg.model.k}",
            dynamic_ncols=True,
            **({} if self.is_writer else {"disable": True}),  # the writer's bar obeys TQDM_DISABLE
        )
        window_start, window_images, window = time.perf_counter(), 0, RunningMeans()
        last = {}
        try:
            while self.images_seen < cfg.total_images and not self.stop_requested:
                step_start = time.perf_counter()
                window.add(self.train_step())
                self.wall_seconds += time.perf_counter() - step_start
                window_images += cfg.batch
                bar.update(cfg.batch)
                crossed = lambda every: (
                    every > 0 and self.images_seen // every != (self.images_seen - cfg.batch) // every
                )
                if crossed(cfg.log_every) or self.images_seen >= cfg.total_images:
                    elapsed = time.perf_counter() - window_start
                    last = window.means(self.images_seen)
                    drift = {
                        f"drift_{group}": value for group, value in distance_from_init(self.G, self.G_init).items()
                    }
                    record = {
                        "images_seen": self.images_seen,
                        "step": self.step,
                        "img_per_s": window_images / elapsed,
                        "wall_seconds": self.wall_seconds,
                        **last,
                        **drift,
                    }
                    bar.set_postfix(
                        {
                            "img/s": f"{record['img_per_s']:.0f}",
                            "G": f"{last['loss_G']:.3f}",
                            "D": f"{last['loss_D']:.3f}",
                        }
                    )
                    if self.is_writer:
                        with open(log_path, "a") as log:
                            log.write(json.dumps(record) + "\n")
                    window_start, window_images, window = time.perf_counter(), 0, RunningMeans()
                if self.is_writer and crossed(cfg.sample_every):
                    self.save_samples()
                exports = [n for n in cfg.export_at if self.images_seen - cfg.batch < n <= self.images_seen]
                if crossed(cfg.checkpoint_every) or exports:
                    self.checkpoint(window)
                if self.is_writer and exports and self.images_seen < cfg.total_images:
                    export_generator(self.out_dir / "checkpoint.pt", self.out_dir / export_name(exports[-1]))
        finally:
            bar.close()
            for sig, handler in previous_handlers.items():
                signal.signal(sig, handler)
        # Reached on completion and on a graceful stop alike: the state on disk is always the latest.
        self.checkpoint(window)
        finished = self.images_seen >= cfg.total_images
        if self.is_writer:
            self.save_samples()
            if finished:
                export_generator(self.out_dir / "checkpoint.pt", self.out_dir / "generator.pt")
        return {"images_seen": self.images_seen, "finished": finished, "wall_seconds": self.wall_seconds, **last}


def last_intact(path: Path) -> str:
    """Where a run whose checkpoint could not be written can resume from, in words."""
    try:
        saved = read_checkpoint(path)
    except CheckpointError:
        return "No earlier checkpoint was written: free space and start the run again"
    return (
        f"The last intact checkpoint is {path} at {saved['images_seen']:,} images: free space and continue "
        "with `opgan train --out FOLDER --resume`"
    )


def export_name(images: int) -> str:
    """The file an `export_at` point writes in the run folder."""
    return f"generator-{images // 1000}k.pt" if images % 1000 == 0 else f"generator-{images}img.pt"


def train(
    cfg: TrainConfig, out_dir: str | os.PathLike, resume: bool = False, device: str | None = None
) -> dict[str, Any]:
    """Trains (or resumes) a run in `out_dir`; returns a summary of the last log window.

    The entry point of a training process: it sets torch's CPU threads (`cfg.threads`), plain
    float32 on CUDA (no TF32, as StyleGAN2-ADA's training loop) with cuDNN autotuning, and starts
    the process group under torchrun, which it destroys at the end only if it started it."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    started_group = not torch.distributed.is_initialized()
    _, _, placed = setup_distributed(device)
    if placed.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    try:
        return Trainer(cfg, out_dir, resume=resume, device=device).run()
    finally:
        if started_group:
            close_distributed()


module_calls(__name__, train)  # `from opgan import train; train(cfg, out)`

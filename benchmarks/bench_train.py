"""Training throughput side by side: opgan at k = 1 and k = C, at StyleGAN2-ADA's settings and at the
shipped cpu preset, and NVIDIA's stylegan2-ada-pytorch networks when a local copy is given.

    python benchmarks/bench_train.py --out benchmarks/results/train.json
    STYLEGAN2_ADA_PYTORCH=/path/to/stylegan2-ada-pytorch python benchmarks/bench_train.py

The common configuration ("NVlabs-equal"): 32 px grayscale, z = w = 64, 2 mapping layers, G and D
64 channels, batch 32, lazy R1 every 16 steps, G EMA, no path length, no style mixing, no noise.
The NVlabs contender runs its own networks (reference CPU kernels) and its own ``StyleGAN2Loss``
phases (Gboth, Dmain, Dreg every 16 steps) and EMA update, as its training loop does; nothing of it
is committed here.  The cpu preset is what the book trains (D 32 channels, style mixing 0.9).

Every contender is built and warmed up first, then timed in alternating rounds so that machine
noise hits all alike; the median round counts.  FLOPs of a step are counted over a whole
lazy-regularization cycle (matmuls and convolutions only, as usual) and compared with the
machine's measured float32 matrix-multiply throughput.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from common import FlopCount, matmul_gflops, timing_config  # benchmarks/common.py

from opgan.environment import provenance
from opgan.files import write_json
from opgan.presets import make_config
from opgan.train import Trainer

NVLABS_ENV = "STYLEGAN2_ADA_PYTORCH"
BATCH = 32
R1_INTERVAL = 16
R1_GAMMA = 0.01


@dataclass
class Contender:
    name: str
    step: Callable[[], object]  # one training iteration (D and G updates, EMA)
    group: str  # contenders of one group share a configuration; ratios are taken inside it
    k: int


def opgan_contender(name: str, group: str, k: int, scratch: Path, nvlabs_equal: bool) -> Contender:
    if nvlabs_equal:
        cfg = timing_config(
            "cpu",
            {"k": k, "d_channel_max": 64, "mapping_lr_mul": 0.01, "affine_lr_mul": 0.01},
            batch=BATCH,
            r1_gamma=R1_GAMMA,
            r1_interval=R1_INTERVAL,
            style_mixing=0.0,
            pl_weight=0.0,
        )
    else:
        cfg = timing_config("cpu", {"k": k})
    trainer = Trainer(cfg, scratch / name)
    return Contender(name, trainer.train_step, group, k)


class NVlabsLoop:
    """StyleGAN2-ADA's training iteration (training/training_loop.py) on its own networks, at the
    NVlabs-equal configuration; its "real" batch is fixed noise, so it pays nothing for data, while
    the opgan contenders draw and convert Fashion-MNIST batches every step (a conservative ratio)."""

    def __init__(self, root: str) -> None:
        sys.path.insert(0, root)
        from training.loss import StyleGAN2Loss  # noqa: E402  (the user's local copy)
        from training.networks import Discriminator, Generator

        torch.manual_seed(0)
        self.G = (
            Generator(
                z_dim=64,
                c_dim=0,
                w_dim=64,
                img_resolution=32,
                img_channels=1,
                mapping_kwargs=dict(num_layers=2),
                synthesis_kwargs=dict(
                    channel_base=2048, channel_max=64, num_fp16_res=0, conv_clamp=None, use_noise=False
                ),
            )
            .train()
            .requires_grad_(False)
        )
        self.D = (
            Discriminator(
                c_dim=0,
                img_resolution=32,
                img_channels=1,
                channel_base=2048,
                channel_max=64,
                num_fp16_res=0,
                conv_clamp=None,
                mapping_kwargs={},
                epilogue_kwargs=dict(mbstd_group_size=4),
            )
            .train()
            .requires_grad_(False)
        )
        self.G_ema = copy.deepcopy(self.G).eval()
        self.loss = StyleGAN2Loss(
            torch.device("cpu"),
            self.G.mapping,
            self.G.synthesis,
            self.D,
            style_mixing_prob=0.0,
            r1_gamma=R1_GAMMA,
            pl_weight=0.0,
        )
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=0.0025, betas=(0.0, 0.99), eps=1e-8)
        # Lazy regularization corrects the D optimizer as StyleGAN2-ADA does.
        ratio = R1_INTERVAL / (R1_INTERVAL + 1)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=0.0025 * ratio, betas=(0.0, 0.99**ratio), eps=1e-8)
        self.phases = [
            ("Gboth", self.G, self.opt_G, 1),
            ("Dmain", self.D, self.opt_D, 1),
            ("Dreg", self.D, self.opt_D, R1_INTERVAL),
        ]
        self.iteration = 0
        self.real = torch.randn(BATCH, 1, 32, 32).clamp(-1, 1)
        self.c = torch.zeros(BATCH, 0)

    def step(self) -> None:
        for name, module, optimizer, interval in self.phases:
            if self.iteration % interval:
                continue
            optimizer.zero_grad(set_to_none=True)
            module.requires_grad_(True)
            self.loss.accumulate_gradients(
                phase=name,
                real_img=self.real,
                real_c=self.c,
                gen_z=torch.randn(BATCH, 64),
                gen_c=self.c,
                sync=True,
                gain=interval,
            )
            module.requires_grad_(False)
            optimizer.step()
        with torch.no_grad():
            beta = 0.5 ** (BATCH / 10_000)
            for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
                p_ema.copy_(p.lerp(p_ema, beta))
            for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
                b_ema.copy_(b)
        self.iteration += 1


def step_gflop(step: Callable[[], object]) -> float:
    """FLOPs of one training step, averaged over a full R1 cycle."""
    with FlopCount() as counter:
        for _ in range(R1_INTERVAL):
            step()
    return counter.flops / R1_INTERVAL / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds per contender")
    parser.add_argument("--steps", type=int, default=16, help="training steps per round (one R1 cycle)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default, all cores)")
    parser.add_argument(
        "--nvlabs",
        default=os.environ.get(NVLABS_ENV),
        help=f"a local stylegan2-ada-pytorch checkout (default: ${NVLABS_ENV})",
    )
    parser.add_argument("--out", default="benchmarks/results/train.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    widest = max(make_config("cpu").model.synthesis_widths())
    contenders: list[Contender] = []
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        if args.nvlabs:
            contenders.append(Contender("NVlabs SG2-ADA", NVlabsLoop(args.nvlabs).step, "nvlabs-equal", 1))
        else:
            print(f"NVlabs contender skipped: set {NVLABS_ENV} (or --nvlabs) to a local stylegan2-ada-pytorch checkout")
        for k in (1, widest):
            contenders.append(opgan_contender(f"opgan k={k}, NVlabs-equal", "nvlabs-equal", k, scratch, True))
        for k in (1, widest):
            contenders.append(opgan_contender(f"opgan k={k}, cpu preset", "cpu preset", k, scratch, False))

        gflop = {}
        for contender in contenders:
            for _ in range(3):  # warm-up: allocator, oneDNN primitive caches
                contender.step()
            gflop[contender.name] = step_gflop(contender.step)
        seconds: dict[str, list[float]] = {c.name: [] for c in contenders}
        for _ in range(args.rounds):
            for contender in contenders:
                start = time.perf_counter()
                for _ in range(args.steps):
                    contender.step()
                seconds[contender.name].append((time.perf_counter() - start) / args.steps)
    peak = matmul_gflops()

    results = []
    for contender in contenders:
        step_seconds = statistics.median(seconds[contender.name])
        achieved = gflop[contender.name] / step_seconds
        results.append(
            {
                "name": contender.name,
                "group": contender.group,
                "k": contender.k,
                "img_per_s": BATCH / step_seconds,
                "step_ms": 1000 * step_seconds,
                "gflop_per_step": gflop[contender.name],
                "achieved_gflops": achieved,
                "fraction_of_matmul_peak": achieved / peak,
            }
        )
    by_name = {r["name"]: r for r in results}
    nvlabs = by_name.get("NVlabs SG2-ADA")
    for r in results:
        r["vs_nvlabs"] = r["img_per_s"] / nvlabs["img_per_s"] if nvlabs and r["group"] == "nvlabs-equal" else None
        k1 = by_name.get(r["name"].replace(f"k={r['k']}", "k=1")) if r["name"].startswith("opgan") else None
        r["vs_k1"] = r["img_per_s"] / k1["img_per_s"] if k1 else None
    preset_ratio = by_name[f"opgan k={widest}, cpu preset"]["vs_k1"]
    report = {
        "batch": BATCH,
        "threads": torch.get_num_threads(),
        "matmul_gflops": peak,
        "rounds": args.rounds,
        "steps_per_round": args.steps,
        "results": results,
        "targets": {"opgan_vs_nvlabs_at_least": 2.0, "preset_kmax_vs_k1_at_least": 0.95},
        "provenance": provenance("cpu"),
    }
    write_json(args.out, report)

    print(
        f"training throughput, batch {BATCH}, {torch.get_num_threads()} threads; "
        f"float32 matmul (2048^2) {peak:.1f} GFLOP/s"
    )
    print(f"{'contender':<28} {'img/s':>7} {'vs NVlabs':>9} {'vs k=1':>7} {'GFLOP/step':>11} {'of peak':>8}")
    ratio = lambda value: f"{value:.2f}" if value is not None else "-"
    for r in results:
        print(
            f"{r['name']:<28} {r['img_per_s']:>7.1f} {ratio(r['vs_nvlabs']):>9} {ratio(r['vs_k1']):>7} "
            f"{r['gflop_per_step']:>11.2f} {r['fraction_of_matmul_peak']:>8.0%}"
        )
    print(
        f"targets: opgan >= 2.00x NVlabs at the NVlabs-equal configuration; k={widest} >= 0.95x k=1 at the cpu "
        f"preset (now {preset_ratio:.2f})"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

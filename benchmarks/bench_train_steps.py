"""Time of every training step of a preset on the device at hand, for the paper preset on a GPU:
warm-up (cuDNN autotuning) and steady state apart, per k, modulated-convolution path and precision.

    python benchmarks/bench_train_steps.py --preset paper --k 1 512 --paths rows grouped --steps 12

Synthetic images (the data's cost is not measured); prints every step as it finishes and the steady
state (median of the second half of the steps) as img/s and seconds per thousand images.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import torch
from common import timing_config  # benchmarks/common.py

from opgan.data import ImageSet
from opgan.train import Trainer


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 512])
    parser.add_argument("--paths", nargs="+", default=["default"], choices=["default", "rows", "grouped"])
    parser.add_argument("--precisions", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()

    for precision in args.precisions:
        for k in args.k:
            for path in args.paths:
                cfg = timing_config(args.preset, {"k": k}, mixed_precision=precision == "bf16")
                model = cfg.model
                images = torch.randint(
                    0, 256, (64, model.img_channels, model.resolution, model.resolution), dtype=torch.uint8
                )
                with tempfile.TemporaryDirectory() as scratch:
                    trainer = Trainer(cfg, scratch, data=ImageSet(images, [str(i) for i in range(64)], "synthetic"))
                    trainer.G.set_modconv_path(None if path == "default" else path)
                    seconds = []
                    for step in range(args.steps):
                        synchronize(trainer.device)
                        start = time.perf_counter()
                        trainer.train_step()
                        synchronize(trainer.device)
                        seconds.append(time.perf_counter() - start)
                        print(f"  {args.preset} k={k} {path} {precision} step {step}: {seconds[-1]:.3f} s", flush=True)
                steady = statistics.median(seconds[len(seconds) // 2 :])
                print(
                    f"{args.preset} k={k} path={path} {precision}: {cfg.batch / steady:.1f} img/s = "
                    f"{steady * 1000 / cfg.batch:.2f} s/kimg steady; first step {seconds[0]:.1f} s",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())

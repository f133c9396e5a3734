"""The measurement behind opgan.invert.InversionConfig's defaults: final reconstruction quality for a
grid of learning rates and step counts, on held-out Fashion-MNIST images and a trained checkpoint.

    python benchmarks/tune_invert.py --checkpoint checkpoints/cpu-k64.pt --space w+ --images 8 \
        --lrs 0.01 0.05 0.1 0.2 --steps 100 300 --lpips alex --out benchmarks/results/tune_invert_k64.json
"""

from __future__ import annotations

import argparse
import sys

from common import tuning_images  # benchmarks/common.py

from opgan.checkpoint import load_generator
from opgan.environment import provenance
from opgan.files import write_json
from opgan.invert import InversionConfig, invert, reconstruction_metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--space", default="w+")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.01, 0.05, 0.1, 0.2])
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--lpips", default="alex", choices=["alex", "vgg"])
    parser.add_argument("--mse-weights", type=float, nargs="+", default=[0.0], help="weights of an added MSE term")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    G, _ = load_generator(args.checkpoint)
    targets = tuning_images(args.images)
    rows = []
    print(f"{'lr':>6} {'steps':>6} {'mse w':>6} {'PSNR':>7} {'SSIM':>6} {'LPIPS-vgg':>10} {'s':>6}")
    for steps in args.steps:
        for mse_weight in args.mse_weights:
            for lr in args.lrs:
                cfg = InversionConfig(space=args.space, steps=steps, lr=lr, lpips_net=args.lpips, mse_weight=mse_weight)
                result = invert(G, targets, cfg, progress=False)
                metrics = reconstruction_metrics(result.reconstructions, targets, "vgg")
                row = {
                    "lr": lr,
                    "steps": steps,
                    "mse_weight": mse_weight,
                    "seconds": result.seconds,
                    **{key: value.mean().item() for key, value in metrics.items()},
                }
                rows.append(row)
                print(
                    f"{lr:>6} {steps:>6} {mse_weight:>6} {row['psnr']:>7.2f} {row['ssim']:>6.3f} "
                    f"{row['lpips']:>10.4f} {row['seconds']:>6.0f}"
                )
    write_json(
        args.out,
        {
            "checkpoint": args.checkpoint,
            "space": args.space,
            "images": args.images,
            "loss": f"lpips-{args.lpips}",
            "rows": rows,
            "provenance": provenance("cpu"),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

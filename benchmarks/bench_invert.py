"""Inversion throughput (image-steps per second): a batch of images at once vs the same images one by one.

    python benchmarks/bench_invert.py --out benchmarks/results/invert.json

Uses the `cpu` preset's architecture at k = 1 and k = channel count (a trained generator.pt can be
given with --checkpoint-k1 / --checkpoint-kmax; weights do not change the cost) and the default
inversion loss (LPIPS-VGG) unless --lpips says otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from opgan.checkpoint import load_generator
from opgan.data import load_images, to_float
from opgan.environment import provenance
from opgan.files import write_json
from opgan.invert import InversionConfig, invert
from opgan.networks import Generator
from opgan.presets import make_config


def generator_for(k: int, checkpoint: str | None) -> Generator:
    if checkpoint:
        return load_generator(checkpoint)[0]
    torch.manual_seed(0)
    return Generator(make_config("cpu", {"k": k}).model).eval()


def image_steps_per_second(G: Generator, targets: torch.Tensor, cfg: InversionConfig, one_by_one: bool) -> float:
    invert(G, targets[:1], InversionConfig(**{**cfg.__dict__, "steps": 2}), progress=False)  # warm-up
    start = time.perf_counter()
    if one_by_one:
        for i in range(len(targets)):
            invert(G, targets[i : i + 1], cfg, seeds=[i], progress=False)
    else:
        invert(G, targets, cfg, progress=False)
    return len(targets) * cfg.steps / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=16, help="images per batch (default 16)")
    parser.add_argument("--steps", type=int, default=10, help="optimization steps timed (default 10)")
    parser.add_argument("--lpips", default="vgg", choices=["vgg", "alex", "none"])
    parser.add_argument("--space", default="w+")
    parser.add_argument("--checkpoint-k1")
    parser.add_argument("--checkpoint-kmax")
    parser.add_argument("--out", default="benchmarks/results/invert.json")
    args = parser.parse_args()

    lpips_net = None if args.lpips == "none" else args.lpips
    cfg = InversionConfig(space=args.space, steps=args.steps, lpips_net=lpips_net, mse_weight=0.0 if lpips_net else 1.0)
    targets = to_float(load_images(f"fashion-mnist:test:{args.images}").images)
    widest = max(make_config("cpu").model.synthesis_widths())
    results = []
    for k, checkpoint in ((1, args.checkpoint_k1), (widest, args.checkpoint_kmax)):
        G = generator_for(k, checkpoint)
        batched = image_steps_per_second(G, targets, cfg, one_by_one=False)
        single = image_steps_per_second(G, targets, cfg, one_by_one=True)
        results.append({"k": k, "batched_image_steps_per_s": batched, "single_image_steps_per_s": single,
                        "speedup": batched / single})
    report = {"images": args.images, "steps": args.steps, "space": args.space, "lpips": args.lpips,
              "threads": torch.get_num_threads(), "results": results, "target_speedup_at_least": 3.0,
              "provenance": provenance("cpu")}
    write_json(args.out, report)
    print(f"inversion throughput, {args.images} Fashion-MNIST test images, {args.space}, loss LPIPS-{args.lpips}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'k':>5} {'batched img-steps/s':>20} {'one-by-one':>11} {'speedup':>8}")
    for r in results:
        print(f"{r['k']:>5} {r['batched_image_steps_per_s']:>20.1f} {r['single_image_steps_per_s']:>11.1f} {r['speedup']:>7.1f}x")
    print(f"target: batching >= 3x; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Inversion: time to a given quality, not only speed per step.

    python benchmarks/bench_invert.py --out benchmarks/results/invert.json

For k = 1 and k = C (the shipped cpu-k1 / cpu-k64 models) in W and W+, a batch of held-out
Fashion-MNIST test images (64 by default: test images 1000-1063, apart from the book's) is inverted

- by the reference: the cpu scale's loss and learning rate (LPIPS-AlexNet + MSE, lr 0.2) for 300
  steps, its loss-LPIPS recorded every 10 steps against the optimization time (recording excluded);
- by faster candidates: the same for 100 steps, and (W+ only) 30 steps in W whose solution starts
  70 steps in W+.

Reported: the reference's wall time, the time its curve takes to reach 95% of its final LPIPS
improvement, each candidate's time and final LPIPS-VGG / PSNR (the book's metrics) against the
reference's with a paired bootstrap interval, the per-step FLOPs as a fraction of the machine's
float32 matmul peak, and the peak resident memory after the k = C W+ batch.  Target: the reference's
final quality (LPIPS-VGG not worse by more than 0.01 at the interval's edge) in <= 1/3 of its time.
"""

from __future__ import annotations

import argparse
import resource
import sys
from dataclasses import replace

import torch
from common import FlopCount, matmul_gflops, tuning_images  # benchmarks/common.py

from opgan.checkpoint import load_generator
from opgan.environment import provenance
from opgan.files import write_json
from opgan.invert import InversionConfig, invert, reconstruction_metrics
from opgan.networks import Generator
from opgan.presets import inversion_config
from opgan.study.stats import describe, paired_mean, verdict

TOLERANCE = 0.01  # LPIPS, as in the book's claims


def step_gflop(G: Generator, targets: torch.Tensor, cfg: InversionConfig) -> float:
    """FLOPs of one optimization step (forward, loss, backward) for the whole batch."""
    with FlopCount() as counter:
        invert(G, targets, replace(cfg, steps=1, record_every=0), progress=False)
    return counter.flops / 1e9


def time_to_fraction(result, fraction: float) -> float:
    """Optimization seconds until the batch's mean loss-LPIPS has made `fraction` of its final improvement."""
    curve = result.records["lpips"].mean(dim=1)
    target = curve[0] - fraction * (curve[0] - curve[-1])
    reached = torch.nonzero(curve <= target).flatten()
    return float(result.record_seconds[reached[0]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--reference-steps", type=int, default=300)
    parser.add_argument("--checkpoint-k1", default="checkpoints/cpu-k1.pt")
    parser.add_argument("--checkpoint-kmax", default="checkpoints/cpu-k64.pt")
    parser.add_argument("--spaces", nargs="+", default=["w+", "w"])
    parser.add_argument("--out", default="benchmarks/results/invert.json")
    args = parser.parse_args()

    targets = tuning_images(args.images)
    peak = matmul_gflops()
    rows, peak_rss_mib = [], None
    third = args.reference_steps // 3
    print(
        f"inversion to quality: {len(targets)} held-out images, {torch.get_num_threads()} threads, "
        f"float32 matmul {peak:.0f} GFLOP/s"
    )
    print(
        f"{'model':<8} {'space':<5} {'protocol':<22} {'seconds':>8} {'LPIPS-vgg':>9} {'PSNR':>6} "
        f"{'vs reference (LPIPS, 95% CI)':>34} {'time':>6}  verdict"
    )
    for checkpoint in (args.checkpoint_kmax, args.checkpoint_k1):
        G, _ = load_generator(checkpoint)
        for space in args.spaces:
            base = inversion_config("cpu", space=space, record_every=0)
            invert(G, targets, replace(base, steps=2), progress=False)  # warm-up: LPIPS, oneDNN primitives
            reference_cfg = replace(base, steps=args.reference_steps, record_every=10)
            reference = invert(G, targets, reference_cfg, progress=False)
            if G.k > 1 and space == "w+" and peak_rss_mib is None:
                peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            reference_metrics = reconstruction_metrics(reference.reconstructions, targets, "vgg")
            gflop = step_gflop(G, targets, base)
            step_seconds = float(reference.record_seconds[-1]) / args.reference_steps
            common = {
                "k": G.k,
                "space": space,
                "images": len(targets),
                "gflop_per_step": gflop,
                "image_steps_per_s": len(targets) / step_seconds,
                "fraction_of_matmul_peak": gflop / step_seconds / peak,
            }
            reached = time_to_fraction(reference, 0.95)
            candidates = {f"{args.reference_steps} steps (reference)": (reference, reference_metrics)}
            short = invert(G, targets, replace(base, steps=third), progress=False)
            candidates[f"{third} steps"] = (short, reconstruction_metrics(short.reconstructions, targets, "vgg"))
            if space == "w+":
                w_steps = third * 3 // 10
                warm = invert(G, targets, replace(base, space="w", steps=w_steps), progress=False)
                warm_plus = invert(
                    G,
                    targets,
                    replace(base, steps=third - w_steps),
                    progress=False,
                    initial=G.broadcast_ws(warm.codes).contiguous(),
                )
                warm_plus.seconds += warm.seconds
                candidates[f"W {w_steps} + W+ {third - w_steps} steps"] = (
                    warm_plus,
                    reconstruction_metrics(warm_plus.reconstructions, targets, "vgg"),
                )
            for protocol, (result, metrics) in candidates.items():
                is_reference = result is reference
                difference = paired_mean(reference_metrics["lpips"] - metrics["lpips"]) if not is_reference else None
                time_ratio = result.seconds / reference.seconds
                outcome = (
                    "-"
                    if is_reference
                    else (
                        ("meets" if time_ratio <= 1 / 3 else "slower than 1/3")
                        + f", quality {'kept' if verdict(difference, TOLERANCE, 'kept') == 'agrees' else 'not kept'}"
                    )
                )
                row = {
                    **common,
                    "protocol": protocol,
                    "seconds": result.seconds,
                    "time_vs_reference": time_ratio,
                    "lpips_vgg": metrics["lpips"].mean().item(),
                    "psnr": metrics["psnr"].mean().item(),
                    "lpips_improvement_vs_reference": difference.to_dict() if difference else None,
                    "outcome": outcome,
                }
                if is_reference:
                    row["seconds_to_95pct_of_improvement"] = reached
                rows.append(row)
                versus = describe(difference) if difference else f"95% of its gain after {reached:.0f} s"
                print(
                    f"k={G.k:<6} {space:<5} {protocol:<22} {result.seconds:>8.1f} {row['lpips_vgg']:>9.4f} "
                    f"{row['psnr']:>6.2f} {versus:>34} {time_ratio:>6.2f}  {outcome}",
                    flush=True,
                )
            print(
                f"{'':<14} per step: {gflop:.1f} GFLOP, {common['image_steps_per_s']:.0f} image-steps/s, "
                f"{common['fraction_of_matmul_peak']:.0%} of the matmul peak",
                flush=True,
            )
    if peak_rss_mib is not None:
        print(f"peak resident memory after {len(targets)} images in W+ at k = C: {peak_rss_mib:.0f} MiB")
    write_json(
        args.out,
        {
            "images": len(targets),
            "reference_steps": args.reference_steps,
            "matmul_gflops": peak,
            "threads": torch.get_num_threads(),
            "tolerance_lpips": TOLERANCE,
            "peak_rss_mib_after_kmax_wplus": peak_rss_mib,
            "rows": rows,
            "provenance": provenance("cpu"),
        },
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training throughput of the `cpu` preset at k = 1 and k = channel count, measured side by side.

    python benchmarks/bench_train.py --out benchmarks/results/train.json

Both trainers are built first, then timed in alternating rounds (k = 1, k = max, k = 1, ...) so that
machine noise hits both alike.  The FLOPs of a training step are counted by PyTorch's FlopCounterMode
over a whole lazy-regularization cycle (r1_interval steps) and compared with the machine's measured
float32 matrix-multiply throughput.
(Only matmul/convolution FLOPs count; elementwise work is left out, as is usual.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from opgan.environment import provenance
from opgan.files import write_json
from opgan.presets import make_config
from opgan.train import Trainer


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def convolution_backward_flops(grad_output: torch.Tensor, weight: torch.Tensor, output_mask: list[bool]) -> int:
    """Each of grad-input and grad-weight costs one forward convolution: 2 x outputs x (in/groups x kh x kw)."""
    forward = 2 * grad_output.numel() * weight[0].numel()  # weight is [out, in/groups, kh, kw]
    return forward * (int(output_mask[0]) + int(output_mask[1]))


class FlopCount(TorchDispatchMode):
    """Counts FLOPs of every op PyTorch's flop registry knows (matmuls, convolutions, forward and backward).

    FlopCounterMode itself cannot be used: its module tracker breaks on the R1 penalty's
    autograd.grad(create_graph=True), and its convolution_backward count ignores groups
    (torch 2.14: it counts a convolution grouped by sample N times too much).
    """

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func._overloadpacket is torch.ops.aten.convolution_backward:
            self.flops += convolution_backward_flops(args[0], args[2], args[-1])
        elif (counter := flop_registry.get(func._overloadpacket)) is not None:
            self.flops += counter(*args, **kwargs, out_val=out)
        return out


def step_gflop(trainer: Trainer) -> float:
    """FLOPs of one training step, averaged over a full R1 cycle (R1 runs every r1_interval steps)."""
    steps = max(trainer.cfg.r1_interval, trainer.cfg.pl_interval if trainer.cfg.pl_weight > 0 else 1)
    with FlopCount() as counter:
        for _ in range(steps):
            trainer.train_step()
    return counter.flops / steps / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds per model")
    parser.add_argument("--steps", type=int, default=16, help="training steps per round")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default, all cores)")
    parser.add_argument("--out", default="benchmarks/results/train.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    base = make_config(args.preset)
    widest = max(base.model.synthesis_widths())
    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        for k in (1, widest):
            cfg = make_config(args.preset, {"k": k}, total_images=10**12, checkpoint_every=0, sample_every=0)
            trainer = Trainer(cfg, Path(scratch) / f"k{k}")
            for _ in range(3):  # warm-up: allocator, oneDNN primitive caches
                trainer.train_step()
            runs[k] = {"trainer": trainer, "gflop_per_step": step_gflop(trainer), "seconds": []}
        for _ in range(args.rounds):
            for k, run in runs.items():
                start = time.perf_counter()
                for _ in range(args.steps):
                    run["trainer"].train_step()
                run["seconds"].append((time.perf_counter() - start) / args.steps)
    peak = matmul_gflops()

    batch = base.batch
    results = []
    for k, run in runs.items():
        step_seconds = statistics.median(run["seconds"])
        achieved = run["gflop_per_step"] / step_seconds
        results.append({
            "k": k, "img_per_s": batch / step_seconds, "step_ms": 1000 * step_seconds,
            "gflop_per_step": run["gflop_per_step"], "achieved_gflops": achieved,
            "fraction_of_matmul_peak": achieved / peak,
        })
    speed_ratio = results[1]["img_per_s"] / results[0]["img_per_s"]
    report = {
        "preset": args.preset, "batch": batch, "threads": torch.get_num_threads(),
        "matmul_gflops": peak, "results": results, "speed_ratio_kmax_over_k1": speed_ratio,
        "targets": {"speed_ratio_at_least": 0.9, "k1_fraction_of_matmul_peak_at_least": 0.6},
        "provenance": provenance("cpu"),
    }
    write_json(args.out, report)

    print(f"training throughput, preset {args.preset}, batch {batch}, {torch.get_num_threads()} threads")
    print(f"float32 matmul (2048^2): {peak:.1f} GFLOP/s")
    print(f"{'k':>5} {'img/s':>8} {'ms/step':>9} {'GFLOP/step':>11} {'GFLOP/s':>9} {'of peak':>8}")
    for r in results:
        print(f"{r['k']:>5} {r['img_per_s']:>8.1f} {r['step_ms']:>9.1f} {r['gflop_per_step']:>11.2f} "
              f"{r['achieved_gflops']:>9.1f} {r['fraction_of_matmul_peak']:>8.0%}")
    print(f"k={widest} / k=1 speed: {speed_ratio:.2f} (target >= 0.90); "
          f"k=1 at {results[0]['fraction_of_matmul_peak']:.0%} of matmul peak (target >= 60%)")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

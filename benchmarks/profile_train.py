"""Where a training step's time goes: torch.profiler's self-CPU time per op, and per op and input
shape (which resolution), averaged over a few steps after warm-up.

    python benchmarks/profile_train.py --k 1 64 --steps 16 --top 12
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from common import timing_config  # benchmarks/common.py
from torch.profiler import ProfilerActivity, profile

from opgan.train import Trainer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--steps", type=int, default=16, help="profiled steps (one R1 cycle by default)")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    for k in args.k:
        cfg = timing_config(args.preset, {"k": k})
        with tempfile.TemporaryDirectory() as scratch:
            trainer = Trainer(cfg, scratch)
            for _ in range(4):  # warm-up: allocator, oneDNN primitive caches
                trainer.train_step()
            with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as profiler:
                for _ in range(args.steps):
                    trainer.train_step()
        total = sum(event.self_cpu_time_total for event in profiler.key_averages())
        print(f"{args.preset} k={k}: {total / 1e3 / args.steps:.1f} ms of self CPU time per step")
        for title, events in (
            ("by op", profiler.key_averages()),
            ("by op and input shapes", profiler.key_averages(group_by_input_shape=True)),
        ):
            print(f"  {title}")
            for event in sorted(events, key=lambda e: -e.self_cpu_time_total)[: args.top]:
                shapes = str(event.input_shapes)[:80] if title != "by op" else ""
                print(
                    f"    {event.self_cpu_time_total / 1e3 / args.steps:7.2f} ms "
                    f"{event.self_cpu_time_total / total:6.1%} "
                    f"{event.count // args.steps:5d}x  {event.key[:36]:<36} {shapes}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())

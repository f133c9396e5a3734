"""Forward+backward time of one modulated 3x3 convolution for each computation path and row count.

This is the measurement behind ``opgan.networks.CPU_ROWS_PATH_MAX_ROW_PIXELS`` (run it for sizes 4, 8, 16, 32):
    python benchmarks/bench_modconv.py --batch 32 --channels 64 --size 32
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from opgan.networks import modulated_conv2d


def time_path(method: str, rows: int, batch: int, channels: int, size: int, repeats: int) -> float:
    x = torch.randn(batch, channels, size, size, requires_grad=True)
    weight = torch.randn(channels, channels, 3, 3, requires_grad=True)
    styles = torch.randn(batch, rows, channels, requires_grad=True)
    for _ in range(2):  # warm-up
        modulated_conv2d(x, weight, styles, path=method).square().mean().backward()
    start = time.perf_counter()
    for _ in range(repeats):
        modulated_conv2d(x, weight, styles, path=method).square().mean().backward()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    rows_list = [r for r in (1, 2, 4, 8, 16, 64, 128, 256, 512) if r <= args.channels and args.channels % r == 0]
    results = []
    print(f"{'rows':>5} {'rows-path ms':>13} {'grouped-path ms':>16}")
    for rows in rows_list:
        row_ms = 1000 * time_path("rows", rows, args.batch, args.channels, args.size, args.repeats)
        grouped_ms = 1000 * time_path("grouped", rows, args.batch, args.channels, args.size, args.repeats)
        results.append({"rows": rows, "rows_ms": row_ms, "grouped_ms": grouped_ms})
        print(f"{rows:>5} {row_ms:>13.1f} {grouped_ms:>16.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()

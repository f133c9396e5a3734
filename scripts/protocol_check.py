"""The reconstruction claims under the paper's inversion protocol, on a subset of the test images.

The book inverts with LPIPS-AlexNet + MSE (cheap on CPU); the paper inverts with LPIPS-VGG alone,
Adam lr 0.1 with warm-up. This script inverts the first test images of the cpu sweep's seed-0 models
(k = 1, the largest k, and k = 1 widened to the largest k) both ways and decides the reconstruction
claims under each, writing book/results/protocol_paper.csv for the reconstruction page. It is not
part of `make book` (LPIPS-VGG costs ~30x more per step on a CPU); its provenance is in the CSV.

    .venv/bin/python scripts/protocol_check.py --images 8 --steps 200   (the committed CSV)
    .venv/bin/python scripts/protocol_check.py --images 16               (the paper preset's 1000 steps)
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from opgan import claims
from opgan.environment import code_version
from opgan.files import write_csv
from opgan.presets import inversion_config
from opgan.results import cached_inversion, read_results
from opgan.sweep import Sweep, held_out_images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", default="checkpoints")
    parser.add_argument("--ks", type=int, nargs=2, default=[1, 64], metavar=("K_SMALL", "K_LARGE"))
    parser.add_argument("--images", type=int, default=8, help="first N of the book's 64 test images")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help=f"steps of the paper's protocol (default: the paper preset's, {inversion_config('paper').steps})",
    )
    parser.add_argument("--cache", default="runs/protocol-check")
    parser.add_argument("--out", default="book/results/protocol_paper.csv")
    args = parser.parse_args()

    start = time.perf_counter()
    k_small, k_large = args.ks
    sweep = Sweep("cpu", [k_small, k_large], [0], args.checkpoints, device="auto")
    targets = held_out_images(sweep.path(k_small), 64, part="test")
    targets = targets.subset(list(range(args.images)))
    protocols = {
        "book (LPIPS-AlexNet + MSE, lr 0.2)": inversion_config("cpu", record_every=0),
        "paper (LPIPS-VGG, lr 0.1)": inversion_config("paper", steps=args.steps, record_every=0),
    }
    models = {
        "small": (sweep.model(k_small), sweep.path(k_small)),
        "large": (sweep.model(k_large), sweep.path(k_large)),
        "widened": (sweep.widened(), sweep.path(k_small)),
    }
    rows = []
    for protocol, config in protocols.items():
        tag = "paper" if "paper" in protocol else "book"
        results = {}
        for name, (G, path) in models.items():
            for space in ("w", "w+"):
                folder, _ = cached_inversion(
                    G,
                    targets,
                    dataclasses.replace(config, space=space),
                    args.cache,
                    f"{tag}-{name}-{space}",
                    path,
                    batch=args.images,
                )
                results[(name, space)] = [read_results(folder)]
        comparisons = (
            [(f"Reconstruction improves with k ({space})", ("small", space), ("large", space)) for space in ("w", "w+")]
            + [(f"k = {k_large} in W beats k = 1 in W+", ("small", "w+"), ("large", "w"))]
            + [
                (f"Training with rows beats free values ({space})", ("widened", space), ("large", space))
                for space in ("w", "w+")
            ]
        )
        for claim, base, cand in comparisons:
            row = claims.reconstruction_claim(claim, protocol, results[base], results[cand])
            rows.append(
                {
                    **row,
                    "steps": config.steps,
                    "code_version": code_version(),
                    "seconds_so_far": round(time.perf_counter() - start),
                }
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_csv(args.out, rows)
    print(f"wrote {args.out} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()

"""The reconstruction claims under the paper's inversion protocol, beside the book's, on the first
test images of the book's reconstruction page, for several training seeds of the cpu sweep.

The book inverts with LPIPS-AlexNet + MSE (cheap on a CPU); the paper inverts with LPIPS-VGG alone,
Adam lr 0.1 with warm-up, 1000 steps (the `paper` preset's inversion settings, read from
opgan/presets.py). This script inverts the targets with k = 1, the largest k and the k = 1 model
given as many rows (the equal-latent-size control) at each seed, both ways, and decides the
reconstruction claims (`claims.reconstruction_comparisons`, as the book does) under each, writing
book/results/protocol_paper.csv with its steps, images, seeds and code version, and beside it
protocol_paper.md, the table the reconstruction page includes (`findings.protocol_html`): the book
shows a new run at its next `jupyter-book build`, without executing the page again. It is not part
of `make book`: LPIPS-VGG at 1000 steps costs 10-11 minutes per run of 16 images on a 2-core CPU, so
its 18 runs take ~3.3 hours (minutes on a GPU). Each finished run's per-image results are kept as a
small CSV under --kept (committed), with the processor and the code version that kept it (a cached
inversion is reused only under the same inversion code): the script resumes from them on another
machine, a run at a time; the inversions themselves (codes, reconstructions) are cached under
--cache on this machine only.

    .venv/bin/python scripts/protocol_check.py                       (16 images x seeds 0-2, 1000 steps)
    .venv/bin/python scripts/protocol_check.py --device cuda --seeds 0 1 2 3 4 5 6 7
    .venv/bin/python scripts/protocol_check.py --status    (which runs are kept, which are left)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from opgan.environment import code_version, processor
from opgan.files import write_csv, write_text
from opgan.presets import PRESETS, inversion_config
from opgan.results import TEXT_COLUMNS, read_results, read_table
from opgan.study import claims, findings
from opgan.study.sweep import Sweep, SweepInversions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", default="checkpoints")
    parser.add_argument("--ks", type=int, nargs=2, default=[1, 64], metavar=("K_SMALL", "K_LARGE"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default 0 1 2)")
    parser.add_argument("--book-images", type=int, default=32, help="the book's test images (_config.yml 'images')")
    parser.add_argument("--images", type=int, default=16, help="the first N of the book's test images (default 16)")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help=f"steps of the paper's protocol (default: the paper preset's, {inversion_config('paper').steps})",
    )
    parser.add_argument("--spaces", nargs="+", default=["w", "w+"], choices=["w", "w+"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--cache", default="runs/protocol-check")
    parser.add_argument(
        "--kept", default="book/results/protocol-runs", help="finished runs' per-image results (commit them)"
    )
    parser.add_argument("--status", action="store_true", help="list the kept and the missing runs, run nothing")
    parser.add_argument("--out", default="book/results/protocol_paper.csv")
    args = parser.parse_args()

    start = time.perf_counter()
    k_small, k_large = args.ks
    sweep = Sweep("cpu", [k_small, k_large], sorted(set([0, *args.seeds])), args.checkpoints, device=args.device)
    sweep.require()
    targets = sweep.held_out(args.book_images, part="test").subset(list(range(min(args.images, args.book_images))))
    protocols = {  # preset -> (the protocol's name in the CSV, its inversion settings)
        "cpu": ("book (LPIPS-AlexNet + MSE at lr 0.2)", inversion_config("cpu", record_every=0)),
        "paper": ("paper (LPIPS-VGG at lr 0.1)", inversion_config("paper", steps=args.steps, record_every=0)),
    }
    comparisons = claims.reconstruction_comparisons(k_large, args.spaces, control=True)
    sides = sorted({side for comparison in comparisons for side in (comparison.baseline, comparison.candidate)})
    kept_dir = Path(args.kept)
    rows = []
    for preset, (protocol, config) in protocols.items():
        # the sweep's own cache naming and model choice (the control is k = 1 given k_large rows)
        inversions = SweepInversions(sweep, targets, config, args.cache, PRESETS[preset]["invert_batch"])

        def kept(side: claims.Side, seed: int, inversions=inversions, preset=preset, config=config) -> Path:
            k, space, control = side
            name = inversions.name(k, space, seed, control, label=f"{preset}-")
            return kept_dir / f"{name}-{config.steps}steps-{len(targets)}images.csv"

        if args.status:
            for side in sides:
                for seed in args.seeds:
                    print(f"{'kept   ' if kept(side, seed).is_file() else 'missing'} {kept(side, seed)}")
            continue

        def rows_of(side: claims.Side, inversions=inversions, preset=preset, kept=kept) -> list[list[dict]]:
            k, space, control = side
            per_seed = []
            for seed in args.seeds:
                path = kept(side, seed)
                if not path.is_file():
                    folder = inversions.folder(k, space, seed, control, label=f"{preset}-")
                    write_csv(path, read_results(folder, code_version=code_version(), processor=processor()[0]))
                    print(f"kept {path}", flush=True)
                per_seed.append(read_table(path, text=(*TEXT_COLUMNS, "code_version", "processor")))
            return per_seed

        # LPIPS-VGG is the paper protocol's own loss, MSE (PSNR) part of the book's: both metrics, side by side,
        # and the abstract's headline at the book's bars, for k_large and for the control
        decided = claims.deciding_claims(comparisons, rows_of)
        decided = [{**found, "comparison": protocol} for found in decided]  # the protocol is the column
        made = [row for side in sides for per_seed in rows_of(side) for row in per_seed]
        provenance = {  # the same for every claim of this protocol
            "steps": config.steps,
            "seed_list": " ".join(map(str, args.seeds)),
            "code_version": " ".join(sorted({row["code_version"] for row in made})),
            "processor": "; ".join(sorted({row["processor"] for row in made})),
            "inversion_seconds": round(sum(row["seconds"] for row in made)),
        }
        for found in decided:
            rows.append({**found, **provenance})
            print(findings.sentence(found), flush=True)
    if args.status:
        return
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_csv(args.out, rows)
    page_part = Path(args.out).with_suffix(".md")
    write_text(page_part, findings.protocol_html(rows) + "\n")
    print(f"wrote {args.out} and {page_part} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()

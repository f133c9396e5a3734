"""Would fewer test images do? The editability claims re-decided from the book's own midpoint scores
(book/results/midpoints.csv) on the pairs among the first N test images only, beside all of them:
how much wider each interval gets and which verdicts change. Half the images halve the inversions of
page 02's 150-step sweep and control (the main job's largest part after the long budget).

    python benchmarks/image_budget.py --images 16       (writes benchmarks/results/image_budget.json)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from opgan.files import write_json
from opgan.results import TEXT_COLUMNS, read_table
from opgan.study import claims, findings


def shown(row: dict) -> str:
    return f"{row['improvement']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}] {row['verdict']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=Path("book/results"))
    parser.add_argument("--images", type=int, default=16, help="keep the pairs among the first N test images")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/image_budget.json"))
    args = parser.parse_args()

    text = ("pair", "image_a", "image_b", "same_class", "model", "space")
    midpoints = read_table(args.results / "midpoints.csv", text=text)
    reconstruction = read_table(args.results / "reconstruction.csv", text=(*TEXT_COLUMNS, "model"))
    order = list(dict.fromkeys(row["image"] for row in reconstruction))  # the test images in their order
    seeds = sorted({row["seed"] for row in midpoints})
    k_max = max(row["k"] for row in midpoints)

    def decided(kept: set[str]) -> tuple[list[dict], int]:
        rows = [row for row in midpoints if row["image_a"] in kept and row["image_b"] in kept]
        return claims.midpoint_claims(rows, k_max, ["w", "w+"], seeds), len({row["pair"] for row in rows})

    every, every_pairs = decided(set(order))
    fewer, fewer_pairs = decided(set(order[: args.images]))
    rows = []
    for a, b in zip(every, fewer):
        rows.append(
            {
                "claim": findings.label(a, short=True),
                f"{len(order)} images": shown(a),
                f"{args.images} images": shown(b),
                "width_ratio": round((b["ci_high"] - b["ci_low"]) / (a["ci_high"] - a["ci_low"]), 3),
            }
        )
    ratios = sorted(row["width_ratio"] for row in rows)
    changed = sum(a["verdict"] != b["verdict"] for a, b in zip(every, fewer))
    record = {
        "images": {"all": len(order), "fewer": args.images},
        "pairs": {"all": every_pairs, "fewer": fewer_pairs},
        "seeds": len(seeds),
        "width_ratio": {"min": ratios[0], "median": ratios[len(ratios) // 2], "max": ratios[-1]},
        "verdicts_changed": f"{changed} of {len(rows)}",
        "claims": rows,
    }
    write_json(args.out, record)
    print({key: record[key] for key in ("images", "pairs", "width_ratio", "verdicts_changed")})


if __name__ == "__main__":
    main()

"""How much the book's inversions depend on the machine: the same 150-step inversions (same code,
models, images and settings) computed twice -- by scripts/protocol_check.py's book protocol, kept in
book/results/protocol-runs/, and by the book's own build (book/results/reconstruction.csv and
equal_size.csv) -- compared image by image, and the reconstruction claims decided on each.

Adam at lr 0.2 amplifies float rounding: two processors (or kernels) that round one convolution
differently end at different reconstructions. The batch size does not matter on one machine (the
first 16 images inverted in a batch of 16 and of 32 gave identical values on a 2-core AMD EPYC).

    python benchmarks/rounding.py          (writes benchmarks/results/rounding.json)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from opgan.files import write_json
from opgan.results import TEXT_COLUMNS, read_table
from opgan.study import claims, findings

SIDES = {"k = 1": (1, False), "k = 64": (64, False), "the control": (64, True)}


def kept_rows(kept: Path, k: int, space: str, seed: int, control: bool, steps: int, images: int) -> list[dict] | None:
    """One kept run of the book protocol (None when it is not there)."""
    model = "cpu-k1" if control or k == 1 else f"cpu-k{k}"
    model += "" if seed == 0 else f"-seed{seed}"
    model += "-as-k64" if control else ""
    path = kept / f"cpu-{model}-{space}-{steps}steps-{images}images.csv"
    return read_table(path, text=(*TEXT_COLUMNS, "code_version", "processor")) if path.is_file() else None


def book_rows(table: list[dict], k: int, space: str, seed: int, control: bool, names: list[str]) -> list[dict]:
    """The book's rows of one (side, space, seed) for `names`, in their order."""
    if control:
        chosen = [r for r in table if "the control" in r["model"] and r["space"] == space and r["seed"] == seed]
    else:
        chosen = [r for r in table if r["k"] == k and r["space"] == space and r["seed"] == seed]
    by_image = {r["image"]: r for r in chosen}
    return [by_image[name] for name in names]


def side_mean(runs: dict, side: tuple, metric: str) -> float:
    """The mean of `metric` over every seed and image of one (k, space, control)."""
    return float(np.mean([row[metric] for key, rows in runs.items() if key[:3] == side for row in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kept", type=Path, default=Path("book/results/protocol-runs"))
    parser.add_argument("--results", type=Path, default=Path("book/results"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/rounding.json"))
    args = parser.parse_args()

    text = (*TEXT_COLUMNS, "model")
    reconstruction = read_table(args.results / "reconstruction.csv", text=text)
    equal = read_table(args.results / "equal_size.csv", text=text)
    book_device = json.loads((args.results / "provenance-02_reconstruction.json").read_text())
    here: dict[tuple, list[dict]] = {}
    there: dict[tuple, list[dict]] = {}
    differences = []
    for label, (k, control) in SIDES.items():
        for space in ("w", "w+"):
            for seed in args.seeds:
                rows = kept_rows(args.kept, k, space, seed, control, args.steps, args.images)
                if rows is None:
                    raise SystemExit(
                        f"run {label} {space} seed {seed} is not kept: run scripts/protocol_check.py first"
                    )
                names = [row["image"] for row in rows]
                book = book_rows(equal if control else reconstruction, k, space, seed, control, names)
                here[(k, space, control, seed)], there[(k, space, control, seed)] = rows, book
                psnr = np.array([a["psnr"] - b["psnr"] for a, b in zip(rows, book)])
                lpips = np.array([a["lpips"] - b["lpips"] for a, b in zip(rows, book)])
                differences.append(
                    {
                        "side": label,
                        "space": space,
                        "seed": seed,
                        "psnr_mean_abs_db": round(float(np.abs(psnr).mean()), 4),
                        "psnr_max_abs_db": round(float(np.abs(psnr).max()), 4),
                        "psnr_mean_db": round(float(psnr.mean()), 4),
                        "lpips_mean_abs": round(float(np.abs(lpips).mean()), 5),
                        "lpips_mean": round(float(lpips.mean()), 5),
                        # the scale the claims are decided on: the log of the ratio of the seed means
                        "lpips_log_ratio": round(
                            float(np.log(np.mean([a["lpips"] for a in rows]) / np.mean([b["lpips"] for b in book]))), 5
                        ),
                    }
                )
    comparisons = claims.reconstruction_comparisons(64, ["w", "w+"], control=True)

    def decided(runs: dict) -> list[dict]:
        def rows_of(side: claims.Side) -> list[list[dict]]:
            k, space, control = side
            return [runs[(k, space, control, seed)] for seed in args.seeds]

        return claims.reconstruction_claims(comparisons, rows_of)

    verdicts = [
        {
            "claim": findings.label(a, short=True),
            "kept_runs": f"{a['improvement']:+.4f} [{a['ci_low']:+.4f}, {a['ci_high']:+.4f}] {a['verdict']}",
            "book_build": f"{b['improvement']:+.4f} [{b['ci_low']:+.4f}, {b['ci_high']:+.4f}] {b['verdict']}",
        }
        for a, b in zip(decided(here), decided(there))
    ]
    first = next(iter(here.values()))[0]
    sides = {key[:3] for key in here}
    record = {
        "what": f"{args.steps}-step inversions of the first {args.images} test images, seeds {args.seeds}, twice",
        "kept_runs": {"processor": first["processor"], "code_version": first["code_version"]},
        "book_build": {"device": book_device.get("device"), "code_version": book_device.get("code_version")},
        "mean_over_runs": {
            key: round(float(np.mean([d[key] for d in differences])), 5)
            for key in ("psnr_mean_abs_db", "psnr_max_abs_db", "lpips_mean_abs")
        },
        "largest_seed_mean_shift": {
            "psnr_db": max(abs(d["psnr_mean_db"]) for d in differences),
            "lpips": max(abs(d["lpips_mean"]) for d in differences),
            "lpips_log_ratio": max(abs(d["lpips_log_ratio"]) for d in differences),
        },
        # what a claim compares: each side's mean over its seeds and images
        "largest_side_mean_shift": {
            "psnr_db": round(
                max(abs(side_mean(here, key, "psnr") - side_mean(there, key, "psnr")) for key in sides), 4
            ),
            "lpips_log_ratio": round(
                max(abs(np.log(side_mean(here, key, "lpips") / side_mean(there, key, "lpips"))) for key in sides), 5
            ),
        },
        "verdicts": verdicts,
        "runs": differences,
    }
    write_json(args.out, record)
    print(json.dumps({key: record[key] for key in ("mean_over_runs", "largest_seed_mean_shift", "verdicts")}, indent=1))


if __name__ == "__main__":
    main()

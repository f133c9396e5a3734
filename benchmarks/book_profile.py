"""Where the main job's time goes: the executed notebooks of a book folder, per notebook and per
phase (each code cell's `opgan.phase` metadata; papermill records every cell's duration), with the
processor it ran on.

    python benchmarks/book_profile.py book --total 4418 --fresh-clone --out benchmarks/results/book_profile.json

`--total` is the wall time of the whole job (e.g. `make book` on a fresh clone, install included) as
measured around it; without it the notebooks' sum is used.  `--build` times `jupyter-book build`
of the folder here and adds it as the "html" phase.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from opgan.environment import processor
from opgan.files import write_json


def notebook_phases(path: Path) -> dict[str, float]:
    """Seconds per phase of one executed notebook (cells without a phase count as "other")."""
    notebook = json.loads(path.read_text())
    phases: dict[str, float] = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        seconds = cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
        phase = cell.get("metadata", {}).get("opgan", {}).get("phase", "other")
        phases[phase] = phases.get(phase, 0.0) + seconds
    phases["kernel start and the rest"] = max(
        0.0, (notebook["metadata"].get("papermill", {}).get("duration") or 0.0) - sum(phases.values())
    )
    return {phase: round(seconds, 1) for phase, seconds in phases.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", type=Path, help="folder of executed notebooks (book/ after make book)")
    parser.add_argument("--total", type=float, help="wall seconds of the whole job, measured around it")
    parser.add_argument("--fresh-clone", action="store_true", help="the job ran on a fresh clone (no caches)")
    parser.add_argument("--build", action="store_true", help="time jupyter-book build of the folder here")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/book_profile.json"))
    args = parser.parse_args(argv)
    notebooks = sorted(args.book.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        print(f"no executed notebooks in {args.book}", file=sys.stderr)
        return 1
    profile = {path.stem: notebook_phases(path) for path in notebooks}
    if args.build:
        start = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("jupyter-book")), "build", str(args.book)],
            check=True,
            capture_output=True,
        )
        profile["html"] = {"jupyter-book build": round(time.perf_counter() - start, 1)}
    name, avx512 = processor()
    summed = sum(sum(phases.values()) for phases in profile.values())
    record = {
        "processor": name,
        "avx512": avx512,
        "fresh_clone": args.fresh_clone,
        "total_seconds": round(args.total if args.total is not None else summed, 1),
        "notebooks": profile,
    }
    write_json(args.out, record)
    for notebook, phases in profile.items():
        top = sorted(phases.items(), key=lambda item: -item[1])[:3]
        print(f"{notebook}: {sum(phases.values()):.0f} s ({', '.join(f'{p} {s:.0f} s' for p, s in top)})")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

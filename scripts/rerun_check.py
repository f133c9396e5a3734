"""Does a page run again read everything back, and does it declare the work it does?  Pages 01-04
of a built book are executed once more (into a throwaway folder, with the scale's parameters) on that
book's cache, as a reader who opens a page after `make book` would: every inversion, sample feature
and midpoint score must be read back, none computed (each page records its cache use in its
provenance file), and every piece of work a page declared for the progress line must be reported.
`make test` runs it on the smoke book.

    python scripts/rerun_check.py runs/book-smoke/book --scale smoke
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from opgan.study.book import run_notebooks
from opgan.study.progress import Progress
from opgan.study.sweep import project_root

PAGES = ("01_generation", "02_reconstruction", "03_interpolation", "04_affine")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", type=Path, help="a built book folder with its _cache")
    parser.add_argument("--scale", default="smoke", help="the scale it was built at (_config.yml)")
    args = parser.parse_args()
    root = project_root()
    failures = []
    with tempfile.TemporaryDirectory(prefix="opgan-rerun-") as work:
        out, events = Path(work) / "book", Path(work) / "events.jsonl"
        cache = str(args.book.resolve() / "_cache")
        run_notebooks(args.scale, out, root / "_config.yml", list(PAGES), overrides={"cache": cache}, events=events)
        declared = Progress(events)
        declared.poll()  # what each page declared before it started, against what it did
        for page, missing in declared.unreported().items():
            failures.append(f"{page} declared work it never did (its progress line stops short): {missing[:3]}")
        for page in PAGES:
            use = json.loads((out / "results" / f"provenance-{page}.json").read_text()).get("cache")
            if use is None:
                failures.append(f"{page}: its provenance records no cache use")
                continue
            print(
                f"{'FAIL' if use['computed'] else 'ok  '} {page}: {use['reused']} read back, {use['computed']} computed"
            )
            if use["computed"]:
                failures.append(f"{page} computed {use['computed']} cached results again")
    for failure in failures:
        print(f"rerun check: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

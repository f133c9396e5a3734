"""Can every row of a built book's claims table be rebuilt from the files committed beside it?
The per-item files the pages wrote (deciding runs, out-of-domain results, KID per model and seed,
midpoint scores, affine spectra) are read back and every claim decided again with the code the pages
call (`opgan.study.rebuild`): every number must agree to 1e-9 and every verdict, qualifier and
family-wise column must be equal.  `make test` runs it on the smoke book; the committed cpu book is
held to the same by tests/test_claims.py.

    python scripts/rebuild_check.py runs/book-smoke/book/results
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from opgan.study import claims, rebuild


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="a built book's results folder (with claims.csv)")
    args = parser.parse_args()
    committed = claims.read_claims(args.results / "claims.csv")
    problems = rebuild.differences(rebuild.rebuild(args.results), committed)
    for problem in problems:
        print(f"rebuild check: {problem}", file=sys.stderr)
    if not problems:
        print(f"rebuild check: all {len(committed)} claims rows rebuilt from {args.results}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

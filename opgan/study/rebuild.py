"""Every row of the claims table rebuilt from committed files alone.

The pages write, beside their claims, the per-item values each claim is decided on -- the deciding
runs' per-image results (``deciding-runs/``), the out-of-domain set's (``out_of_domain.csv``), KID
per model and seed (``kid.csv``), every midpoint's scores (``midpoints.csv``) and the affine
layers' spectra (``affine.csv``) -- with full float precision where the page computed more than
the per-image files hold.  `rebuild` decides every claim again from those files with the same
functions the pages call, and `differences` lists every column that does not come out the same.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

from opgan.files import write_csv
from opgan.results import TEXT_COLUMNS, read_table
from opgan.study import claims

# the columns a rebuild reproduces as numbers, and as text (the method text and notes aside)
NUMBERS = ("baseline_value", "candidate_value", "improvement", "ci_low", "ci_high", "tolerance", "se", "df", "p")
NUMBERS_EXACT = ("images", "seeds")
TEXTS = ("claim_id", "space", "subset", "metric_id", "kind", "verdict", "qualifier", "holm", "baseline", "candidate")
DECIDING_RUNS = "deciding-runs"


def write_exact_csv(path: str | Path, rows: Sequence[dict]) -> None:
    """`rows` as CSV with every float to its full precision (its shortest exact repr; NaN empty),
    so that what is read back equals what was computed."""
    write_csv(
        path,
        [
            {key: ("" if math.isnan(v) else repr(v)) if isinstance(v, float) else v for key, v in r.items()}
            for r in rows
        ],
    )


def _deciding_rows(results: Path) -> dict[tuple, list[list[dict]]]:
    """The deciding runs by side (k, space, control), a list of rows per seed in seed order."""
    runs: dict[tuple, dict[int, list[dict]]] = {}
    for path in sorted((results / DECIDING_RUNS).glob("*.csv")):
        rows = read_table(path, text=TEXT_COLUMNS)
        first = rows[0]
        side = (int(first["k"]), first["space"], int(first["trained_k"]) != int(first["k"]))
        runs.setdefault(side, {})[int(first["seed"])] = rows
    return {side: [by_seed[s] for s in sorted(by_seed)] for side, by_seed in runs.items()}


def _reconstruction(results: Path, page_rows: list[dict]) -> list[dict]:
    runs = _deciding_rows(results)
    if not runs:
        return []
    k_max = max(k for k, _, _ in runs)
    spaces = sorted({space for _, space, _ in runs})
    control = any(c for _, _, c in runs)
    comparisons = claims.reconstruction_comparisons(k_max, spaces, control)
    found = claims.deciding_claims(comparisons, lambda side: runs[side])
    out_of_domain = results / "out_of_domain.csv"
    if any(r["claim_id"].startswith("out-of-domain") for r in page_rows) and out_of_domain.is_file():
        table = read_table(out_of_domain, text=(*TEXT_COLUMNS, "model"))
        labels = list(dict.fromkeys(r["model"] for r in table))

        def per_seed(label: str) -> list[list[dict]]:
            seeds = sorted({r["seed"] for r in table if r["model"] == label})
            return [[r for r in table if r["model"] == label and r["seed"] == s] for s in seeds]

        small, large = labels[0], f"k = {k_max}"
        found += claims.out_of_domain_claims(
            k_max, per_seed(small), per_seed(large), per_seed("the control") if "the control" in labels else None
        )
    return found


def _generation(results: Path, page_rows: list[dict]) -> list[dict]:
    kid = read_table(results / "kid.csv", text=("variant",))
    own = [r for r in kid if r["variant"] == ""]
    ks = sorted({r["k"] for r in own})
    seeds = sorted({r["seed"] for r in own if r["k"] == max(ks)})
    return claims.generation_claims(kid, ks, seeds)


def _editability(results: Path, page_rows: list[dict]) -> list[dict]:
    rows = read_table(results / "midpoints.csv", text=("image_a", "image_b", "same_class", "model", "space"))
    for r in rows:  # the claims compare text cells, as the page's in-memory rows hold them
        for column in ("realism", "confidence"):
            if isinstance(r[column], float) and math.isnan(r[column]):
                r[column] = ""
    k_max = max(r["k"] for r in rows)
    spaces = list(dict.fromkeys(r["space"] for r in rows))
    seeds = sorted({r["seed"] for r in rows if r["trained_k"] == k_max})
    if not any(r["claim_id"] == "editability-penalty-detected" for r in page_rows):
        # a page that ran no penalty check (one space only, or a book built before the check existed)
        # decided in every measure
        return claims.midpoint_claims(rows, k_max, spaces, seeds)
    return claims.editability_claims(rows, k_max, spaces, seeds)[0]


def _affine(results: Path, page_rows: list[dict]) -> list[dict]:
    spectrum = read_table(results / "affine.csv", text=("model", "layer"))
    tames = next(r for r in page_rows if r["claim_id"] == "affine-tames-spectrum")
    check = [r for r in page_rows if r["claim_id"] == "affine-beyond-initialization"]
    return claims.affine_claims(
        spectrum, tames["baseline"], tames["candidate"], initial=check[0]["baseline"] if check else None
    )


PAGES = {  # a page's claims file -> how its rows are rebuilt
    "01_generation": _generation,
    "02_reconstruction": _reconstruction,
    "03_interpolation": _editability,
    "04_affine": _affine,
}


def rebuild(results: str | Path) -> list[dict]:
    """Every page's claims decided again from the files in `results`, in the order of its
    ``claims.csv`` (pages in name order), with the family-wise column filled."""
    results, found = Path(results), []
    for path in sorted(results.glob("claims-*.csv")):
        page = re.sub(r"^claims-", "", path.stem)
        if page not in PAGES:
            raise ValueError(f"{path}: no rebuild is known for page {page!r}")
        found += PAGES[page](results, claims.read_claims(path))
    return claims.family_wise(found)


def differences(rebuilt: Sequence[dict], committed: Sequence[dict], rel: float = 1e-9) -> list[str]:
    """What differs between rebuilt and committed claims rows (empty when every number agrees to
    `rel` and every text column is equal)."""
    if len(rebuilt) != len(committed):
        return [f"{len(rebuilt)} rows rebuilt, {len(committed)} committed"]
    found = []
    for index, (new, old) in enumerate(zip(rebuilt, committed)):
        where = f"row {index} ({old.get('claim_id')}, {old.get('space')}, {old.get('metric_id')}, {old.get('subset')})"
        for column in NUMBERS + NUMBERS_EXACT:
            a, b = float(new.get(column, math.nan)), float(old.get(column, math.nan))
            if math.isnan(a) and math.isnan(b):
                continue
            if not math.isclose(a, b, rel_tol=rel, abs_tol=1e-12):
                found.append(f"{where}: {column} rebuilt {a!r}, committed {b!r}")
        for column in TEXTS:
            if str(new.get(column, "")) != str(old.get(column, "")):
                found.append(f"{where}: {column} rebuilt {new.get(column)!r}, committed {old.get(column)!r}")
    return found

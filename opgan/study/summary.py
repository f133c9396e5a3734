"""The results page: every page's claims gathered into one table, its findings sentences and forest
plot (which the book's first page shows too), and the headline numbers, read from the results
files the experiment pages wrote."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from opgan.files import atomic_path, write_csv, write_text
from opgan.results import read_table
from opgan.study import claims, findings, plots
from opgan.study.rebuild import write_exact_csv
from opgan.study.stats import summarize
from opgan.study.sweep import ExperimentError

NEEDED = ("generation.csv", "reconstruction.csv", "interpolation.csv")
DESCRIPTIVE = {  # file -> (grouped by, caption)
    "equal_size.csv": (
        ("model", "space", "used_latent_size"),
        "Equal latent size: the control against the models trained with 1 and with the largest k's rows "
        "(150-step sweep), mean ± standard deviation over the test images and training seeds.",
    ),
    "out_of_domain.csv": (
        ("model", "space"),
        "Out-of-domain images in W+: mean ± standard deviation over the images and training seeds.",
    ),
}


def gather_claims(results: Path, scale: str) -> tuple[list[dict], str]:
    """Every page's claims (``claims.csv``), the findings sentences (``findings.md``) and the scale
    caveat (``scale_caveat.md``) and the verdict in a few sentences (``verdict.md``), which the book's
    first page includes."""
    missing = [name for name in NEEDED if not (results / name).is_file()]
    if missing:
        raise ExperimentError(f"missing results in {results}: {missing}; run the experiment notebooks first")
    found = [row for path in sorted(results.glob("claims-*.csv")) for row in claims.read_claims(path)]
    found = claims.family_wise(found)
    write_exact_csv(results / "claims.csv", found)
    text = "\n".join(f"- {sentence}" for sentence in findings.findings(found))
    write_text(results / "findings.md", f"{text}\n")
    write_text(results / "scale_caveat.md", findings.scale_caveat(scale) + "\n")
    write_text(results / "verdict.md", findings.verdict(found) + "\n")
    return found, text


def save_figure(fig: plt.Figure, path: Path) -> None:
    """`fig` at `path` (atomically; PNG or SVG by its suffix), for a page that shows it outside this
    notebook."""
    with atomic_path(path) as temporary:
        fig.savefig(temporary, format=path.suffix.lstrip("."), dpi=100, bbox_inches="tight")


def save_headline_forest(rows: list[dict], results: Path) -> None:
    """The first page's short forest (``forest-headline.svg``): drawn, saved and closed, so that the
    results page shows only the full one."""
    fig = plots.headline_forest(findings.headline_rows(rows))
    save_figure(fig, results / "forest-headline.svg")
    plt.close(fig)


def headline(results: Path) -> pd.DataFrame:
    """Training seed 0 per k and space: mean reconstruction quality, FD-VGG16 of the interpolation
    midpoints and of the samples (``headline.csv``)."""
    generation = read_table(results / "generation.csv")
    reconstruction = summarize(
        [row for row in read_table(results / "reconstruction.csv") if row.get("seed", 0) == 0], ("k", "space")
    )
    interpolation = {
        (row["k"], row["space"]): row
        for row in read_table(results / "interpolation.csv")
        if row["trained_k"] == row["k"] and row.get("seed", 0) == 0
    }
    sample_fd = {row["k"]: row["fd_vgg16"] for row in generation if row.get("seed", 0) == 0}
    rows = [
        {
            "k": row["k"],
            "space": row["space"],
            "PSNR (dB)": row["psnr_mean"],
            "SSIM": row["ssim_mean"],
            "LPIPS": row["lpips_mean"],
            "midpoint FD-VGG16": interpolation.get((row["k"], row["space"]), {}).get("fd_midpoints"),
            "sample FD-VGG16": sample_fd.get(row["k"]),
        }
        for row in reconstruction
    ]
    write_csv(results / "headline.csv", rows)
    return pd.DataFrame(rows).set_index(["k", "space"])


def descriptive(results: Path) -> list[tuple[list[dict], str]]:
    """The descriptive tables of the results files present: (summary rows, caption)."""
    return [
        (summarize(read_table(results / name), by), caption)
        for name, (by, caption) in DESCRIPTIVE.items()
        if (results / name).is_file()
    ]


def provenance(results: Path) -> pd.DataFrame:
    """What ran each page (its provenance file), a column per page."""
    pages = {
        path.stem.removeprefix("provenance-"): json.loads(path.read_text())
        for path in sorted(results.glob("provenance-*.json"))
    }
    return pd.DataFrame(pages)


def downloads(results: Path) -> str:
    """Markdown links to every results table, for the book's download list."""
    return "\n".join(
        f"- {{download}}`{path.name} <{results.name}/{path.name}>`" for path in sorted(results.glob("*.csv"))
    )

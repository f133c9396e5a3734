"""The results page says what the results say: fed claims that say the opposite, its verdicts and its
findings sentences flip (through papermill, as the book runs it)."""

import json
import shutil
from pathlib import Path

import papermill
import pytest
from helpers import ROOT, opposite_claims

from opgan.files import write_csv
from opgan.study.claims import read_claims

DESCRIPTIVE = ("generation.csv", "reconstruction.csv", "interpolation.csv", "equal_size.csv", "out_of_domain.csv")


def _run(results: Path, out: Path) -> tuple[list[dict], str]:
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "05_results.ipynb"),
        str(out),
        parameters={"results": str(results)},
        cwd=str(ROOT),
        progress_bar=False,
    )
    executed = json.loads(out.read_text())
    shown = "".join(
        "".join(output.get("data", {}).get("text/markdown", ""))
        for cell in executed["cells"]
        for output in cell.get("outputs", [])
    )
    return read_claims(results / "claims.csv"), shown


@pytest.mark.slow
def test_the_results_page_flips_its_verdicts_when_the_results_say_the_opposite(tmp_path):
    pages = {}
    for reverse in (False, True):
        results = tmp_path / ("reversed" if reverse else "measured")
        results.mkdir()
        for name in DESCRIPTIVE:
            shutil.copy(ROOT / "book" / "results" / name, results / name)
        write_csv(results / "claims-02_reconstruction.csv", opposite_claims(reverse))
        pages[reverse] = _run(results, tmp_path / f"05-{results.name}.ipynb")
    (measured, measured_text), (reversed_, reversed_text) = pages[False], pages[True]
    assert [row["verdict"] for row in measured] == ["agrees", "no material gain"]
    assert [row["verdict"] for row in reversed_] == ["contradicted", "agrees"]
    assert "Reconstruction improves with k** (the paper's central claim): agrees in W" in measured_text
    assert "Reconstruction improves with k** (the paper's central claim): contradicted in W" in reversed_text
    assert "The data do not say which side reconstructs better" in measured_text  # trained and W++ alike
    assert "The data favour the paper" in reversed_text
    # the first page's verdict and headline forest flip with them
    measured_verdict = (tmp_path / "measured" / "verdict.md").read_text()
    reversed_verdict = (tmp_path / "reversed" / "verdict.md").read_text()
    assert "reconstruct real images better**, as the paper claims" in measured_verdict
    assert "reconstruct real images worse**, against the paper's claim" in reversed_verdict
    for results in ("measured", "reversed"):
        assert (tmp_path / results / "forest-headline.svg").read_text().lstrip().startswith("<?xml")

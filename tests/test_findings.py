"""The claims for readers: sources, numbers in their own units, sentences and the standalone table."""

import html
import math
import re

import torch
import yaml
from helpers import ROOT, opposite_claims

from opgan.study import claims, findings


def _rows(values):
    return [{"image": f"img{i}", "lpips": float(v)} for i, v in enumerate(values)]


def test_every_claim_is_one_record_with_a_source_a_group_a_rule_and_a_page():
    pages = {path.stem for path in (ROOT / "notebooks").glob("*.ipynb")}
    for claim_id, claim in claims.CLAIMS.items():
        assert claim.id == claim_id and claim.paper and claim.evidence, claim_id
        assert "{" not in claim.paper, f"{claim_id}: the paper's words are shown unformatted"
        assert claim.group in claims.GROUPS and claim.rule in claims.RULES and claim.metric in claims.METRICS, claim_id
        page = re.fullmatch(r"(0\d_[a-z]+)\.html(#[a-z0-9-]+)?", claim.anchor)
        assert page and page[1] in pages, f"{claim_id}: {claim.anchor} is not a page of the book"
    assert claims.CLAIMS["affine-tames-spectrum"].group == "paper"
    assert claims.CLAIMS["path-length-keeps-generation"].group == "recipe"
    assert "near-perfect image reconstruction" in claims.CLAIMS["near-perfect"].paper
    # the mechanism is the paper's claim, judged by the rule "better", against W++ (in W: its analogue)
    row = opposite_claims(False)[1]
    assert row["claim_id"] == "rows-beat-control" and row["group"] == "paper" and row["kind"] == "better"
    assert (row["baseline"], row["candidate"]) == (
        "k = 1 given 64 shared rows after training (W++ in W)",
        "trained with 64 rows",
    )
    assert claims.control_label("w+", 64) == "W++ (k = 1 given 64 rows after training)"
    assert "2302.06733" in claims.CLAIMS["rows-beat-control"].paper
    assert row["scale"] == "log ratio" and row["se"] > 0 and row["df"] > 1
    assert claims.CLAIMS["editability-rows-vs-control"].rule == "better"
    assert claims.CLAIMS["editability-head-to-head"].rule == "better"


def test_numbers_read_in_their_own_units_with_two_significant_digits():
    assert findings.significant(0.249846) == "0.25" and findings.significant(-0.0015503) == "−0.0016"
    assert findings.significant(float("nan")) == "–"
    relative = {  # KID, lower is better: the improvement is log(baseline / candidate)
        "claim_id": "generation-kept",
        "metric_id": "kid",
        "improvement": -0.1,
        "ci_low": -0.3,
        "ci_high": 0.1,
        "kind": "kept",
        "tolerance": math.log(1.1),
        "claim": "Generation quality kept",
    }
    # the candidate's KID as a multiple of the baseline's, never a percentage of one side
    assert findings.interval(relative) == "1.11× [0.905×, 1.35×]"
    assert findings.bar(relative) == "no worse than a factor 1.1 (ratio < 1.1×)"
    psnr = {**relative, "metric_id": "psnr", "improvement": 2.0, "ci_low": 1.5, "ci_high": 2.5, "tolerance": 0.4139}
    assert findings.interval(psnr) == "+2.0 [+1.5, +2.5] dB"
    row = opposite_claims(False)[0]
    assert findings.interval(row).startswith("0.3") and findings.interval(row).endswith("×]")
    assert findings.bar(row) == "better by more than a factor 1.1 (ratio < 0.909×)"
    assert findings.sides(row) == ("k = 1", "k = 64")
    assert "the LPIPS-VGG of k = 64 is 0.3" in findings.size_text(row) and "that of k = 1" in findings.size_text(row)


def test_the_table_stands_alone_and_stacks_on_narrow_screens():
    rows = opposite_claims(False)
    table = findings.claims_html(rows, caption="2 comparisons")
    assert table.count('data-label="verdict"') == 2 and "The paper's claims" in html.unescape(table)
    cells = re.findall(r'<td data-label="means">(.*?)</td>', table)
    base, cand = rows[0]["baseline_value"], rows[0]["candidate_value"]
    assert html.unescape(cells[0]) == f"{findings.significant(cand, 3)} vs {findings.significant(base, 3)}"
    # what a claim's rows share is said once, in the claim's own header row
    claim = claims.CLAIMS["reconstruction-improves"]
    assert html.unescape(table).count(claim.paper) == 1 and table.count('class="claims-claim"') == 2
    psnr = claims.reconstruction_claim("reconstruction-improves", *[[_rows([0.1, 0.11, 0.12])] * 3] * 2)
    psnr = {**psnr, "metric_id": "psnr", "tolerance": 0.4139}
    two_bars = html.unescape(findings.claims_html([rows[0], psnr]))
    assert "(LPIPS-VGG); “better by more than 0.41 dB" in two_bars and two_bars.count(claim.paper) == 1
    assert 'href="02_reconstruction.html#' in table
    css = (ROOT / "book" / "_static" / "opgan.css").read_text()
    assert "table.claims-table td::before" in css and "attr(data-label)" in css


def test_the_sentences_follow_the_verdicts():
    measured, reversed_ = findings.findings(opposite_claims(False)), findings.findings(opposite_claims(True))
    assert "agrees in W" in measured[0] and "contradicted in W" in reversed_[0]
    assert "do not say which side" in measured[1]  # trained and W++ equal: no side
    assert "The data favour the paper" in reversed_[1]
    # W++ reconstructing better says so, in words a reader can repeat
    generator = torch.Generator().manual_seed(0)
    good, bad = (
        [_rows(level + 0.01 * torch.randn(16, generator=generator)) for _ in range(3)] for level in (0.1, 0.16)
    )
    favour_w_plus_plus = claims.reconstruction_claim("rows-beat-control", good, bad, space="w+", k_max=64)
    sentences = findings.findings([favour_w_plus_plus])
    assert "no material gain (worse)" in sentences[0] or "contradicted" in sentences[0]
    assert "The data favour W++" in sentences[0] and "against the paper" in sentences[0]


def test_the_first_screen_states_the_verdicts_in_plain_words():
    measured, reversed_ = findings.verdict(opposite_claims(False)), findings.verdict(opposite_claims(True))
    assert measured.startswith("**More style rows reconstruct real images better**, as the paper claims")
    assert reversed_.startswith("**More style rows reconstruct real images worse**, against the paper's claim")
    assert "**Whether training with the rows helps** is not decided" in measured  # trained and W++ equal
    assert "**Training with the rows is what helps**" in reversed_
    generator = torch.Generator().manual_seed(0)
    good, bad = (
        [_rows(level + 0.01 * torch.randn(16, generator=generator)) for _ in range(3)] for level in (0.1, 0.16)
    )
    favour_w_plus_plus = claims.reconstruction_claim("rows-beat-control", good, bad, space="w+", k_max=64)
    text = findings.verdict([favour_w_plus_plus])
    assert "**But training with the rows is not what helps**" in text and "against the paper's mechanism" in text
    assert findings.verdict([]) == ""


def test_the_headline_forest_takes_one_row_per_headline_claim_drawn_for_a_phone():
    from opgan.study import plots

    rows = opposite_claims(False)
    in_w_plus = claims.reconstruction_claim("rows-beat-control", *[[_rows([0.1, 0.11, 0.12])] * 3] * 2, space="w+")
    chosen = findings.headline_rows([in_w_plus, *rows])
    assert [(r["claim_id"], r["space"]) for r in chosen] == [
        ("rows-beat-control", "w"),
        ("reconstruction-improves", "w"),
    ]
    not_headline = claims.reconstruction_claim("out-of-domain-improves", *[[_rows([0.1, 0.11, 0.12])] * 3] * 2)
    assert findings.headline_rows([not_headline]) == []
    figure = plots.headline_forest(chosen)
    assert len(figure.axes) == 2 and figure.get_size_inches()[0] <= 4.0  # 10-pt text ≥ 9 px in a 372-px column
    assert [ax.get_title(loc="right") for ax in figure.axes] == [r["verdict"] for r in chosen]


def test_the_forest_plot_places_rows_in_units_of_their_tolerance():
    rows = opposite_claims(False)
    value, low, high, band = findings.forest_position(rows[0])
    assert band == 1.0 and low < value < high and abs(value - rows[0]["improvement"] / math.log(1.1)) < 1e-9
    bar_row = claims.near_perfect_claims(
        64, [[{"image": "a", "psnr": 31.0, "lpips": 0.04}, {"image": "b", "psnr": 32.0, "lpips": 0.03}]] * 2
    )[0]
    assert findings.forest_position(bar_row)[3] == 0.0  # judged against a fixed bar: no band
    # the edge the low end must clear: +t for "better", −t for "kept", the bar itself for a threshold
    assert findings.forest_bar(rows[0]) == 1.0 and findings.forest_bar(bar_row) == 0.0
    assert findings.forest_bar({**rows[0], "kind": "kept"}) == -1.0
    from opgan.study import plots

    figure = plots.forest(rows + [bar_row])
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert "The paper's claims" in labels and any("beat rows after (W++) (W)" in label for label in labels)


def test_the_reproduction_can_be_cited():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["title"].startswith("opgan")
    assert "2205.06304" in citation["preferred-citation"]["url"]


def test_the_protocol_table_has_a_column_per_protocol_and_says_what_each_rests_on():
    def protocol_row(claim_id, protocol, improvement, verdict, **made):
        record = claims.CLAIMS[claim_id]
        return {
            "claim_id": claim_id,
            "claim": record.title,
            "short": record.short,
            "metric_id": "lpips",
            "subset": "",
            "comparison": protocol,
            "space": "w+",
            "metric": "lpips",
            "kind": "better",
            "improvement": improvement,
            "ci_low": improvement - 0.02,
            "ci_high": improvement + 0.02,
            "tolerance": math.log(1.1),
            "verdict": verdict,
            "images": 16,
            "seeds": 3,
            **made,
        }

    made = {
        "steps": 1000,
        "seed_list": "0 1 2",
        "code_version": "abc123",
        "processor": "AMD EPYC",
        "inversion_seconds": 1800,
    }
    rows = [
        protocol_row("reconstruction-improves", "book", 0.09, "agrees", **{**made, "steps": 150}),
        protocol_row("reconstruction-improves", "paper", 0.03, "agrees", **made),
        protocol_row("rows-beat-control", "paper", -0.04, "no material gain", **made),
    ]
    page = findings.protocol_html(rows)
    assert re.findall(r"<th>(.*?)</th>", page) == ["claim", "book", "paper"]
    cells = re.findall(r"<tr>(.*?)</tr>", page)[1:]
    assert len(cells) == 2 and "not run" in cells[1] and "no material gain" in cells[1]  # the book ran no control here
    assert "0.914× [0.896×, 0.932×]" in html.unescape(cells[0])
    rests_on = re.findall(r"<li>(.*?)</li>", page)
    assert "150 steps" in rests_on[0] and "1000 steps" in rests_on[1]
    assert all("16 test images × 3 training seeds (0 1 2)" in line and "abc123" in line for line in rests_on)
    assert "1800 s of inversions (wall clock) on AMD EPYC" in rests_on[1] and "<caption>" in page
    # one claim ran under both protocols, with the same verdict; flip the paper's and the sentence names it
    assert "same verdict in 1 of the 1 rows" in page
    rows[1]["verdict"] = "inconclusive"
    assert findings.protocol_agreement(rows) == (
        "The protocols give the same verdict in 0 of the 1 rows that all of them ran; they differ in these:",
        ["Reconstruction improves with k (W+), in LPIPS-VGG: agrees under book, inconclusive under paper"],
    )
    assert "<li>Reconstruction improves with k (W+), in LPIPS-VGG" in findings.protocol_html(rows)
    assert "nothing to compare" in findings.protocol_agreement(rows[:1])[0]
    assert "distance past the bar" not in page
    near = protocol_row("near-perfect", "paper", 1.1, "agrees", **made)
    page = findings.protocol_html([*rows, {**near, "metric": "psnr", "metric_id": "psnr", "tolerance": 0.0}])
    assert "in PSNR: the distance past the bar" in page and "Near-perfect rows:" in html.unescape(page)


def test_the_dose_response_sentence_says_which_way_the_lead_moves_and_what_the_design_detects():
    from opgan.study.stats import Estimate

    def change(low, high):
        return Estimate((low + high) / 2, low, high, seeds=3)

    assert "the control's lead shrinks" in findings.dose_sentence(change(0.05, 0.35), "150k", "450k")
    assert "the control's lead grows" in findings.dose_sentence(change(-0.35, -0.05), "150k", "450k")
    neither = findings.dose_sentence(change(-0.1, 0.3), "150k", "450k")
    assert "no detectable change" in neither and "+0.10 [−0.10, +0.30]" in neither
    assert "detects changes of ±0.20 or more (a 22% change of the ratio)" in neither

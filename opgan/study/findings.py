"""The claims for readers: the findings in sentences made from the claims table, the table itself
and the protocol table (HTML from templates in ``templates/``), and the numbers as they are shown.

Nothing here decides a verdict (`opgan.study.claims` and `opgan.study.stats` do), and nothing reads
a claim's words to learn what it is: every row names its record (`claims.CLAIMS`) and its metric
(`claims.METRICS`), so the sentences change when the results do.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from opgan.study.claims import GROUPS, NEAR_PERFECT_REASONS, bar_text, claim_of, in_family, metric_of
from opgan.study.stats import NOT_TESTABLE, Estimate

VERDICT_COLORS = {  # the forest plot's; the HTML tables colour verdicts by CSS class (book/_static/opgan.css)
    "agrees": "#1a7f37",
    "contradicted": "#cf222e",
    "no material gain": "#bc4c00",
    "inconclusive": "#6e7781",
    NOT_TESTABLE: "#afb8c1",  # outside the counts and the family
}
COUNTED = ("agrees", "contradicted", "no material gain", "inconclusive")
TEMPLATES = Path(__file__).resolve().parent / "templates"


def space_name(space: str) -> str:
    """'W', 'W+' (or the text as it is, e.g. 'w vs w+')."""
    return {"w": "W", "w+": "W+"}.get(space, space)


def grouped(rows: Sequence[dict]) -> list[tuple[str, list[dict]]]:
    """The rows by their claim's group (the paper's claims, controls, recipe checks), in `GROUPS`
    order, as (title, rows); empty groups left out."""
    found = [(title, [r for r in rows if claim_of(r).group == group]) for group, title in GROUPS.items()]
    return [(title, chosen) for title, chosen in found if chosen]


def is_relative(row: dict) -> bool:
    return metric_of(row).relative


def is_threshold(row: dict) -> bool:
    """A row judged against a fixed bar (near-perfect reconstruction), not against another model."""
    return claim_of(row).rule == "threshold"


def significant(value: float, digits: int = 2) -> str:
    """`value` to `digits` significant digits, with a true minus sign."""
    if value is None or not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}".replace("-", "−")


def ratio(row: dict, value: float) -> float:
    """A relative row's improvement (a log ratio, positive = the paper's side better) as the ratio of
    the paper's side's mean to the other's."""
    return math.exp(-value if metric_of(row).lower_is_better else value)


def amount(row: dict, value: float, signed: bool = False) -> str:
    """An improvement in the row's own units: a ratio of the two sides for relative ones ('1.6×'),
    else the metric's unit."""
    if is_relative(row):
        return significant(ratio(row, value), 3) + "×"
    text = significant(value)
    if signed and math.isfinite(value) and value > 0:
        text = "+" + text
    return text


def unit(row: dict) -> str:
    return "" if is_relative(row) else metric_of(row).unit


def interval(row: dict) -> str:
    """'+0.25 [+0.19, +0.31] dB' for a difference; for a relative row the ratio of the paper's side's
    mean to the other's, '1.57× [1.3×, 1.9×]' (its interval's ends in increasing order)."""
    value, ends = row["improvement"], (row["ci_low"], row["ci_high"])
    if is_relative(row):
        low, high = sorted(ends, key=lambda end: ratio(row, end))
        return f"{amount(row, value)} [{amount(row, low)}, {amount(row, high)}]"
    text = (
        f"{amount(row, value, signed=True)} [{amount(row, ends[0], signed=True)}, {amount(row, ends[1], signed=True)}]"
    )
    return f"{text} {unit(row)}".strip()


def bar(row: dict) -> str:
    """The bar a row is judged against: what 'agrees' needs, in the row's own units."""
    if is_threshold(row):
        return f"mean {bar_text(metric_of(row))}"
    tolerance, metric = row["tolerance"], metric_of(row)
    if tolerance == 0:  # a manipulation check: any detectable difference
        if is_relative(row):
            return f"better at all (ratio {'<' if metric.lower_is_better else '>'} 1×)"
        return "better at all (improvement > 0)"
    if is_relative(row):
        factor, below = f"{math.exp(tolerance):.3g}", f"{math.exp(-tolerance):.3g}"
        better_needs = f"ratio < {below}×" if metric.lower_is_better else f"ratio > {factor}×"
        kept_needs = f"ratio < {factor}×" if metric.lower_is_better else f"ratio > {below}×"
        if row["kind"] == "better":
            return f"better by more than a factor {factor} ({better_needs})"
        return f"no worse than a factor {factor} ({kept_needs})"
    shown = f"{significant(tolerance)} {unit(row)}".strip()
    if row["kind"] == "better":
        return f"better by more than {shown} (improvement > +{significant(tolerance)})"
    return f"no worse by more than {shown} (improvement > −{significant(tolerance)})"


def verdict_text(row: dict) -> str:
    """The verdict with its qualifier and, where the family-wise correction undoes it, that:
    'no material gain (worse)', 'agrees — inconclusive after Holm'."""
    text = row["verdict"]
    if row.get("qualifier"):
        text += f" ({tolerance_words(row, row['qualifier'])})"
    if row.get("holm") == "inconclusive after Holm":
        text += " — inconclusive after Holm"
    return text


def verdict_note(row: dict) -> str:
    """What `verdict_text` adds to the verdict word: '(worse) — inconclusive after Holm'."""
    return verdict_text(row).removeprefix(row["verdict"]).strip(" —")


def tolerance_words(row: dict, qualifier: str) -> str:
    """A qualifier with its ±t in the row's units: 'equivalent within a factor 1.1'."""
    if "±t" not in qualifier:
        return qualifier
    if is_relative(row):
        return qualifier.replace("±t", f"a factor {math.exp(row['tolerance']):.3g}")
    return qualifier.replace("±t", f"±{significant(row['tolerance'])} {unit(row)}".strip())


def bar_reason(row: dict) -> str:
    if is_threshold(row):
        return NEAR_PERFECT_REASONS.get(metric_of(row).id, "")
    return metric_of(row).reason


def sides(row: dict) -> tuple[str, str]:
    """(baseline, candidate) labels of a row's comparison."""
    return row["baseline"], row["candidate"]


def label(row: dict, short: bool = False) -> str:
    """A name for a row: its claim (`short`: the short name), space, and what tells rows of one claim
    apart (the pairs, the bar, the measure)."""
    details = [space_name(row["space"]) if row["space"] != "w vs w+" else "", row.get("subset", "")]
    if is_threshold(row):
        details.append(bar_text(metric_of(row)))
    details.append(metric_of(row).short)
    details = [d for d in details if d]
    text = row["short"] if short else row["claim"]
    return text + (f" ({', '.join(details)})" if details else "")


# ---------------------------------------------------------------------------------- sentences


def seeds_text(count: int) -> str:
    return f"{count} training seed{'s' if count != 1 else ''}"


def size_text(row: dict) -> str:
    """How big the difference is, in words a reader can repeat: 'the LPIPS-VGG of k = 64 is 0.51× that
    of k = 1' for a relative row, 'k = 64 minus k = 1: +7.5 dB PSNR' for a difference."""
    baseline, candidate = sides(row)
    metric = metric_of(row)
    if is_threshold(row) and is_relative(row):
        return f"the mean {metric.name} of {candidate} is {interval(row)} the bar"
    if is_relative(row):
        return f"the {metric.name} of {candidate} is {interval(row)} that of {baseline}"
    if is_threshold(row):
        return f"{candidate} past the bar by {interval(row)}"
    return f"{candidate} minus {baseline}: {interval(row)} {metric.name}"


def sentence(row: dict) -> str:
    """One row as a sentence: both sides, the size of the difference with its interval, the bar and
    the verdict with its qualifier (Markdown)."""
    return (
        f"**{label(row)}** — {size_text(row)}; judged against “{bar(row)}” over "
        f"{seeds_text(row['seeds'])} × {row['images']} {metric_of(row).items}: **{verdict_text(row)}**."
    )


def answer(rows: Sequence[dict]) -> str:
    """A page's claims as a Markdown list of sentences."""
    return "\n".join(f"- {sentence(row)}" for row in rows) or "No claim could be tested with these parameters."


def _verdicts_by_space(rows: Sequence[dict]) -> str:
    """'agrees in W and W+' / 'agrees in W, no material gain (worse) in W+'."""
    by_verdict: dict[str, list[str]] = {}
    for row in rows:
        by_verdict.setdefault(verdict_text(row), []).append(space_name(row["space"]))
    parts = [
        f"{verdict} in {' and '.join(spaces)}" if any(spaces) else verdict for verdict, spaces in by_verdict.items()
    ]
    return ", ".join(parts)


def _intervals(rows: Sequence[dict]) -> str:
    return "; ".join(f"{space_name(r['space']) + ' ' if r['space'] else ''}{interval(r)}" for r in rows)


def _side_favoured(rows: Sequence[dict]) -> str:
    """'paper' when every row's interval lies above 0 (the paper's side better), 'other' when every
    one lies below 0, else ''."""
    if rows and all(r["ci_low"] > 0 for r in rows):
        return "paper"
    if rows and all(r["ci_high"] < 0 for r in rows):
        return "other"
    return ""


def _mechanism(reconstruction: Sequence[dict], psnr: Sequence[dict], out_of_domain: Sequence[dict]) -> str:
    """The paper's mechanism (rows before training against rows after training, W++) in words."""
    first = reconstruction[0]
    favoured = _side_favoured([*reconstruction, *psnr, *out_of_domain])  # everywhere
    ratios = "; ".join(
        f"in {space_name(r['space'])} {interval(r)} {'the control' if r['space'] == 'w' else 'W++'}'s"
        for r in reconstruction
    )
    text = (
        f"**Rows before training against rows after training (W++)**, the paper's mechanism: at equal latent size "
        f"the LPIPS-VGG of the model {first['candidate']} is {ratios}"
    )
    if psnr:
        text += f" (PSNR {_intervals(psnr)})"
    if out_of_domain:
        text += f"; out of domain {interval(out_of_domain[0])}"
    text += f" — {_verdicts_by_space(reconstruction)}."
    groups = {  # where each side is shown better: every interval of the group on one side of 0
        f"in {space_name(space)}": _side_favoured([r for r in [*reconstruction, *psnr] if r["space"] == space])
        for space in dict.fromkeys(r["space"] for r in reconstruction)
    }
    if out_of_domain:
        groups["out of domain"] = _side_favoured(out_of_domain)
    where = {side: [group for group, found in groups.items() if found == side] for side in ("other", "paper", "")}
    if favoured == "other":
        text += (
            " The data favour W++, altering the latent space after training: a k = 1 StyleGAN2 given the rows only "
            "at inversion reconstructs better than the model trained with them, against the paper."
        )
    elif favoured == "paper":
        text += " The data favour the paper: training with the rows beats giving them after training."
    elif where["other"] and not where["paper"]:
        text += (
            f" The data favour W++ (altering the latent space after training) {' and '.join(where['other'])}, "
            "against the paper; " + " and ".join(where[""]) + " neither side is shown better (an interval reaches 0)."
        )
    else:
        text += " The data do not say which side reconstructs better."
    undone = [r for r in [*reconstruction, *psnr, *out_of_domain] if r.get("holm") == "inconclusive after Holm"]
    if undone:
        text += (
            f" Family-wise, {len(undone)} of these {len(reconstruction) + len(psnr) + len(out_of_domain)} rows do not "
            "survive Holm's correction over the whole table: each row shows its side, the family does not."
        )
    return text


def rows_of(rows: Sequence[dict], claim_id: str, metric: str = "lpips") -> list[dict]:
    """The rows of one claim in one metric (LPIPS-VGG unless said)."""
    return [r for r in rows if r["claim_id"] == claim_id and r["metric_id"] == metric]


def findings(rows: Sequence[dict]) -> list[str]:
    """The findings in a few sentences (Markdown), made from the claims-table rows: the verdict words
    and intervals are the rows', so the sentences change with the results."""
    of = functools.partial(rows_of, rows)
    sentences = []
    improves, beats_w_plus = of("reconstruction-improves"), of("w-beats-w-plus")
    if improves:
        ratios = "; ".join(f"{interval(r)} that of {r['baseline']} in {space_name(r['space'])}" for r in improves)
        text = (
            f"**Reconstruction improves with k** (the paper's central claim): {_verdicts_by_space(improves)} — "
            f"the LPIPS-VGG of {improves[0]['candidate']} is {ratios}"
        )
        if beats_w_plus:
            row = beats_w_plus[0]
            text += f"; {row['claim']}: {verdict_text(row)} ({interval(row)})"
        sentences.append(text + ".")
    mechanism = of("rows-beat-control")
    if mechanism:
        sentences.append(_mechanism(mechanism, of("rows-beat-control", "psnr"), of("out-of-domain-rows-beat-control")))
    near = [r for r in rows if r["claim_id"] == "near-perfect"]
    if near:
        parts = [f"{bar(r)}: {verdict_text(r)} ({size_text(r)})" for r in near]
        control = [r for r in rows if r["claim_id"] == "near-perfect-control"]
        text = f"**Near-perfect reconstruction** of {near[0]['candidate']} in {space_name(near[0]['space'])}: "
        text += "; ".join(parts)
        if control:
            text += f"; the control against the same bars: {_count(control)}"
        sentences.append(text + ".")
    editability = [r for r in rows if r["claim_id"] == "editability-kept"]
    checks = [r for r in rows if r["claim_id"] == "editability-penalty-detected"]
    failed = [metric_of(r).name for r in checks if r["verdict"] != "agrees"]
    if checks and not editability:
        sentences.append(
            f"**Editability is not decided**: the {' and the '.join(failed)} could not see the known loss of "
            "editability in W+ (the penalty check), so no measure may decide it."
        )
    elif editability:
        measures = sorted({metric_of(r).name for r in editability})
        text = (
            "**Editability kept** (midpoints between inverted images as realistic at the largest k as at k = 1): "
            f"{_count(editability)} of {len(editability)} comparisons ({' and '.join(measures)}, W and W+, "
            "within- and cross-class pairs)"
        )
        if failed:
            text += (
                f"; the {' and the '.join(failed)} could not see the known loss of editability in W+ "
                "(the penalty check) and decide nothing"
            )
        for claim_id, words in (
            ("editability-rows-vs-control", "rows before training against W++"),
            ("editability-head-to-head", "the largest k in W against k = 1 in W+"),
        ):
            chosen = [r for r in rows if r["claim_id"] == claim_id]
            if chosen:
                text += f"; {words} (rule *better*): {_count(chosen)}"
                worse = sum(r.get("qualifier") == "worse" or r["verdict"] == "contradicted" for r in chosen)
                if worse:
                    text += f", the paper's side worse in {worse}"
        sentences.append(text + ".")
    dose = of("dose-rows-beat-control")
    if dose:
        longest = max(dose, key=lambda r: int(r["subset"].split("k")[0]))["subset"]
        final = [r for r in dose if r["subset"] == longest]
        text = (
            f"**Scale or mechanism** (the mechanism row at 150k-{longest.split()[0]} training images, a family of its "
            "own): at the longest training "
            + "; ".join(f"{space_name(r['space'])} {verdict_text(r)} ({interval(r)})" for r in final)
        )
        if not any(r["verdict"] == "agrees" for r in final):
            text += " — no effect of short training is claimed: the longest training does not agree either"
        sentences.append(text + ".")
    gamma = [r for r in of("gamma-rows-beat-control") if "depends on γ" in r.get("note", "")]
    if gamma:
        sentences.append(
            "**The result depends on R1 γ** in "
            + " and ".join(space_name(r["space"]) for r in gamma)
            + ": trained at k = 1's γ, the largest k reaches another verdict against the control than at γ 0.03."
        )
    generation = of("generation-kept", "kid")
    affine = [r for r in rows if r["claim_id"] in ("affine-tames-spectrum", "affine-beyond-initialization")]
    tail = []
    if generation:
        tail.append(
            f"generation quality kept at the largest k: {verdict_text(generation[0])} "
            f"(KID ratio {interval(generation[0])})"
        )
    if affine:
        tail += [f"{r['claim'][0].lower() + r['claim'][1:]}: {verdict_text(r)} ({interval(r)})" for r in affine]
    trained_in = of("rows-trained-into-generator", "kid")
    if trained_in:
        row = trained_in[0]
        tail.append(f"{row['claim'][0].lower() + row['claim'][1:]}: {verdict_text(row)} (KID ratio {interval(row)})")
    if tail:
        sentences.append("**Also**: " + "; ".join(tail) + ".")
    if any(r.get("holm") for r in rows):
        sentences.append("**Family-wise**: " + holm_sentence(rows))
    return sentences


def headline_rows(rows: Sequence[dict]) -> list[dict]:
    """The first page's short forest: one row per headline claim (`claims.Claim.headline`), the
    claim's own metric in W (the paper's model is inverted in W) where it has such a row."""
    chosen = []
    for claim_id in dict.fromkeys(r["claim_id"] for r in rows if claim_of(r).headline):
        of_claim = [r for r in rows if r["claim_id"] == claim_id]
        chosen.append(
            min(
                of_claim,
                key=lambda r: (r["metric_id"] != claim_of(r).metric, r["space"] != "w", bool(r.get("subset"))),
            )
        )
    return chosen


IMPROVES_LEAD = {  # the first screen's opening words for "reconstruction improves with k", per verdict
    "agrees": "**More style rows reconstruct real images better**, as the paper claims",
    "contradicted": "**More style rows reconstruct real images worse**, against the paper's claim",
    "no material gain": (
        "**More style rows do not reconstruct real images materially better**, against the paper's claim"
    ),
    "inconclusive": "**Whether more style rows reconstruct real images better is not decided** at this size",
    NOT_TESTABLE: "**Whether more style rows reconstruct real images better cannot be tested** at this scale",
}


def verdict(rows: Sequence[dict]) -> str:
    """The book's answer in two or three plain sentences (Markdown) for its first screen, made from
    the claims-table rows like `findings`: reconstruction with k, the mechanism (rows before training
    against W++), editability."""
    of = functools.partial(rows_of, rows)
    sentences = []
    improves = of("reconstruction-improves")
    if improves:
        row = min(improves, key=lambda r: r["space"] != "w")
        sentences.append(
            f"{IMPROVES_LEAD[row['verdict']]}: inverted in {space_name(row['space'])}, {row['candidate']}'s "
            f"LPIPS-VGG error is {interval(row)} that of {row['baseline']}."
        )
    mechanism = [*of("rows-beat-control"), *of("rows-beat-control", "psnr"), *of("out-of-domain-rows-beat-control")]
    if mechanism:
        favoured = _side_favoured(mechanism)
        some = [r for r in mechanism if r["ci_high"] < 0]
        control = "a k = 1 StyleGAN2 given as many rows only at inversion (the authors' later W++)"
        if favoured == "other":
            sentences.append(
                f"**But training with the rows is not what helps**: {control} reconstructs better than the model "
                "trained with them, in every comparison at equal latent size — against the paper's mechanism."
            )
        elif favoured == "paper":
            sentences.append(
                f"**Training with the rows is what helps**: the model trained with them reconstructs better than "
                f"{control}, in every comparison at equal latent size, as the paper argues."
            )
        elif some and not any(r["ci_low"] > 0 for r in mechanism):
            sentences.append(
                f"**But training with the rows is not shown to help**: {control} reconstructs better than the "
                f"model trained with them in {len(some)} of {len(mechanism)} comparisons at equal latent size and "
                "is never worse — against the paper's mechanism."
            )
        else:
            sentences.append(
                f"**Whether training with the rows helps** is not decided: against {control}, the comparisons "
                "at equal latent size do not agree."
            )
    editability = [r for r in rows if r["claim_id"] == "editability-kept"]
    checks = [r for r in rows if r["claim_id"] == "editability-penalty-detected"]
    if checks and not editability:
        sentences.append(
            "**Editability is not decided**: no midpoint measure saw the known loss of editability in W+, so "
            "none may judge it."
        )
    elif editability:
        agreeing = [r for r in editability if r["verdict"] == "agrees"]
        rest = [r for r in editability if r["verdict"] != "agrees"]
        against = [r for r in rows if r["claim_id"] == "editability-rows-vs-control" and r["ci_high"] < 0]
        if agreeing:
            text = (
                "**Interpolations between inverted images stay as realistic** at the largest k as at k = 1 in "
                f"{len(agreeing)} of {len(editability)} comparisons"
                + (f" (the other {len(rest)}: {_count_plain(rest)})" if rest else "")
            )
        else:
            text = (
                "**Whether interpolations stay as realistic at the largest k is not shown**: "
                f"{_count(editability)} of {len(editability)} comparisons"
            )
        if against:
            text += (
                "; the model trained with rows edits worse than W++ in "
                + f"{len(against)} comparison"
                + ("s" if len(against) != 1 else "")
            )
        sentences.append(text + ".")
    return " ".join(sentences)


def _verdict_counts(rows: Sequence[dict]) -> dict[str, int]:
    """How many rows have each verdict, in the verdicts' order (absent ones, and rows not testable
    at this scale, left out)."""
    counts = {verdict: sum(row["verdict"] == verdict for row in rows) for verdict in COUNTED}
    return {verdict: count for verdict, count in counts.items() if count}


def _count_plain(rows: Sequence[dict]) -> str:
    """'inconclusive' when every row has that verdict, else '2 inconclusive, 1 no material gain'."""
    counts = _verdict_counts(rows)
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{count} {verdict}" for verdict, count in counts.items())


def _count(rows: Sequence[dict]) -> str:
    """'agrees in 5, inconclusive in 3', for sentences."""
    return ", ".join(f"{verdict} in {count}" for verdict, count in _verdict_counts(rows).items())


def holm_sentence(rows: Sequence[dict]) -> str:
    """'N of M decisive verdicts survive Holm's correction over the F rows of the family.'"""
    family = [r for r in rows if in_family(r) and claim_of(r).family == "claims"]
    decisive = [r for r in family if r.get("holm")]
    survive = sum(r["holm"] == "survives" for r in decisive)
    return (
        f"{survive} of {len(decisive)} decisive verdicts survive Holm's correction over the {len(family)} rows "
        "of the family (every row of a better, kept or threshold claim but the manipulation checks; one-sided α "
        "0.025, each row's p that of the verdict its interval reached)."
    )


def counts_by_group(rows: Sequence[dict]) -> str:
    """'The paper's claims: 11 agrees, 5 inconclusive; ...' (rows, not claims: W and W+ count
    apart), for the claims table's caption."""
    return "; ".join(
        f"{title}: " + ", ".join(f"{count} {verdict}" for verdict, count in _verdict_counts(chosen).items())
        for title, chosen in grouped(rows)
    )


def dose_sentence(change: Estimate, before: str, after: str) -> str:
    """What the dose-response trend says (`stats.paired_log_ratio_change` of the control's LPIPS over
    the trained model's): the control's lead shrinks (the interval above 0: the trained model gains
    on the control with longer training), grows (below 0), or shows no detectable change; with the
    smallest change this design detects, said whatever the result."""
    if change.low > 0:
        gist = "the control's lead shrinks"
    elif change.high < 0:
        gist = "the control's lead grows"
    else:
        gist = "no detectable change in the control's lead"
    signed = lambda value: ("+" if value > 0 else "") + significant(value)  # noqa: E731
    interval = f"{signed(change.value)} [{signed(change.low)}, {signed(change.high)}]"
    return (
        f"From {before} to {after} training images, {gist}: the log of the control's LPIPS over the trained "
        f"model's changes by {interval} over {change.seeds} training seeds; this design detects changes of "
        f"±{significant(change.half_width)} or more (a {significant(100 * (math.exp(change.half_width) - 1))}% "
        "change of the ratio)."
    )


# ------------------------------------------------------------------------------------ the tables


@cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )


def render(template: str, **values: object) -> str:
    """A template of ``templates/`` filled in (HTML-escaped)."""
    return _environment().get_template(template).render(**values).strip()


def verdict_class(verdict: str) -> str:
    """The CSS class that colours a verdict (book/_static/opgan.css)."""
    return "verdict-" + verdict.replace(" ", "-")


def _row_details(row: dict) -> str:
    """What tells a claim's rows apart: 'W, within-class, realism' (`label` without the claim; the
    measure by its short name where it has one)."""
    details = [space_name(row["space"]) if row["space"] != "w vs w+" else "", row.get("subset", "")]
    metric = metric_of(row)
    details.append(bar_text(metric) if is_threshold(row) else metric.short or metric.name)
    return ", ".join(d for d in details if d)


def _shared(rows: Sequence[dict], describe) -> str:
    """`describe(row)` when every row gives the same, else ''."""
    found = {describe(row) for row in rows}
    return found.pop() if len(found) == 1 else ""


def claims_html(rows: Sequence[dict], caption: str = "") -> str:
    """The claims table as HTML, grouped like the forest plot: a header row per claim (its words, the
    paper's, the two sides and the bar when its rows share them, the page that decides it), then a
    short row per comparison.  Every cell carries its column's name (data-label), so that narrow
    screens stack the rows (book/_static/opgan.css)."""
    groups = []
    for title, chosen in grouped(rows):
        claims_of_group = []
        for claim_id in dict.fromkeys(row["claim_id"] for row in chosen):
            of_claim = [row for row in chosen if row["claim_id"] == claim_id]
            first, claim = of_claim[0], claim_of(of_claim[0])
            sides_shared = _shared(of_claim, lambda r: f"{r['candidate']} against {r['baseline']}")
            if not sides_shared and _shared(of_claim, lambda r: r["candidate"]):
                # one candidate against a baseline named per space (the control: W++ in W+, its analogue in W)
                baselines: dict[str, set[str]] = {}
                for r in of_claim:
                    baselines.setdefault(r["baseline"], set()).add(space_name(r["space"]))
                if all(len(spaces) == 1 for spaces in baselines.values()):
                    sides_shared = f"{first['candidate']} against " + "; ".join(
                        f"{baseline} in {spaces.pop()}" for baseline, spaces in baselines.items()
                    )
            bars: dict[str, list[str]] = {}  # a claim's bar depends on its metric only: each bar, with its metrics
            for row in of_claim:
                names = bars.setdefault(bar(row), [])
                names += [] if metric_of(row).name in names else [metric_of(row).name]
            bar_shared = "; ".join(
                f"“{text}”" + (f" ({' and '.join(names)})" if len(bars) > 1 else "") for text, names in bars.items()
            )
            method_shared = _shared(of_claim, lambda r: r.get("note", ""))
            claims_of_group.append(
                {
                    "title": first["claim"],
                    "paper": claim.paper,
                    "sides": sides_shared,
                    "bar": bar_shared,
                    "reason": "; ".join(dict.fromkeys(filter(None, (bar_reason(row) for row in of_claim)))),
                    "method": method_shared,
                    "anchor": claim.anchor,
                    "evidence": claim.evidence,
                    "rows": [
                        {
                            "label": _row_details(row)
                            + ("" if sides_shared else f"; {row['candidate']} against {row['baseline']}"),
                            "compared": " vs ".join(
                                significant(row.get(side, math.nan), 3)
                                for side in ("candidate_value", "baseline_value")
                            )
                            + (f" {metric_of(row).unit}" if metric_of(row).unit else ""),
                            "interval": interval(row),
                            "verdict": row["verdict"],
                            "verdict_note": verdict_note(row),
                            "verdict_class": verdict_class(row["verdict"]),
                            "limits": f"{row['seeds']} seed{'s' if row['seeds'] != 1 else ''} × {row['images']} "
                            f"{metric_of(row).items.split(' (')[0]}",
                            "method": "" if method_shared else row.get("note", ""),
                        }
                        for row in of_claim
                    ],
                }
            )
        groups.append((title, claims_of_group))
    columns = ("comparison", "means", "size [95% CI]", "verdict", "rests on")
    caption += " Means: the paper's side's, then the other's. How each interval was made: claims.csv, column interval."
    return render("claims_table.html", columns=columns, groups=groups, caption=caption.strip())


def protocol_claim_key(row: dict) -> tuple[str, str, str, str]:
    """(claim id, space, subset, metric id): what one row of the protocol table decides, whichever
    protocol decided it."""
    return row["claim_id"], row["space"], row.get("subset", ""), row["metric_id"]


def protocol_html(rows: Sequence[dict]) -> str:
    """The reconstruction claims decided under several inversion protocols (rows of
    scripts/protocol_check.py's CSV: `comparison` names the protocol) as an HTML table, a column per
    protocol, followed by what each protocol's numbers rest on: images, training seeds, steps, the
    code version and the processor that computed them.  The reconstruction page includes it."""
    protocols = list(dict.fromkeys(row["comparison"] for row in rows))
    first_of = {}
    for row in rows:
        first_of.setdefault(protocol_claim_key(row), row)
    by_key = {(*protocol_claim_key(row), row["comparison"]): row for row in rows}
    lines = [
        {
            "label": label(first, short=True),
            "metric": metric_of(first).name,
            "threshold": is_threshold(first),
            "cells": [
                None
                if (row := by_key.get((*key, protocol))) is None
                else {
                    "interval": interval(row),
                    "verdict": row["verdict"],
                    "verdict_note": verdict_note(row),
                    "verdict_class": verdict_class(row["verdict"]),
                }
                for protocol in protocols
            ],
        }
        for key, first in first_of.items()
    ]
    made = []
    for protocol in protocols:
        first = next(row for row in rows if row["comparison"] == protocol)
        made.append(
            {
                "protocol": protocol,
                "images": first["images"],
                "seeds": first["seeds"],
                "seed_list": first.get("seed_list", "not recorded"),
                "steps": first.get("steps", "not recorded"),
                "seconds": first.get("inversion_seconds"),
                "processor": first.get("processor"),
                "code_version": first.get("code_version", "not recorded"),
            }
        )
    summary, differing = protocol_agreement(rows)
    return render(
        "protocol_table.html",
        protocols=protocols,
        lines=lines,
        any_threshold=any(is_threshold(row) for row in rows),
        made=made,
        summary=summary,
        differing=differing,
    )


def protocol_agreement(rows: Sequence[dict]) -> tuple[str, list[str]]:
    """Whether the protocols decide each claim alike: a sentence counting the rows (claim, space,
    metric) that every protocol ran and that all of them give the same verdict, and a line for each
    row where they differ."""
    protocols = list(dict.fromkeys(row["comparison"] for row in rows))
    verdicts: dict[tuple, dict] = {}
    first_of: dict[tuple, dict] = {}
    for row in rows:
        verdicts.setdefault(protocol_claim_key(row), {})[row["comparison"]] = row["verdict"]
        first_of.setdefault(protocol_claim_key(row), row)
    shared = {key: found for key, found in verdicts.items() if len(found) == len(protocols)}
    if not shared or len(protocols) < 2:
        return "Only one protocol has been run: nothing to compare yet.", []
    differing = [
        f"{label(first_of[key], short=True)}, in {metric_of(first_of[key]).name}: "
        + ", ".join(f"{found[protocol]} under {protocol.split(' (')[0]}" for protocol in protocols)
        for key, found in shared.items()
        if len(set(found.values())) > 1
    ]
    same = len(shared) - len(differing)
    summary = f"The protocols give the same verdict in {same} of the {len(shared)} rows that all of them ran"
    return summary + ("." if not differing else "; they differ in these:"), differing


def forest_position(row: dict) -> tuple[float, float, float, float]:
    """(estimate, low, high, tolerance) in units of the row's tolerance (threshold rows and checks at
    tolerance 0: in units of their metric's tolerance, with the bar at 0), for the forest plot."""
    if is_threshold(row) or row["tolerance"] == 0:
        unit_size, tolerance = metric_of(row).tolerance, 0.0
    else:
        unit_size, tolerance = row["tolerance"], 1.0
    return (
        row["improvement"] / unit_size,
        row["ci_low"] / unit_size,
        row["ci_high"] / unit_size,
        tolerance,
    )


def forest_bar(row: dict) -> float:
    """The edge a row's interval must clear to agree, in the forest plot's units: +t for a "better"
    row, −t for a "kept" row, 0 for a fixed bar or a manipulation check (the low end must pass it)."""
    tolerance = forest_position(row)[3]
    return {"better": tolerance, "kept": -tolerance}.get(row["kind"], 0.0)


def scale_caveat(scale: str, reference: str = "paper") -> str:
    """One sentence on how far this scale is from the paper's (read from the presets): what every
    verdict of the book is conditional on."""
    from opgan.presets import preset_row
    from opgan.study.book import describe_scale

    ours, theirs = preset_row(scale), preset_row(reference)
    their_data = describe_scale(reference)["data"].replace(" (a folder or zip you provide)", "")
    share = ours["train"]["total_images"] / theirs["train"]["total_images"]
    recipe = ""
    if not ours["train"]["pl_weight"] and theirs["train"]["pl_weight"]:
        recipe = f", without the paper's path-length regularization (weight {theirs['train']['pl_weight']:g})"
    elif ours["train"]["pl_weight"] != theirs["train"]["pl_weight"]:
        recipe = (
            f", with path-length regularization of weight {ours['train']['pl_weight']:g} (the paper's: "
            f"{theirs['train']['pl_weight']:g})"
        )
    return (
        f"**Scale**: every verdict is of the {scale} scale — {describe_scale(scale)['data']}, generators of up to "
        f"{ours['model']['channel_max']} channels (so k ≤ {ours['model']['channel_max']}) trained on "
        f"{ours['train']['total_images']:,} images ({100 * share:.2g}% of the paper preset's "
        f"{theirs['train']['total_images']:,}){recipe} — against the paper's {their_data}, "
        f"{theirs['model']['channel_max']} channels: trends of the method, not the paper's numbers."
    )

"""The claims for readers: the findings in sentences made from the claims table, the table itself
and the protocol table (HTML from templates in ``templates/``), and the numbers as they are shown.

Nothing here decides a verdict (`opgan.study.claims` and `opgan.study.stats` do), and nothing reads
a claim's words to learn what it is: every row names its record (`claims.CLAIMS`) and its metric
(`claims.METRICS`), so the sentences change when the results do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from opgan.study.claims import GROUPS, NEAR_PERFECT_REASONS, bar_text, claim_of, metric_of
from opgan.study.stats import Estimate

VERDICT_COLORS = {  # the forest plot's; the HTML tables colour verdicts by CSS class (book/_static/opgan.css)
    "agrees": "#1a7f37",
    "contradicted": "#cf222e",
    "no material gain": "#bc4c00",
    "inconclusive": "#6e7781",
}
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


def amount(row: dict, value: float, signed: bool = False) -> str:
    """An improvement in the row's own units: % for relative ones, else the metric's unit."""
    if is_relative(row):
        text = significant(100 * value) + "%"
    else:
        text = significant(value)
    if signed and math.isfinite(value) and value > 0:
        text = "+" + text
    return text


def unit(row: dict) -> str:
    return "" if is_relative(row) else metric_of(row).unit


def interval(row: dict) -> str:
    """'0.25 [0.19, 0.31] LPIPS-VGG' or '−16% [−68%, +20%]', two significant digits."""
    text = (
        f"{amount(row, row['improvement'], signed=True)} "
        f"[{amount(row, row['ci_low'], signed=True)}, {amount(row, row['ci_high'], signed=True)}]"
    )
    return f"{text} {unit(row)}".strip()


def bar(row: dict) -> str:
    """The bar a row is judged against, with its sign: what 'agrees' needs."""
    if is_threshold(row):
        return f"mean {bar_text(metric_of(row))}"
    tolerance = row["tolerance"]
    number = f"{100 * tolerance:g}%" if is_relative(row) else f"{tolerance:g}"
    shown = f"{number} {unit(row)}".strip()
    if row["kind"] == "better":
        return f"better by more than {shown} (improvement > +{number})"
    return f"no worse by more than {shown} (improvement > −{number})"


def bar_reason(row: dict) -> str:
    if is_threshold(row):
        return NEAR_PERFECT_REASONS.get(metric_of(row).id, "")
    return metric_of(row).reason


def sides(row: dict) -> tuple[str, str]:
    """(baseline, candidate) labels of a row's comparison."""
    return row["baseline"], row["candidate"]


def compared(row: dict) -> tuple[str, str, str]:
    """('candidate: value', 'baseline: value', the metric's name): both sides' grand means over seeds
    and items, to three significant digits."""
    baseline, candidate = sides(row)
    metric = metric_of(row)
    return (
        f"{candidate}: {significant(row.get('candidate_value', math.nan), 3)}",
        f"{baseline}: {significant(row.get('baseline_value', math.nan), 3)}",
        metric.unit or metric.name,
    )


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


def limits(row: dict) -> str:
    """What the row rests on: seeds per side, items, and how the interval was made."""
    items = f"{row['images']} {metric_of(row).items}"
    seeds = row["seeds"]
    note = f"; {row['note']}" if row.get("note") else ""
    return f"{seeds} training seed{'s' if seeds != 1 else ''} per side × {items}{note}; {row.get('interval', '')}"


# ---------------------------------------------------------------------------------- sentences


def sentence(row: dict) -> str:
    """One row as a sentence: both sides, the improvement with its interval, the bar and the
    verdict (Markdown)."""
    candidate, baseline, name = compared(row)
    values = f"{candidate} vs {baseline} {name}"
    return (
        f"**{label(row)}** — {values}: improvement {interval(row)}, judged against “{bar(row)}” over "
        f"{row['seeds']} seed(s) × {row['images']} items: **{row['verdict']}**."
    )


def answer(rows: Sequence[dict]) -> str:
    """A page's claims as a Markdown list of sentences."""
    return "\n".join(f"- {sentence(row)}" for row in rows) or "No claim could be tested with these parameters."


def _verdicts_by_space(rows: Sequence[dict]) -> str:
    """'agrees in W and W+' / 'agrees in W, inconclusive in W+'."""
    by_verdict: dict[str, list[str]] = {}
    for row in rows:
        by_verdict.setdefault(row["verdict"], []).append(space_name(row["space"]))
    parts = [
        f"{verdict} in {' and '.join(spaces)}" if any(spaces) else verdict for verdict, spaces in by_verdict.items()
    ]
    return ", ".join(parts)


def _intervals(rows: Sequence[dict]) -> str:
    return "; ".join(f"{space_name(r['space']) + ' ' if r['space'] else ''}{interval(r)}" for r in rows)


def findings(rows: Sequence[dict]) -> list[str]:
    """The findings in a few sentences (Markdown), made from the claims-table rows: the verdict words
    and intervals are the rows', so the sentences change with the results."""
    of = lambda claim_id: [r for r in rows if r["claim_id"] == claim_id]  # noqa: E731
    sentences = []
    improves, beats_w_plus = of("reconstruction-improves"), of("w-beats-w-plus")
    if improves:
        text = (
            f"**Reconstruction improves with k** (the paper's central claim): {_verdicts_by_space(improves)} — "
            f"improvement of {improves[0]['candidate']} over {improves[0]['baseline']}: {_intervals(improves)}"
        )
        if beats_w_plus:
            row = beats_w_plus[0]
            text += f"; {row['claim']}: {row['verdict']} ({interval(row)})"
        sentences.append(text + ".")
    equal_size, out_of_domain = of("rows-beat-control"), of("out-of-domain-rows-beat-control")
    control = equal_size + out_of_domain
    if control:
        verdicts = {r["verdict"] for r in control}
        if verdicts <= {"no material gain", "contradicted"}:
            gist = (
                "the k = 1 model given as many rows only at inversion (the control) reconstructs as well as the "
                "model trained with them, or better: the gain comes from the free values, not from training with rows"
            )
        elif verdicts == {"agrees"}:
            gist = "the model trained with rows beats the control (k = 1 given as many rows only at inversion)"
        else:
            gist = (
                "whether training with rows beats the control (k = 1 given as many rows only at inversion) "
                "is not decided"
            )
        sentences.append(
            f"**Is it the training with rows?** At equal latent size {gist} "
            f"(trained minus control: {_intervals(equal_size)}"
            + (f"; out of domain {interval(out_of_domain[0])}" if out_of_domain else "")
            + f"; {_count(control)})."
        )
    near = of("near-perfect")
    if near:
        parts = [f"{bar(r)}: {r['verdict']} (past the bar by {interval(r)})" for r in near]
        sentences.append(
            f"**Near-perfect reconstruction** of {near[0]['candidate']} in "
            f"{space_name(near[0]['space'])} — {'; '.join(parts)}."
        )
    editability, editability_control = of("editability-kept"), of("editability-rows-vs-control")
    if editability:
        sentences.append(
            f"**Editability kept** (midpoints between inverted images as realistic at the largest k as at k = 1): "
            f"{_count(editability)} of {len(editability)} comparisons (two measures, W and W+, within- and "
            "cross-class pairs)"
            + (f"; trained rows against the control: {_count(editability_control)}" if editability_control else "")
            + "."
        )
    generation = of("generation-kept")
    affine = of("affine-tames-spectrum") + of("affine-beyond-initialization")
    tail = []
    if generation:
        tail.append(
            f"generation quality kept at the largest k: {generation[0]['verdict']} ({interval(generation[0])} KID)"
        )
    if affine:
        tail += [f"{r['claim'][0].lower() + r['claim'][1:]}: {r['verdict']} ({interval(r)})" for r in affine]
    if tail:
        sentences.append("**Also**: " + "; ".join(tail) + ".")
    return sentences


def _verdict_counts(rows: Sequence[dict]) -> dict[str, int]:
    """How many rows have each verdict, in the verdicts' order (absent ones left out)."""
    counts = {verdict: sum(row["verdict"] == verdict for row in rows) for verdict in VERDICT_COLORS}
    return {verdict: count for verdict, count in counts.items() if count}


def _count(rows: Sequence[dict]) -> str:
    """'agrees in 5, inconclusive in 3', for sentences."""
    return ", ".join(f"{verdict} in {count}" for verdict, count in _verdict_counts(rows).items())


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


def claims_html(rows: Sequence[dict], caption: str = "") -> str:
    """The claims table as HTML, grouped like the forest plot; every cell carries its column's name
    (data-label) so that narrow screens can stack the rows (book/_static/opgan.css)."""
    groups = [
        (
            title,
            [
                {
                    "label": label(row),
                    "paper": claim_of(row).paper,
                    "compared": "{}; {} ({})".format(*compared(row)),
                    "interval": interval(row),
                    "bar": bar(row),
                    "reason": bar_reason(row),
                    "verdict": row["verdict"],
                    "verdict_class": verdict_class(row["verdict"]),
                    "limits": limits(row),
                    "anchor": claim_of(row).anchor,
                    "evidence": claim_of(row).evidence,
                }
                for row in chosen
            ],
        )
        for title, chosen in grouped(rows)
    ]
    columns = ("claim", "compared (mean)", "improvement [95% CI]", "judged against", "verdict", "rests on")
    return render("claims_table.html", columns=columns, groups=groups, caption=caption)


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
    """(estimate, low, high, tolerance) in units of the row's tolerance (threshold rows: in units of
    their metric's tolerance, with the bar at 0), for the forest plot."""
    if is_threshold(row):
        unit_size, tolerance = metric_of(row).tolerance, 0.0
    else:
        unit_size, tolerance = row["tolerance"], 1.0
    return (
        row["improvement"] / unit_size,
        row["ci_low"] / unit_size,
        row["ci_high"] / unit_size,
        tolerance,
    )


def scale_caveat(scale: str, reference: str = "paper") -> str:
    """One sentence on how far this scale is from the paper's (read from the presets): what every
    verdict of the book is conditional on."""
    from opgan.presets import preset_row
    from opgan.study.book import describe_scale

    ours, theirs = preset_row(scale), preset_row(reference)
    their_data = describe_scale(reference)["data"].replace(" (a folder or zip you provide)", "")
    share = ours["train"]["total_images"] / theirs["train"]["total_images"]
    return (
        f"**Scale**: every verdict is of the `{scale}` scale — {describe_scale(scale)['data']}, generators of up to "
        f"{ours['model']['channel_max']} channels trained on {ours['train']['total_images']:,} images "
        f"({share:.1%} of the paper preset's {theirs['train']['total_images']:,}), against the paper's "
        f"{their_data}, {theirs['model']['channel_max']} channels: trends of the method, "
        "not the paper's numbers."
    )

"""The claims for readers: where each one comes from (the paper's words, or a control of this
reproduction, or a check of the training recipe), the findings in sentences made from the claims
table, and that table as HTML that reads on its own at any width.

Nothing here decides a verdict (`opgan.study.claims` and `opgan.study.stats` do); it only says what the rows
of ``claims.csv`` mean, so the sentences change when the results do.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from opgan.study.claims import TOLERANCE

GROUPS = {
    "paper": "The paper's claims",
    "control": "This reproduction's controls",
    "recipe": "Recipe checks",
}
VERDICT_COLORS = {
    "agrees": "#1a7f37",
    "contradicted": "#cf222e",
    "no material gain": "#bc4c00",
    "inconclusive": "#6e7781",
}
ABSTRACT = "abstract, arXiv 2205.06304"


@dataclass(frozen=True)
class ClaimSource:
    """Where a claim of the table comes from and where its evidence is."""

    group: str  # a key of GROUPS
    paper: str  # the paper's words (quoted with where they are), or why this reproduction adds it
    evidence: str  # the book page (and anchor) that decides it
    evidence_text: str


# Matched in order on the start of a row's claim: the more specific prefixes first.
SOURCES: tuple[tuple[str, ClaimSource], ...] = (
    (
        "Generation quality kept",
        ClaimSource(
            "paper",
            "Implied: a generator changed by “simple changes to the original StyleGAN architecture” "
            "must still generate well (not a sentence of the abstract)",
            "01_generation.html#sample-quality-per-model",
            "generation page, sample quality",
        ),
    ),
    (
        "The paper's path-length regularization",
        ClaimSource(
            "recipe",
            "The authors train with path-length regularization (weight 2, length √k times the mean); "
            "the models here are trained without it",
            "01_generation.html#the-recipe-s-ingredients-at-this-scale",
            "generation page, the recipe's ingredients",
        ),
    ),
    (
        "Reconstruction improves with k",
        ClaimSource(
            "paper",
            f"“Our overparameterization increases the available degrees of freedom, which in turn "
            f"facilitates inversion.” ({ABSTRACT})",
            "02_reconstruction.html#the-long-budget-are-the-reconstructions-converged",
            "reconstruction page, the long budget",
        ),
    ),
    (
        "k = ",
        ClaimSource(
            "paper",
            f"“…without the need for encoders nor for altering the latent space after training” ({ABSTRACT}): "
            "W+ is the latent space altered after training",
            "02_reconstruction.html#the-long-budget-are-the-reconstructions-converged",
            "reconstruction page, the long budget",
        ),
    ),
    (
        "Training with rows beats free values",
        ClaimSource(
            "control",
            "The paper overparameterizes “before training” instead of extending the latent space after it; "
            "the control (k = 1 trained, given as many rows at inversion) separates the two",
            "02_reconstruction.html#equal-latent-size-does-training-with-more-rows-matter",
            "reconstruction page, equal latent size",
        ),
    ),
    (
        "Near-perfect reconstruction",
        ClaimSource(
            "paper",
            f"“We show that this allows us to obtain near-perfect image reconstruction” ({ABSTRACT})",
            "02_reconstruction.html#what-the-results-say-about-the-paper-s-claims",
            "reconstruction page, the claims",
        ),
    ),
    (
        "Out-of-domain images",
        ClaimSource(
            "paper",
            f"“…working with arbitrary images requires inverting the StyleGAN generator” ({ABSTRACT}); "
            "Figure 1 of the paper: “arbitrary real images”",
            "02_reconstruction.html#out-of-domain-images",
            "reconstruction page, out-of-domain images",
        ),
    ),
    (
        "Out of domain, training with rows",
        ClaimSource(
            "control",
            "The equal-latent-size control on the out-of-domain images",
            "02_reconstruction.html#out-of-domain-images",
            "reconstruction page, out-of-domain images",
        ),
    ),
    (
        "Editability kept",
        ClaimSource(
            "paper",
            f"“Our approach also retains editability, which we demonstrate by realistically interpolating "
            f"between images.” ({ABSTRACT})",
            "03_interpolation.html",
            "interpolation page",
        ),
    ),
    (
        "Editability at equal latent size",
        ClaimSource(
            "control",
            "The equal-latent-size control on the interpolation midpoints",
            "03_interpolation.html",
            "interpolation page",
        ),
    ),
    (
        "Reduced affine lr tames the spectrum beyond",
        ClaimSource(
            "control",
            "Were the affine layers trained at all? The reduced rate against the same layers at initialization",
            "04_affine.html",
            "affine page",
        ),
    ),
    (
        "Reduced affine lr tames the spectrum",
        ClaimSource(
            "paper",
            "The paper's figure of the affine layers' singular values, trained with the regular and the "
            "reduced (×0.01) learning rate",
            "04_affine.html",
            "affine page",
        ),
    ),
)

# Why each tolerance, in one line (keyed like claims.TOLERANCE; near-perfect rows by their metric).
TOLERANCE_REASONS = {
    "lpips": "about a tenth of the LPIPS gap between k = 1 in W and in W+ at this scale",
    "psnr": "",
    "fd_relative": "about the spread of one recipe's sample distances between trainings",
    "midpoint_relative": "the same 10% relative bar as the sample distances",
    "spectrum_relative": "a random Gaussian matrix's ratio varies by about 3% (2.42 ± 0.08)",
}
NEAR_PERFECT_REASONS = {
    "psnr": "the conventional bar of a high-quality lossy reconstruction, fixed before any result",
    "lpips": "about half of what good StyleGAN2 inversions reach, fixed before any result",
}
METRIC_UNITS = {"lpips": "LPIPS-VGG", "psnr": "dB"}
METRIC_NAMES = {"lpips": "LPIPS-VGG", "psnr": "PSNR"}


def source(claim: str) -> ClaimSource:
    """The `ClaimSource` of a claims-table row's claim."""
    for prefix, found in SOURCES:
        if claim.startswith(prefix):
            return found
    return ClaimSource("control", "", "05_results.html", "results page")


def space_name(space: str) -> str:
    """'W', 'W+' (or the text as it is, e.g. 'w vs w+')."""
    return {"w": "W", "w+": "W+"}.get(space, space)


def grouped(rows: Sequence[dict]) -> list[tuple[str, list[dict]]]:
    """The rows by group (the paper's claims, controls, recipe checks), in `GROUPS` order, as
    (title, rows); empty groups left out."""
    found = [(title, [r for r in rows if source(r["claim"]).group == group]) for group, title in GROUPS.items()]
    return [(title, chosen) for title, chosen in found if chosen]


def is_relative(row: dict) -> bool:
    return "(relative)" in row["metric"]


def tolerance_key(row: dict) -> str:
    """The key of `claims.TOLERANCE` a row was judged with."""
    metric = row["metric"]
    if not is_relative(row):
        return metric
    if "KID" in metric:
        return "fd_relative"
    if "singular" in metric:
        return "spectrum_relative"
    return "midpoint_relative"


def is_threshold(row: dict) -> bool:
    """A row judged against a fixed bar (near-perfect reconstruction), not against another model."""
    return row["claim"].startswith("Near-perfect")


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
    return "" if is_relative(row) else METRIC_UNITS.get(row["metric"], row["metric"])


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
        return row["comparison"].split(", ", 1)[-1]
    tolerance = row["tolerance"]
    number = f"{100 * tolerance:g}%" if is_relative(row) else f"{tolerance:g}"
    shown = f"{number} {unit(row)}".strip()
    if row["kind"] == "better":
        return f"better by more than {shown} (improvement > +{number})"
    return f"no worse by more than {shown} (improvement > −{number})"


def bar_reason(row: dict) -> str:
    if is_threshold(row):
        return NEAR_PERFECT_REASONS.get(row["metric"], "")
    return TOLERANCE_REASONS.get(tolerance_key(row), "")


def sides(row: dict) -> tuple[str, str]:
    """(baseline, candidate) labels of a row's comparison."""
    comparison = row["comparison"]
    if is_threshold(row):
        return "the bar", comparison.split(",", 1)[0]
    if " vs " not in comparison:
        return "baseline", "candidate"
    candidate, baseline = comparison.split(" vs ", 1)
    return baseline.split(", ", 1)[0], candidate


def compared(row: dict) -> tuple[str, str, str]:
    """('candidate: value', 'baseline: value', the metric's name): both sides' grand means over seeds
    and items, to three significant digits."""
    baseline, candidate = sides(row)
    name = row["metric"].replace(" (relative)", "")
    return (
        f"{candidate}: {significant(row.get('candidate_value', math.nan), 3)}",
        f"{baseline}: {significant(row.get('baseline_value', math.nan), 3)}",
        METRIC_UNITS.get(name, name),
    )


def values_text(row: dict) -> str:
    """Both sides' values with the metric's name, for the table (HTML)."""
    candidate, baseline, name = compared(row)
    return f"{html.escape(candidate)}; {html.escape(baseline)} ({html.escape(name)})"


SHORT_NAMES = {
    "Editability kept: midpoints as realistic": "Editability kept",
    "Editability at equal latent size: trained rows vs free values": "Editability: trained rows vs the control",
    "Training with rows beats free values at equal latent size": "Trained rows beat the control",
    "Out of domain, training with rows beats free values at equal latent size": (
        "Out of domain: trained rows beat the control"
    ),
    "Out-of-domain images reconstruct better with k": "Out of domain: reconstruction improves with k",
    "Reduced affine lr tames the spectrum beyond its initialization": (
        "Reduced affine lr tames it beyond initialization"
    ),
}


def label(row: dict, short: bool = False) -> str:
    """A name for a row: claim (`short`: its short name), space, and what tells rows of one claim
    apart."""
    text = row["claim"]
    if short:
        text = SHORT_NAMES.get(text, text).replace("The paper's path-length regularization", "Path length")
    details = []
    if row["space"]:
        details.append(space_name(row["space"]) if row["space"] != "w vs w+" else "")
    comparison = row["comparison"]
    if ", " in comparison and not is_threshold(row):
        details.append(comparison.split(", ", 1)[1].replace(" pairs", ""))
    if is_threshold(row):
        details.append(comparison.split(", mean ", 1)[-1])
    if "midpoint" in row["metric"]:
        details.append("realism" if "realism" in row["metric"] else "classifier")
    details = [d for d in details if d]
    return text + (f" ({', '.join(details)})" if details else "")


def limits(row: dict) -> str:
    """What the row rests on: seeds per side, items, and how the interval was made."""
    what = row["metric"]
    if "singular" in what:
        items = f"{row['images']} layers"
    elif "KID" in what:
        items = f"{row['images']} samples per model"
    elif "midpoint" in what:
        items = f"{row['images']} pairs (test images resampled)"
    else:
        items = f"{row['images']} test images"
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
    of = lambda prefix: [r for r in rows if r["claim"].startswith(prefix)]  # noqa: E731
    sentences = []
    improves, beats_w_plus = of("Reconstruction improves with k"), of("k = ")
    if improves:
        k_max = improves[0]["comparison"].split(" vs ")[0]
        text = (
            f"**Reconstruction improves with k** (the paper's central claim): {_verdicts_by_space(improves)} — "
            f"improvement of {k_max} over k = 1: {_intervals(improves)}"
        )
        if beats_w_plus:
            row = beats_w_plus[0]
            text += f"; {row['claim']}: {row['verdict']} ({interval(row)})"
        sentences.append(text + ".")
    equal_size, out_of_domain = of("Training with rows beats free values"), of("Out of domain, training with rows")
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
    near = of("Near-perfect")
    if near:
        parts = [f"{r['comparison'].split(', ', 1)[1]}: {r['verdict']} (past the bar by {interval(r)})" for r in near]
        sentences.append(
            f"**Near-perfect reconstruction** of {near[0]['comparison'].split(',')[0]} in W — {'; '.join(parts)}."
        )
    editability, editability_control = of("Editability kept"), of("Editability at equal")
    if editability:
        sentences.append(
            f"**Editability kept** (midpoints between inverted images as realistic at the largest k as at k = 1): "
            f"{_count(editability)} of {len(editability)} comparisons (two measures, W and W+, within- and "
            "cross-class pairs)"
            + (f"; trained rows against the control: {_count(editability_control)}" if editability_control else "")
            + "."
        )
    generation, affine = of("Generation quality kept"), of("Reduced affine lr tames the spectrum")
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


# ------------------------------------------------------------------------------------ the table


def claims_html(rows: Sequence[dict], caption: str = "") -> str:
    """The claims table as HTML, grouped like the forest plot; every cell carries its column's name
    (data-label) so that narrow screens can stack the rows (book/_static/opgan.css)."""
    columns = ("claim", "compared (mean)", "improvement [95% CI]", "judged against", "verdict", "rests on")
    head = "".join(f"<th>{name}</th>" for name in columns)
    body = []
    for title, chosen in grouped(rows):
        body.append(f'<tr class="claims-group"><th colspan="{len(columns)}">{title}</th></tr>')
        for row in chosen:
            where = source(row["claim"])
            reason = bar_reason(row)
            cells = (
                f"<strong>{html.escape(label(row))}</strong>"
                + (f'<div class="claims-paper">{html.escape(where.paper)}</div>' if where.paper else ""),
                values_text(row),
                html.escape(interval(row)),
                html.escape(bar(row)) + (f'<div class="claims-why">{html.escape(reason)}</div>' if reason else ""),
                f'<span class="claims-verdict" style="color:{VERDICT_COLORS.get(row["verdict"], "inherit")}">'
                f"{html.escape(row['verdict'])}</span>",
                html.escape(limits(row)) + f' — <a href="{where.evidence}">{html.escape(where.evidence_text)}</a>',
            )
            body.append(
                "<tr>" + "".join(f'<td data-label="{name}">{cell}</td>' for name, cell in zip(columns, cells)) + "</tr>"
            )
    caption_html = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="claims-table">{caption_html}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def protocol_html(rows: Sequence[dict]) -> str:
    """The reconstruction claims decided under several inversion protocols (rows of
    scripts/protocol_check.py's CSV: `comparison` names the protocol) as an HTML table, a column per
    protocol, followed by what each protocol's numbers rest on: images, training seeds, steps, the
    code version and the processor that computed them.  The reconstruction page includes it."""
    protocols = list(dict.fromkeys(row["comparison"] for row in rows))
    claims = list(dict.fromkeys(protocol_claim_key(row) for row in rows))
    by_key = {(*protocol_claim_key(row), row["comparison"]): row for row in rows}
    columns = ("claim", *protocols)
    head = "".join(f"<th>{html.escape(name)}</th>" for name in columns)
    body = []
    for claim, space, metric in claims:
        cells = [
            f"<strong>{html.escape(claim)}</strong>"
            + (f" ({html.escape(space_name(space))})" if space else "")
            + f'<div class="claims-why">in {html.escape(METRIC_NAMES.get(metric, metric))}'
            + (": the distance past the bar" if is_threshold({"claim": claim}) else "")
            + "</div>"
        ]
        for protocol in protocols:
            row = by_key.get((claim, space, metric, protocol))
            cells.append(
                "not run"
                if row is None
                else f"{html.escape(interval(row))}: "
                f'<span class="claims-verdict" style="color:{VERDICT_COLORS.get(row["verdict"], "inherit")}">'
                f"{html.escape(row['verdict'])}</span>"
            )
        body.append(
            "<tr>" + "".join(f'<td data-label="{name}">{cell}</td>' for name, cell in zip(columns, cells)) + "</tr>"
        )
    caption = (
        "The reconstruction claims under each inversion protocol, on the same test images and models: improvement "
        "of the paper's side (positive = better), 95% interval and verdict. The paper's protocol minimizes "
        "LPIPS-VGG itself and the book's LPIPS-AlexNet + MSE, so each metric flatters one protocol's values; "
        "every claim compares models within one protocol."
        + (
            " Near-perfect rows: the seed-mean distance past a bar fixed before any result was seen "
            "(positive = past it)."
            if any(is_threshold(row) for row in rows)
            else ""
        )
    )
    made = []
    for protocol in protocols:
        first = next(row for row in rows if row["comparison"] == protocol)
        seconds = first.get("inversion_seconds")
        made.append(
            f"<li><em>{html.escape(protocol)}</em>: {first['images']} test images × {first['seeds']} training "
            f"seed{'' if first['seeds'] == 1 else 's'} "
            f"({html.escape(str(first.get('seed_list', 'not recorded')))}), {first.get('steps', 'not recorded')} steps"
            + (
                f", {seconds:.0f} s of inversions (wall clock) on {html.escape(str(first.get('processor')))}"
                if seconds
                else ""
            )
            + f", code version {html.escape(str(first.get('code_version', 'not recorded')))}.</li>"
        )
    summary, differing = protocol_agreement(rows)
    agreement = f"<p>{html.escape(summary)}</p>" + (
        f"<ul>{''.join(f'<li>{html.escape(line)}</li>' for line in differing)}</ul>" if differing else ""
    )
    return (
        f'<table class="claims-table protocol-table"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>\n"
        f"{agreement}\n"
        f"<p>What each column rests on (from the results file of <code>scripts/protocol_check.py</code>):</p>"
        f"<ul>{''.join(made)}</ul>"
    )


def protocol_claim_key(row: dict) -> tuple[str, str, str]:
    """(claim, space, metric): what one row of the protocol table decides, whichever protocol decided it
    (rows written before the PSNR column are LPIPS-VGG)."""
    return row["claim"], row["space"], row.get("metric", "lpips")


def protocol_agreement(rows: Sequence[dict]) -> tuple[str, list[str]]:
    """Whether the protocols decide each claim alike: a sentence counting the (claim, space, metric)
    rows that every protocol ran and that all of them give the same verdict, and a line for each row
    where they differ."""
    protocols = list(dict.fromkeys(row["comparison"] for row in rows))
    verdicts: dict[tuple, dict] = {}
    for row in rows:
        verdicts.setdefault(protocol_claim_key(row), {})[row["comparison"]] = row["verdict"]
    shared = {key: found for key, found in verdicts.items() if len(found) == len(protocols)}
    if not shared or len(protocols) < 2:
        return "Only one protocol has been run: nothing to compare yet.", []
    differing = [
        f"{claim}{f' ({space_name(space)})' if space else ''}, in {METRIC_NAMES.get(metric, metric)}: "
        + ", ".join(f"{found[protocol]} under {protocol.split(' (')[0]}" for protocol in protocols)
        for (claim, space, metric), found in shared.items()
        if len(set(found.values())) > 1
    ]
    same = len(shared) - len(differing)
    summary = f"The protocols give the same verdict in {same} of the {len(shared)} rows that all of them ran"
    return summary + ("." if not differing else "; they differ in these:"), differing


def forest_position(row: dict) -> tuple[float, float, float, float]:
    """(estimate, low, high, tolerance) in units of the row's tolerance (threshold rows: in units of
    their metric's tolerance, with the bar at 0), for the forest plot."""
    if is_threshold(row):
        unit_size, tolerance = TOLERANCE[row["metric"]], 0.0
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

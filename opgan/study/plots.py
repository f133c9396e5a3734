"""The book's figures (matplotlib): each function draws one figure and returns it."""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Callable, Iterable

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import torch

from opgan.files import image_grid
from opgan.study import findings, stats

SPACE_STYLE = {"z": ("tab:green", "^"), "w": ("tab:blue", "o"), "w+": ("tab:orange", "s")}
METRIC_NAMES = {"psnr": "PSNR (dB)", "ssim": "SSIM", "lpips": "LPIPS-VGG", "mse": "MSE"}
LOWER_IS_BETTER = ("lpips", "mse")
METRIC_LABEL = {metric: f"{name} {'↓' if metric in LOWER_IS_BETTER else '↑'}" for metric, name in METRIC_NAMES.items()}
LOG_TITLES = {
    "loss_G": "generator loss (non-saturating)",
    "loss_D": "discriminator loss (logistic)",
    "r1_penalty": "R1 penalty (gradient at reals)",
    "pl_penalty": "path-length penalty",
}
MODULE_GROUP_NAMES = {"mapping": "mapping", "affine": "affine layers", "conv": "convolutions", "torgb": "ToRGB"}
# Text sizes for figures that the book shows scaled to its column: no text under ~10 pt.
STYLE = {
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
}


def styled(draw: Callable[..., plt.Figure]) -> Callable[..., plt.Figure]:
    """Draws the figure under `STYLE` without touching matplotlib's global settings: the figure is
    rendered inside the context, so that its tick labels are made at these sizes too."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs) -> plt.Figure:
        with plt.rc_context(STYLE):
            fig = draw(*args, **kwargs)
            fig.canvas.draw()
        return fig

    return drawn


# The widest figure (inches at 100 dpi) whose 10-pt text stays >= 9 px in the book's ~680-px column.
MAX_WIDTH = 10.0


@styled
def image_rows(
    rows: dict[str, torch.Tensor],
    columns: int | None = None,
    scale: float = 1.0,
    column_titles: list[str] | None = None,
) -> plt.Figure:
    """One labelled block of images per entry (e.g. sample grids per k), stacked into one picture."""
    blocks = [image_grid(images.detach().cpu(), columns or len(images)) for images in rows.values()]
    width = max(block.shape[1] for block in blocks)
    padded = [np.pad(block, [(0, 0), (0, width - block.shape[1])] + [(0, 0)] * (block.ndim - 2)) for block in blocks]
    picture = np.concatenate(padded)
    labels_width = 0.3 + 0.08 * max(len(label) for label in rows)  # the row labels at 10 pt
    inches_per_pixel = min(0.025 * scale, (MAX_WIDTH - labels_width) / picture.shape[1])
    fig, ax = plt.subplots(
        figsize=(picture.shape[1] * inches_per_pixel + labels_width, picture.shape[0] * inches_per_pixel + 0.5)
    )
    ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    tops = np.cumsum([0] + [block.shape[0] for block in blocks])
    ax.set_yticks((tops[:-1] + tops[1:]) / 2)
    ax.set_yticklabels(list(rows))
    ax.tick_params(length=0)
    if column_titles:
        first = next(iter(rows.values()))
        step = first.shape[-1] + 1  # image_grid's padding is 1 pixel
        ax.set_xticks([step * i + step / 2 for i in range(len(column_titles))])
        ax.set_xticklabels(column_titles)
        ax.xaxis.tick_top()
    else:
        ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout()
    return fig


@styled
def log_panels(
    logs: dict[str, list[dict]],
    keys: list[str],
    titles: dict[str, str],
    ylabel: str | None = None,
    sharey: bool = False,
    panel_width: float = 4.2,
) -> plt.Figure:
    """Training-log entries against images seen: one panel per key (at most three a row, four as a
    square), one line per model."""
    columns = 2 if len(keys) == 4 else min(len(keys), 3)
    rows = -(-len(keys) // columns)
    width = min(MAX_WIDTH, panel_width * columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width, 3.2 * rows), sharey=sharey, squeeze=False)
    for ax in axes.flat[len(keys) :]:
        ax.set_visible(False)
    axes = axes.flat[: len(keys)]
    for ax, key in zip(axes, keys):
        for label, log in logs.items():
            points = [(entry["images_seen"] / 1000, entry[key]) for entry in log if key in entry]
            if points:
                x, y = zip(*points)
                ax.plot(x, y, label=label, linewidth=1)
        ax.set_xlabel("images seen (thousands)")
        ax.set_title(titles.get(key, key))
        ax.grid(alpha=0.3)
    first = axes[0]
    if ylabel:
        first.set_ylabel(ylabel)
    first.legend()
    fig.tight_layout()
    return fig


def training_curves(
    logs: dict[str, list[dict]], keys: tuple[str, ...] = ("loss_G", "loss_D", "r1_penalty")
) -> plt.Figure:
    """Losses against images seen, one panel per key, one line per model."""
    return log_panels(logs, list(keys), LOG_TITLES)


def k_axis(ax: plt.Axes, ks: Iterable[int]) -> None:
    """A log-2 x axis labelled with the sweep's k values themselves."""
    ks = sorted(set(int(k) for k in ks))
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])
    ax.minorticks_off()
    ax.set_xlabel("k (style rows per layer)")


@styled
def sample_quality(quality: list[dict], ks: Iterable[int]) -> plt.Figure:
    """FD-VGG16 of each model's samples against k (one point per model and seed)."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([row["k"] for row in quality], [row["fd_vgg16"] for row in quality], "o", color="tab:blue")
    k_axis(ax, ks)
    ax.set_ylabel("FD-VGG16 of samples ↓")
    ax.grid(alpha=0.3)
    return fig


CONTROL_LABEL = "the control"  # the k = 1 model given as many rows as the largest k at inversion


def _values_by_x(rows: list[dict], x: str, y: str) -> dict[float, list[float]]:
    by_x: dict[float, list[float]] = {}
    for row in rows:
        by_x.setdefault(row[x], []).append(row[y])
    return by_x


def seed_points(
    ax: plt.Axes, rows: list[dict], x: str, y: str, color: str, marker: str, label: str, control: bool = False
) -> None:
    """Every training seed as a faint dot (rows: one per seed and x) and the seed means joined by a
    line; `control` draws hollow markers, set a little to the right of their x (a log axis) so that
    they do not hide the trained model's, and no line."""
    by_x = _values_by_x(rows, x, y)
    xs = sorted(by_x)
    shift = 1.18 if control else 1.0
    dots = [(value * shift, point) for value in xs for point in by_x[value]]
    means = [float(np.mean(by_x[value])) for value in xs]
    hollow = dict(markerfacecolor="white", markeredgewidth=1.5) if control else {}
    ax.plot(
        [d[0] for d in dots],
        [d[1] for d in dots],
        color=color,
        marker=marker,
        linestyle="none",
        alpha=0.4,
        markersize=5,
        **hollow,
    )
    ax.plot(
        [value * shift for value in xs],
        means,
        color=color,
        marker=marker,
        markersize=8,
        label=label,
        linestyle="none" if control else "-",
        **hollow,
    )


@styled
def interpolation_measures(measures: list[dict], ks: Iterable[int], spaces: Iterable[str]) -> plt.Figure:
    """Midpoint FD-VGG16 (and the reconstructions'), mean LPIPS step and evenness of the paths
    against k: every training seed a dot, a line through the seed means per space, and the control
    (trained with k = 1, inverted with the largest k's rows) as hollow markers."""
    ks = list(ks)
    fig, axes = plt.subplots(1, 3, figsize=(MAX_WIDTH, 4.4), layout="constrained")
    panels = (
        ("fd_midpoints", "midpoint FD-VGG16 vs real ↓"),
        ("mean_step_lpips", "mean LPIPS step along the path"),
        ("evenness", "largest / mean step (1 = even)"),
    )
    for space in spaces:
        color, marker = SPACE_STYLE[space]
        trained = [m for m in measures if m["space"] == space and m["trained_k"] == m["k"]]
        control = [m for m in measures if m["space"] == space and m["trained_k"] != m["k"]]
        for ax, (column, _) in zip(axes, panels):
            seed_points(ax, trained, "k", column, color, marker, space)
            if control:
                seed_points(ax, control, "k", column, color, marker, f"{CONTROL_LABEL}, {space}", control=True)
        trained_means = _values_by_x(trained, "k", "fd_endpoints")
        xs = sorted(trained_means)
        axes[0].plot(
            xs, [np.mean(trained_means[k]) for k in xs], color=color, linestyle=":", label=f"{space}: reconstructions"
        )
    for ax, (_, label) in zip(axes, panels):
        k_axis(ax, ks)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
    return fig


SIDE_COLORS = {"k = 1": "tab:gray", "trained": "tab:blue", "control": "tab:red"}


@styled
def trajectory(rows: list[dict]) -> plt.Figure:
    """Editability against reconstruction along the inversions: for each side (k = 1, the largest k,
    the control; W solid, W+ dashed), the mean midpoint score against the mean reconstruction
    LPIPS-VGG at 25, 50, 75 and 100% of the steps (rows of `editability.trajectory_rows`), seed means
    joined in step order and every seed a faint dot; one panel per midpoint measure.  Read at one
    LPIPS: which side's midpoints are more realistic at equal reconstruction quality."""
    table = pd.DataFrame(rows)
    measures = [m for m in ("realism", "confidence") if m in table and table[m].notna().all()]
    fig, axes = plt.subplots(1, len(measures), figsize=(MAX_WIDTH, 4.6), layout="constrained", squeeze=False)
    labels = {"realism": "mean midpoint realism score ↑", "confidence": "mean midpoint classifier confidence ↑"}
    for ax, measure in zip(axes[0], measures):
        for side, part in table.groupby("side", sort=False):
            first = part.iloc[0]
            kind = "control" if first["trained_k"] != first["k"] else ("k = 1" if first["k"] == 1 else "trained")
            color, dashed = SIDE_COLORS[kind], first["space"] == "w+"
            marker = "s" if dashed else "o"
            hollow = dict(markerfacecolor="white", markeredgewidth=1.5) if kind == "control" else {}
            ax.plot(part["lpips"], part[measure], color=color, marker=marker, linestyle="none", alpha=0.3, markersize=4)
            means = part.groupby("fraction")[["lpips", measure]].mean().sort_index()
            ax.plot(
                means["lpips"],
                means[measure],
                color=color,
                marker=marker,
                linestyle="--" if dashed else "-",
                markersize=7,
                label=side,
                **hollow,
            )
            # the first snapshot of each line carries its fraction, the last its end
            for fraction in (means.index[0], means.index[-1]):
                ax.annotate(
                    f"{fraction:.0%}",
                    (means["lpips"][fraction], means[measure][fraction]),
                    textcoords="offset points",
                    xytext=(5, 4),
                    fontsize=8,
                    color=color,
                )
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.2g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%.2g"))
        ax.set_xlabel("mean reconstruction LPIPS-VGG at the snapshot ↓ (log)")
        ax.set_ylabel(labels[measure])
        ax.grid(alpha=0.3)
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
    return fig


@styled
def dose_response(points: list[dict]) -> plt.Figure:
    """D = log(control LPIPS / trained LPIPS) against training images (rows of
    `dose.DoseResponse.points`): every training seed a faint dot, a line through the seed means,
    one colour per space; 0 (equal reconstruction) dashed."""
    table = pd.DataFrame(points)
    fig, ax = plt.subplots(figsize=(MAX_WIDTH * 0.6, 4.2), layout="constrained")
    for space, part in table.groupby("space", sort=False):
        color, marker = SPACE_STYLE[space]
        ax.plot(
            part["images"], part["log_control_over_trained"], color=color, marker=marker, linestyle="none", alpha=0.4
        )
        means = part.groupby("images")["log_control_over_trained"].mean()
        ax.plot(means.index, means.values, color=color, marker=marker, markersize=8, label=space.upper())
    ax.axhline(0, color="black", linestyle="--", linewidth=1)
    ax.set_xticks(sorted(table["images"].unique()), [f"{n // 1000}k" for n in sorted(table["images"].unique())])
    ax.set_xlabel("training images")
    ax.set_ylabel("log(control LPIPS / trained LPIPS)\n(< 0: the control better)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


@styled
def reconstruction_vs(
    rows: list[dict], control: list[dict] | None = None, metrics: Iterable[str] = ("psnr", "ssim", "lpips")
) -> plt.Figure:
    """The central figure: each metric against k (top) and against the number of latent values the
    layers use (bottom), every training seed a dot (its mean over the test images), a line through
    the seed means per space, and the control (`control` rows) as hollow markers."""
    metrics = list(metrics)
    fig, axes = plt.subplots(2, len(metrics), figsize=(MAX_WIDTH, 7.0))
    keys = ["k", "space", "seed", "used_latent_size"]
    per_seed = pd.DataFrame(rows).groupby(keys, sort=False)[metrics].mean().reset_index().to_dict("records")
    per_seed_control = (
        pd.DataFrame(control).groupby(keys, sort=False)[metrics].mean().reset_index().to_dict("records")
        if control
        else []
    )
    for column, metric in enumerate(metrics):
        for space in dict.fromkeys(row["space"] for row in per_seed):
            color, marker = SPACE_STYLE.get(space, ("black", "x"))
            for row_index, x in enumerate(("k", "used_latent_size")):
                ax = axes[row_index, column]
                seed_points(ax, [r for r in per_seed if r["space"] == space], x, metric, color, marker, space)
                part = [r for r in per_seed_control if r["space"] == space]
                if part:
                    seed_points(ax, part, x, metric, color, marker, f"{CONTROL_LABEL}, {space}", control=True)
        k_axis(axes[0, column], (row["k"] for row in per_seed))
        axes[1, column].set_xscale("log")
        axes[1, column].set_xlabel("latent size (free values used)")
        for ax in axes[:, column]:
            ax.set_ylabel(METRIC_LABEL.get(metric, metric))
            ax.grid(alpha=0.3, which="both")
    axes[0, 0].legend()
    fig.tight_layout()
    return fig


@styled
def convergence(
    records: dict[str, dict[str, torch.Tensor]],
    metric: str = "lpips",
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
    ylabel: str | None = None,
) -> plt.Figure:
    """Per-step quantiles of a metric across images, one line (median) and band per run."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for label, record in records.items():
        steps = record["step"].numpy()
        values = record[metric].double()
        q = torch.quantile(values, torch.tensor(quantiles, dtype=torch.float64), dim=1).numpy()
        (line,) = ax.plot(steps, q[len(quantiles) // 2], label=label)
        ax.fill_between(steps, q[0], q[-1], color=line.get_color(), alpha=0.15)
    ax.set_xlabel("optimization step")
    ax.set_ylabel(ylabel or METRIC_LABEL.get(metric, metric))
    ax.set_title(f"median and {quantiles[0]:.0%}–{quantiles[-1]:.0%} quantiles across images")
    if metric in ("lpips", "mse"):
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


@styled
def singular_values(spectra: dict[str, dict[str, torch.Tensor]]) -> plt.Figure:
    """Singular value spectra of the affine layers, one panel per model, one line per layer."""
    fig, axes = plt.subplots(
        1, len(spectra), figsize=(min(MAX_WIDTH, 3.6 * len(spectra)), 3.6), sharey=True, squeeze=False
    )
    for ax, (label, layers) in zip(axes[0], spectra.items()):
        cmap = matplotlib.colormaps["viridis"]
        for index, (name, values) in enumerate(layers.items()):
            ax.plot(
                np.arange(1, len(values) + 1),
                values.numpy(),
                color=cmap(index / max(1, len(layers) - 1)),
                linewidth=1,
                label=name,
            )
        ax.set_yscale("log")
        ax.set_xlabel("index")
        ax.set_title(label)
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("singular value")
    layers = max(len(layers) for layers in spectra.values())
    colors = matplotlib.cm.ScalarMappable(
        matplotlib.colors.Normalize(1, max(2, layers)), matplotlib.colormaps["viridis"]
    )
    fig.colorbar(colors, ax=axes[0, -1], label="layer (first → last)")
    fig.tight_layout()
    return fig


def distance_from_init(logs: dict[str, list[dict]], groups: tuple[str, ...] = tuple(MODULE_GROUP_NAMES)) -> plt.Figure:
    """Median relative distance of each module group's weights from their initialization against
    images seen (the `drift_*` entries of training logs), one panel per group, one line per model."""
    return log_panels(
        logs,
        [f"drift_{group}" for group in groups],
        {f"drift_{group}": MODULE_GROUP_NAMES.get(group, group) for group in groups},
        ylabel="‖w − w₀‖ / ‖w₀‖ (median)",
        sharey=True,
        panel_width=3.6,
    )


READABLE_NAMES = {"fd_vgg16": "FD-VGG16", "kid": "KID", "psnr": "PSNR (dB)", "ssim": "SSIM", "lpips": "LPIPS-VGG"}


def readable_name(name: object) -> object:
    """A column or row name for readers: 'images_seen' -> 'images seen', 'fd_vgg16' -> 'FD-VGG16'
    (anything not a string is left alone)."""
    if not isinstance(name, str):
        return name
    return READABLE_NAMES.get(name, name.replace("_", " "))


def table(
    rows: list[dict] | pd.DataFrame,
    digits: int = 3,
    index: bool = False,
    caption: str = "",
    names: dict[str, str] | None = None,
) -> pd.io.formats.style.Styler:
    """A table for a page: integers as integers, other numbers to `digits` significant digits, missing values
    blank, no row numbers unless `index` (a meaningful index, e.g. after set_index), columns renamed
    by `names` (column -> heading) and code names made readable (`readable_name`), yes/no for booleans,
    and `caption` above it."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    frame = frame.rename(columns=names or {}).rename(columns=readable_name, index=readable_name)
    # Python's True/False are not words a reader uses
    frame = frame.map(lambda value: ("yes" if value else "no") if isinstance(value, bool | np.bool_) else value)
    for column in frame.columns:  # integers with gaps arrive as floats with NaN: show them as integers
        values = frame[column]
        if pd.api.types.is_float_dtype(values) and values.isna().any() and (values.dropna() % 1 == 0).all():
            frame[column] = values.astype("Int64")
    styled = frame.style.format(
        lambda value: f"{value:.{decimals(value, digits)}f}" if isinstance(value, float | np.floating) else str(value),
        na_rep="",
    )
    if caption:
        styled = styled.set_caption(caption)
    return styled if index else styled.hide(axis="index")


def readable_summary(
    summary: list[dict], metrics: tuple[str, ...] = ("psnr", "ssim", "lpips"), digits: int = 3
) -> list[dict]:
    """A `summarize` table for a page: one "mean ± sd" column per metric, column names in words."""
    rows = []
    for row in summary:
        shown = {readable_name(key): value for key, value in row.items() if not key.endswith(("_mean", "_std"))}
        for metric in metrics:
            mean, spread = row[f"{metric}_mean"], row[f"{metric}_std"]
            shown[METRIC_NAMES.get(metric, metric)] = mean_and_spread(mean, spread, digits)
        rows.append(shown)
    return rows


def mean_and_spread(mean: float, spread: float, digits: int = 3) -> str:
    """'18.0 ± 3.0', '0.446 ± 0.054': the spread to two significant digits and the mean to the same
    place (a spread of 0, or a missing one, shows the mean to `digits` significant digits)."""
    if not math.isfinite(spread) or spread <= 0:
        places = decimals(mean, digits)
    else:
        places = max(0, 1 - math.floor(math.log10(spread)))
    return f"{mean:.{places}f} ± {spread:.{places}f}"


def decimals(value: float, digits: int = 3) -> int:
    """How many decimals show `value` to `digits` significant digits (none for large numbers)."""
    if not math.isfinite(value) or value == 0:
        return digits - 1
    return max(0, digits - 1 - math.floor(math.log10(abs(value))))


def _forest_row(
    ax: plt.Axes, row: dict, y: float, limit: float, band: float, tick: tuple[float, float], marker: tuple[str, float]
) -> str:
    """One forest row at height `y`: the ± tolerance band (half height `band`), the edge the
    interval's low end must clear (a tick of half height and width `tick`), and the interval with its
    estimate (`marker`: style and size) in the verdict's colour, clipped to ± `limit`.  Returns the
    colour."""
    value, low, high, tolerance = findings.forest_position(row)
    color = findings.VERDICT_COLORS.get(row["verdict"], "black")
    ax.add_patch(plt.Rectangle((-tolerance, y - band), 2 * tolerance, 2 * band, color="0.88", zorder=0))
    edge = findings.forest_bar(row)
    ax.plot([edge, edge], [y - tick[0], y + tick[0]], color="0.15", lw=tick[1], zorder=1)
    shown = [min(max(end, -limit), limit) for end in (low, value, high)]
    ax.plot([shown[0], shown[2]], [y, y], color=color, lw=2)
    ax.plot([shown[1]], [y], marker=marker[0], color=color, ms=marker[1])
    return color


@styled
def headline_forest(rows: list[dict]) -> plt.Figure:
    """The first page's forest: a handful of rows (`findings.headline_rows`), one panel each with the
    row's name and verdict above its bar, drawn for a phone's ~372-px column (4 inches at 100 dpi:
    its 10-pt text stays ≥ 9 px there) so that it reads the same on a desktop."""
    limit = 50.0
    names = [textwrap.wrap(findings.label(row, short=True), 32, break_on_hyphens=False) for row in rows]
    fig, axes = plt.subplots(
        len(rows),
        1,
        figsize=(4.0, sum(0.42 + 0.17 * len(lines) for lines in names) + 0.6),
        sharex=True,
        gridspec_kw={"height_ratios": [0.42 + 0.17 * len(lines) for lines in names]},
        layout="constrained",
        squeeze=False,
    )
    for ax, row, lines in zip(axes[:, 0], rows, names):
        color = _forest_row(ax, row, 0.0, limit, band=0.5, tick=(0.6, 1.5), marker=("o", 5))
        ax.axvline(0, color="0.4", lw=0.8)
        ax.set_title("\n".join(lines), loc="left", fontsize=10)
        ax.set_title(row["verdict"], loc="right", fontsize=10, color=color, weight="bold")
        ax.set_ylim(-0.7, 0.7)
        ax.set_yticks([])
        for spine in ("top", "right", "left"):
            ax.spines[spine].set_visible(False)
    ax = axes[-1, 0]
    ax.set_xscale("symlog", linthresh=2)
    ax.set_xlim(-limit, limit)
    ticks_x = [-10, -2, 0, 2, 10]
    ax.set_xticks(ticks_x)
    ax.set_xticklabels([f"{t:g}".replace("-", "−") for t in ticks_x])
    ax.set_xlabel("improvement ÷ tolerance\n(> 0: the paper's side is better)")
    return fig


@styled
def forest(rows: list[dict]) -> plt.Figure:
    """Every claim's improvement and 95% interval, in units of its tolerance (a symmetric log axis:
    linear within ±2 tolerances), grouped like the claims table; the shaded band is ± the tolerance
    (a bar judged against a fixed threshold sits at 0), and colour and marker say the verdict."""
    limit = 50.0
    groups = findings.grouped(rows)
    lines = sum(len(chosen) + 1 for _, chosen in groups)
    fig, ax = plt.subplots(figsize=(9.5, 0.3 * lines + 1.2))
    markers = {"agrees": "o", "contradicted": "X", "no material gain": "D", "inconclusive": "s"}
    if any(row["verdict"] == stats.NOT_TESTABLE for row in rows):
        markers[stats.NOT_TESTABLE] = "."
    y, ticks, labels, headers = 0.0, [], [], []
    for title, chosen in groups:
        ticks.append(y)
        labels.append(title)
        headers.append(len(labels) - 1)
        y -= 1
        for row in chosen:
            _forest_row(ax, row, y, limit, band=0.4, tick=(0.45, 1.2), marker=(markers.get(row["verdict"], "o"), 6))
            ticks.append(y)
            labels.append(findings.label(row, short=True))
            y -= 1
    ax.set_xscale("symlog", linthresh=2)
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels)
    for index in headers:
        ax.get_yticklabels()[index].set_fontweight("bold")
    ax.set_ylim(y + 0.4, 0.6)
    ax.set_xlim(-limit, limit)
    ticks_x = [-50, -10, -2, -1, 0, 1, 2, 10, 50]
    ax.set_xticks(ticks_x)
    ax.set_xticklabels([f"{t:g}".replace("-", "−") for t in ticks_x])
    ax.set_xlabel("improvement ÷ tolerance  (> 0: the paper's side is better)")
    handles = [
        plt.Line2D([], [], color=findings.VERDICT_COLORS[v], marker=m, lw=2, label=v) for v, m in markers.items()
    ] + [plt.Line2D([], [], color="0.15", marker="|", ms=10, lw=0, label="the bar (low end must clear)")]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=4 if len(handles) <= 4 else 3,
        frameon=False,
    )
    ax.tick_params(axis="both", length=2)
    ax.grid(axis="x", color="0.93", lw=0.6)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    return fig

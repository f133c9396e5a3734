"""The book's figures (matplotlib): each function draws one figure and returns it."""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from opgan.files import image_grid

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
    inches_per_pixel = 0.025 * scale
    fig, ax = plt.subplots(
        figsize=(picture.shape[1] * inches_per_pixel + 1.4, picture.shape[0] * inches_per_pixel + 0.5)
    )
    ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    tops = np.cumsum([0] + [block.shape[0] for block in blocks])
    ax.set_yticks((tops[:-1] + tops[1:]) / 2)
    ax.set_yticklabels(list(rows), fontsize=9)
    ax.tick_params(length=0)
    if column_titles:
        first = next(iter(rows.values()))
        step = first.shape[-1] + 1  # image_grid's padding is 1 pixel
        ax.set_xticks([step * i + step / 2 for i in range(len(column_titles))])
        ax.set_xticklabels(column_titles, fontsize=8)
        ax.xaxis.tick_top()
    else:
        ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.tight_layout()
    return fig


def log_panels(
    logs: dict[str, list[dict]],
    keys: list[str],
    titles: dict[str, str],
    ylabel: str | None = None,
    sharey: bool = False,
    panel_width: float = 4.2,
) -> plt.Figure:
    """Training-log entries against images seen: one panel per key, one line per model."""
    fig, axes = plt.subplots(1, len(keys), figsize=(panel_width * len(keys), 3.2), sharey=sharey)
    for ax, key in zip(np.atleast_1d(axes), keys):
        for label, log in logs.items():
            points = [(entry["images_seen"] / 1000, entry[key]) for entry in log if key in entry]
            if points:
                x, y = zip(*points)
                ax.plot(x, y, label=label, linewidth=1)
        ax.set_xlabel("images seen (thousands)")
        ax.set_title(titles.get(key, key), fontsize=10)
        ax.grid(alpha=0.3)
    first = np.atleast_1d(axes)[0]
    if ylabel:
        first.set_ylabel(ylabel)
    first.legend(fontsize=7)
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


def metric_bars(
    rows: list[dict], x: str, metric: str, label: str, ax: plt.Axes | None = None, log_x: bool = False
) -> plt.Axes:
    """Mean ± std of one metric against `x`, a line per space (rows from `stats.summarize`)."""
    ax = ax or plt.gca()
    for space in dict.fromkeys(row["space"] for row in rows):
        part = sorted((row for row in rows if row["space"] == space), key=lambda row: row[x])
        color, marker = SPACE_STYLE.get(space, ("black", "x"))
        ax.errorbar(
            [row[x] for row in part],
            [row[f"{metric}_mean"] for row in part],
            yerr=[row[f"{metric}_std"] for row in part],
            label=space,
            color=color,
            marker=marker,
            capsize=3,
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel(METRIC_LABEL.get(metric, metric))
    ax.grid(alpha=0.3, which="both")
    return ax


def sample_quality(quality: list[dict], ks: Iterable[int]) -> plt.Figure:
    """FD-VGG16 of each model's samples against k (one point per model and seed)."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([row["k"] for row in quality], [row["fd_vgg16"] for row in quality], "o", color="tab:blue")
    k_axis(ax, ks)
    ax.set_ylabel("FD-VGG16 of samples ↓")
    ax.grid(alpha=0.3)
    return fig


def interpolation_measures(measures: list[dict], ks: Iterable[int], spaces: Iterable[str]) -> plt.Figure:
    """Midpoint and reconstruction FD-VGG16, mean LPIPS step and evenness of the paths against k,
    for the models trained with their k (seed 0), a line per space."""
    ks = list(ks)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for space in spaces:
        part = [m for m in measures if m["space"] == space and m["trained_k"] == m["k"] and m["seed"] == 0]
        color, marker = SPACE_STYLE[space]
        axes[0].plot(
            [m["k"] for m in part],
            [m["fd_midpoints"] for m in part],
            marker=marker,
            color=color,
            label=f"{space}: midpoints",
        )
        axes[0].plot(
            [m["k"] for m in part],
            [m["fd_endpoints"] for m in part],
            marker=marker,
            color=color,
            linestyle=":",
            label=f"{space}: reconstructions",
        )
        axes[1].plot(
            [m["k"] for m in part], [m["mean_step_lpips"] for m in part], marker=marker, color=color, label=space
        )
        axes[2].plot([m["k"] for m in part], [m["evenness"] for m in part], marker=marker, color=color, label=space)
    for ax, label in zip(
        axes, ("FD-VGG16 vs real ↓", "mean LPIPS step along the path", "largest / mean step (1 = even)")
    ):
        k_axis(ax, ks)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def reconstruction_vs(summary: list[dict], metrics: Iterable[str] = ("psnr", "ssim", "lpips")) -> plt.Figure:
    """The central figure: each metric against k and against the used latent size (log axes)."""
    metrics = list(metrics)
    fig, axes = plt.subplots(2, len(metrics), figsize=(4.2 * len(metrics), 6.4))
    for column, metric in enumerate(metrics):
        metric_bars(summary, "k", metric, "k (style rows per layer)", axes[0, column])
        k_axis(axes[0, column], (row["k"] for row in summary))
        metric_bars(summary, "used_latent_size", metric, "latent size (free values used)", axes[1, column], log_x=True)
    axes[0, 0].legend(title="space")
    fig.tight_layout()
    return fig


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
    ax.set_title(f"median and {quantiles[0]:.0%}–{quantiles[-1]:.0%} quantiles across images", fontsize=10)
    if metric in ("lpips", "mse"):
        ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def singular_values(spectra: dict[str, dict[str, torch.Tensor]]) -> plt.Figure:
    """Singular value spectra of the affine layers, one panel per model, one line per layer."""
    fig, axes = plt.subplots(1, len(spectra), figsize=(5 * len(spectra), 3.6), sharey=True, squeeze=False)
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
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("singular value")
    axes[0, -1].legend(fontsize=6, ncol=2)
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


def table(rows: list[dict] | pd.DataFrame, digits: int = 3, index: bool = False) -> pd.io.formats.style.Styler:
    """A table for a page: integers as integers, other numbers to `digits` decimals, missing values
    blank, and no row numbers unless `index` (a meaningful index, e.g. after set_index)."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    for column in frame.columns:  # integers with gaps arrive as floats with NaN: show them as integers
        values = frame[column]
        if pd.api.types.is_float_dtype(values) and values.isna().any() and (values.dropna() % 1 == 0).all():
            frame[column] = values.astype("Int64")
    styled = frame.style.format(precision=digits, na_rep="", thousands=None)
    return styled if index else styled.hide(axis="index")


def readable_summary(
    summary: list[dict], metrics: tuple[str, ...] = ("psnr", "ssim", "lpips"), digits: int = 3
) -> list[dict]:
    """A `summarize` table for a page: one "mean ± sd" column per metric, column names in words."""
    rows = []
    for row in summary:
        shown = {key.replace("_", " "): value for key, value in row.items() if not key.endswith(("_mean", "_std"))}
        for metric in metrics:
            shown[METRIC_NAMES.get(metric, metric)] = (
                f"{row[f'{metric}_mean']:.{digits}f} ± {row[f'{metric}_std']:.{digits}f}"
            )
        rows.append(shown)
    return rows

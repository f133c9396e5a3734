"""The book: the reproduction pipeline (run every notebook with papermill at a scale, then build
the book) and the prose its pages share (each scale's settings in words, what is not reproduced).

The top-level ``_config.yml`` says which notebooks run with which parameters at each scale.
Executed notebooks land in the output folder (``book/`` for the book itself) with their outputs;
a notebook error, or a figure cell without a figure, stops the pipeline with the notebook's name.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from opgan.errors import OpganError
from opgan.networks import ModelConfig
from opgan.presets import preset_row
from opgan.study.progress import Progress, duration

FIGURE_ASSIGNMENT = re.compile(r"^\s*fig\b[^=\n]*=", re.MULTILINE)  # `fig = ...` or `fig, axes = ...`
STATIC = ("_config.yml", "_toc.yml", "*.md", "images", "_static", "references.bib")


# The kernels talk to papermill over encrypted sockets where jupyter_client and ipykernel can (an
# unencrypted one makes every kernel print a warning on the terminal; older versions ignore this).
KERNEL_CONFIG = {"KernelManager": {"transport_encryption": "auto"}}


class PipelineError(OpganError, RuntimeError):
    """A notebook failed or produced no figure where one was expected."""


def load_reproduction(path: str | os.PathLike = "_config.yml") -> dict:
    """The reproduction declared in the top-level ``_config.yml``, checked."""
    import yaml  # the book extra; the rest of opgan runs without it

    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path} not found: run from the repository root or pass --config")
    spec = yaml.safe_load(path.read_text()) or {}
    for key in ("book", "notebooks", "scales"):
        if key not in spec:
            raise PipelineError(f"{path} has no '{key}' entry")
    return spec


def notebook_parameters(spec: dict, scale: str, name: str, declared: set[str], extra: dict) -> dict:
    """The parameters a notebook gets at a scale: common ones it declares, then its own, then `extra`."""
    if scale not in spec["scales"]:
        raise PipelineError(f"unknown scale {scale!r}; the reproduction declares {', '.join(spec['scales'])}")
    entry = spec["scales"][scale]
    merged = {**entry.get("parameters", {}), **entry.get("notebooks", {}).get(name, {}), **extra}
    return {key: value for key, value in merged.items() if key in declared}


def missing_figures(notebook: dict) -> list[int]:
    """Indices of code cells that assign a figure (``fig = ...``) but show no image."""
    missing = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or not FIGURE_ASSIGNMENT.search("".join(cell["source"])):
            continue
        images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        printed = [o for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stdout"]
        if not images and not printed:  # a cell may print why it skipped its figure instead
            missing.append(index)
    return missing


def run_notebooks(
    scale: str,
    out: str | os.PathLike | None = None,
    config: str | os.PathLike = "_config.yml",
    only: list[str] | None = None,
    kernel: str = "python3",
    starting: Callable[[str, dict], None] | None = None,
    overrides: dict | None = None,
    events: str | os.PathLike | None = None,
) -> list[Path]:
    """Executes the notebooks of a scale into `out` (default: the book folder); returns their paths.
    `starting(name, parameters)` is called before each notebook runs (the CLI prints it); `overrides`
    replace parameters of every notebook that declares them (e.g. another checkpoints folder).  A
    progress line on stderr follows the pages' work (`progress.Progress`); `events` keeps its events
    file (default: a temporary one)."""
    import nbformat
    import papermill
    from traitlets.config import Config

    config = Path(config).resolve()
    root = config.parent
    spec = load_reproduction(config)
    book = root / spec["book"]
    out = Path(out).resolve() if out else book
    prepare_output(book, out)
    where = os.path.relpath(out, root) if out.is_relative_to(root) else str(out)  # no machine paths in committed pages
    extra = {"results": os.path.join(where, "results"), "cache": os.path.join(where, "_cache"), **(overrides or {})}
    names = only or spec["notebooks"]
    unknown = sorted(set(names) - set(spec["notebooks"]))
    if unknown:
        raise PipelineError(f"unknown notebooks {unknown}; the reproduction has {spec['notebooks']}")
    executed = []
    with (
        tempfile.TemporaryDirectory(prefix="opgan-progress-") as folder,
        Progress(Path(folder) / "events.jsonl") as shown,
    ):
        for name in names:
            source = root / "notebooks" / f"{name}.ipynb"
            declared = set(papermill.inspect_notebook(str(source)))
            parameters = notebook_parameters(spec, scale, name, declared, extra)
            target = out / f"{name}.ipynb"
            shown.end_line()
            shown.begin(name)
            if starting is not None:
                starting(name, parameters)
            began = time.perf_counter()
            try:
                with quiet_progress_bars():
                    papermill.execute_notebook(
                        str(source),
                        str(target),
                        parameters=parameters,
                        cwd=str(root),
                        kernel_name=kernel,
                        progress_bar=False,
                        config=Config(KERNEL_CONFIG),
                    )
            except papermill.PapermillExecutionError as error:
                raise PipelineError(
                    f"{name} failed in cell {error.exec_count}: {error.ename}: {error.evalue} (see {target})"
                ) from None
            shown.poll()
            shown.show(force=True)
            shown.end_line()
            print(f"{name}: {duration(time.perf_counter() - began)}", file=sys.stderr, flush=True)
            executed_notebook = nbformat.read(target, as_version=4)
            missing = missing_figures(executed_notebook)
            if missing:
                raise PipelineError(f"{name}: figure cells {missing} produced no figure (see {target})")
            fold_injected_parameters(executed_notebook)
            nbformat.write(executed_notebook, target)
            executed.append(target)
    return executed


@contextlib.contextmanager
def quiet_progress_bars():
    """No progress bars in executed pages: the kernels inherit TQDM_DISABLE (restored afterwards)."""
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TQDM_DISABLE")
        else:
            os.environ["TQDM_DISABLE"] = previous


def fold_injected_parameters(notebook: dict) -> None:
    """The page shows the parameters it ran with once, folded: papermill's injected cell is hidden
    behind a toggle and the notebook's own defaults (tagged remove-cell in the sources) are gone."""
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "hide-cell" not in tags:
            cell["metadata"]["tags"] = [*tags, "hide-cell"]


def prepare_output(book: Path, out: Path) -> None:
    """Copies the book's static pages and configuration into `out` when it is not the book folder."""
    out.mkdir(parents=True, exist_ok=True)
    if out == book:
        return
    for pattern in STATIC:
        for path in book.glob(pattern):
            target = out / path.name
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True)
            else:
                shutil.copy2(path, target)


def build_book(folder: str | os.PathLike) -> Path:
    """Runs ``jupyter-book build`` on `folder` (notebooks are not re-executed); returns the index page."""
    folder = Path(folder)
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [str(executable) if executable.exists() else "jupyter-book", "build", str(folder)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise PipelineError(f"jupyter-book build failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    index = folder / "_build" / "html" / "index.html"
    if not index.is_file():
        raise PipelineError(f"jupyter-book build wrote no {index}")
    return index


# ---------------------------------------------------------------------------- page prose

# What no scale of opgan reproduces of the authors' training, and why (said on every book page).
NOT_REPRODUCED = (
    "ADA augmentation (only x-flips, and only where a preset turns them on)",
    "StyleGAN2's FIR resampling with its border padding (bilinear resampling: the same [1,3,3,1] "
    "filter away from the borders)",
    "per-pixel noise inputs (off, as in the authors' final runs)",
)
LPIPS_NAMES = {"alex": "LPIPS-AlexNet", "vgg": "LPIPS-VGG", None: "no LPIPS"}


def describe_scale(scale: str) -> dict[str, str]:
    """The settings a reader compares between scales, as words: data, model, training, inversion."""
    spec = preset_row(scale)
    model, train, invert = ModelConfig(**{**spec["model"], "k": 1}), spec["train"], spec["invert"]
    generator, discriminator = model.channel_max, model.d_channel_max or model.channel_max
    loss = LPIPS_NAMES[invert["lpips_net"]] + (f" + {invert['mse_weight']:g} × MSE" if invert["mse_weight"] else "")
    return {
        "data": f"{spec['dataset']}, {model.resolution}×{model.resolution} px, "
        f"{'RGB' if model.img_channels == 3 else 'grayscale'}" + (", x-flips" if train["xflip"] else ""),
        "model": f"up to {generator} channels (discriminator {discriminator}), w = {model.w_dim}, "
        f"{model.mapping_layers} mapping layers, "
        f"mapping / affine lr × {model.mapping_lr_mul:g} / {model.affine_lr_mul:g}",
        "training": f"{train['total_images']:,} images, batch {train['batch']}, "
        f"style mixing {train['style_mixing']:g}, "
        f"path length weight {train['pl_weight']:g}, R1 γ {train['r1_gamma']:g} (k = 1) / {train['r1_gamma_rows']:g}",
        "inversion": f"{loss}, Adam lr {invert['lr']:g}, {invert['steps']} steps",
    }


def scale_notice(scale: str) -> str:
    """Markdown for the top of a book page: the scale it ran at in one sentence (read from PRESETS)
    and a link to the one settings table, beside the paper's, on the results page."""
    ours = describe_scale(scale)
    images = preset_row(scale)["train"]["total_images"]
    return (
        f"This page ran at the `{scale}` scale: {ours['data']}; trained on {images:,} images; "
        f"inverted with {ours['inversion']}. Every setting beside the paper's, and what no scale reproduces: "
        "{ref}`the settings table <settings>`."
    )

"""Writing results safely: atomic files, image grids, provenance records."""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import math
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from PIL import Image

PACKAGE_ROOT = Path(__file__).resolve().parent


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` only if the block succeeds.

    A crash or Ctrl-C while writing leaves the previous file intact instead of a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        os.chmod(temp, 0o644)  # mkstemp makes owner-only files; results are meant to be shared
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as temp:
        temp.write_text(text)


def write_json(path: str | os.PathLike, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_csv(path: str | os.PathLike, rows: list[dict], columns: list[str] | None = None) -> None:
    """Writes dicts as CSV (atomically): floats to 6 significant digits, missing values empty,
    columns in first-seen order unless given."""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: f"{value:.6g}" if isinstance(value, float) else value for key, value in row.items()} for row in rows)
    write_text(path, buffer.getvalue())


def torch_save(obj: Any, path: str | os.PathLike) -> None:
    with atomic_path(path) as temp:
        torch.save(obj, temp)


def image_grid(images: torch.Tensor, columns: int | None = None, padding: int = 1) -> np.ndarray:
    """float [-1, 1] or uint8 images [N, C, H, W] -> one HxW(x3) uint8 array, row-major."""
    if images.dtype != torch.uint8:
        images = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    images = images.cpu()
    count, channels, height, width = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    grid = torch.zeros(channels, rows * (height + padding) + padding, columns * (width + padding) + padding, dtype=torch.uint8)
    for index in range(count):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[:, top : top + height, left : left + width] = images[index]
    array = grid.numpy()
    return array[0] if channels == 1 else array.transpose(1, 2, 0)


def save_image_grid(
    images: torch.Tensor, path: str | os.PathLike, columns: int | None = None, scale: int = 1, padding: int = 1
) -> None:
    """Saves a grid of images as PNG (atomically); `scale` enlarges small images with nearest pixels."""
    picture = Image.fromarray(image_grid(images, columns, padding))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    with atomic_path(path) as temp:
        picture.save(temp, format="PNG")


def code_version() -> str:
    """`git describe` of the checkout the package runs from (``-dirty`` when tracked files other than
    the outputs in book/ and checkpoints/ changed), else the installed package version."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=10)

    try:
        described = git("describe", "--always", "--abbrev=12")
        if described.returncode == 0 and described.stdout.strip():
            # a book build rewrites the executed notebooks it is recording the provenance of
            changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)book", ":(exclude)checkpoints")
            return described.stdout.strip() + ("-dirty" if changed.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    from opgan import __version__

    return f"opgan-{__version__}"


def device_description(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def provenance(device: torch.device | str = "cpu", **extra: Any) -> dict:
    """What produced a result: code and package versions, device, time, plus the caller's fields."""
    return {
        "code_version": code_version(),
        "torch": str(torch.__version__),
        "python": platform.python_version(),
        "device": device_description(device),
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }

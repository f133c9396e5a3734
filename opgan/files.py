"""Writing results safely: atomic files (text, JSON, CSV tables, tensors) and image grids.

A write that fails (a full disk, a folder that cannot be written) raises `WriteError` naming the
file, the space it needed where known and the space left; the file it would have replaced is intact.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from opgan.errors import OpganError


class WriteError(OpganError, OSError):
    """A file could not be written (its previous version, if any, is intact); the message says which,
    why, and how much space it needed and had."""

    exit_code = 1  # a failure of the machine, not of the command line

    def __init__(self, message: str, number: int | None = None) -> None:
        super().__init__(message)
        self.errno = number  # e.g. errno.ENOSPC


def free_space(folder: str | os.PathLike) -> int | None:
    """Bytes available to this user in `folder` (None when it cannot be told)."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def size_text(count: int | None) -> str:
    """'3.2 MB' (decimal units), or 'an unknown amount'."""
    if count is None:
        return "an unknown amount"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return ""


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
    except OSError as error:
        if isinstance(error, WriteError):
            raise
        raise WriteError(
            f"could not write {path} ({error.strerror or error}); {size_text(free_space(path.parent))} free there",
            error.errno,
        ) from None
    finally:
        if temp.exists():
            temp.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as temp:
        temp.write_text(text)


def write_json(path: str | os.PathLike, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_csv(path: str | os.PathLike, rows: list[dict], columns: list[str] | None = None) -> None:
    """Writes dicts as CSV (atomically): floats to 6 significant digits, missing values (and NaN) empty,
    columns in first-seen order unless given."""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()

    def cell(value: Any) -> Any:
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.6g}"
        return value

    writer.writerows({key: cell(value) for key, value in row.items()} for row in rows)
    write_text(path, buffer.getvalue())


def torch_save(obj: Any, path: str | os.PathLike) -> None:
    """Saves `obj` with torch.save (atomically).  It is serialized in memory first, so that a full
    disk is a plain OSError with the size needed instead of an error inside torch's zip writer."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getbuffer()
    try:
        with atomic_path(path) as temp:
            temp.write_bytes(data)
    except WriteError as error:
        raise WriteError(f"{error}; it needs {size_text(len(data))}", error.errno) from None


def image_grid(images: torch.Tensor, columns: int | None = None, padding: int = 1) -> np.ndarray:
    """float [-1, 1] or uint8 images [N, C, H, W] -> one HxW(x3) uint8 array, row-major, black
    padding (torchvision's make_grid, with `columns` kept even when there are fewer images)."""
    from torchvision.utils import make_grid

    from opgan.data import to_uint8

    images = (images if images.dtype == torch.uint8 else to_uint8(images)).cpu()
    count, channels = images.shape[:2]
    columns = columns or math.ceil(math.sqrt(count))
    if count < columns:  # make_grid narrows the grid to the images it has
        images = torch.cat([images, images.new_zeros(columns - count, *images.shape[1:])])
    grid = make_grid(images, nrow=columns, padding=padding, pad_value=0)
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

"""Compute once: inversions and values the book reuses while nothing they depend on has changed.

A cached inversion is a results folder (`opgan.results`) with ``cache-key.json`` beside it; a
cached value is a torch file with ``NAME.key.json``.  A key holds the settings and the hashes of
the model file, of the target pixels and of the code that computes the result, and is written
last, so an interrupted computation is never mistaken for a finished one.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from opgan.data import ImageSet
from opgan.environment import PACKAGE_ROOT
from opgan.files import torch_save, write_json
from opgan.invert import InversionConfig
from opgan.networks import Generator
from opgan.results import invert_to_folder

# How many cached results this process read back and computed (pages record it in their provenance).
USE = {"reused": 0, "computed": 0}

CACHE_KEY = "cache-key.json"


# The package modules whose code computes what a results folder holds: a change to any of them
# makes every cached inversion stale.
INVERSION_SOURCES = ("invert.py", "networks.py", "metrics.py", "results.py", "files.py", "data.py", "study/cache.py")


SOURCE_ROOT = PACKAGE_ROOT


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_hash(names: tuple[str, ...] = INVERSION_SOURCES) -> str:
    """One hash of the named package source files (their names and bytes)."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + (Path(SOURCE_ROOT) / name).read_bytes() + b"\0")
    return digest.hexdigest()


def cached_inversion(
    G: Generator,
    targets: ImageSet,
    cfg: InversionConfig,
    out: str | os.PathLike,
    label: str,
    checkpoint: str | os.PathLike,
    batch: int = 16,
    progress: bool = False,
) -> tuple[Path, bool]:
    """The results folder ``out/label`` of inverting `targets`: read back when its cache key matches,
    else computed; returns the folder and whether it was reused.

    The key holds the settings and the hashes of the model file, of the target pixels and of the
    code that computes the result (INVERSION_SOURCES), so a retrained model (same path, new
    weights), changed images or changed inversion code are inverted again; it is written last, so
    an interrupted inversion is never mistaken for a finished one.
    """
    folder = Path(out) / label
    key = {
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": file_sha256(checkpoint),
        "images": targets.source,
        "images_sha256": tensor_sha256(targets.images),
        "count": len(targets),
        "inversion": cfg.to_dict(),
        "model": G.cfg.to_dict(),
        "code_sha256": source_hash(),
    }
    if key_matches(folder / CACHE_KEY, key):
        USE["reused"] += 1
        return folder, True
    (folder / CACHE_KEY).unlink(missing_ok=True)
    invert_to_folder(G, targets, cfg, folder, batch=batch, checkpoint=checkpoint, progress=progress)
    write_json(folder / CACHE_KEY, key)
    USE["computed"] += 1
    return folder, False


def key_matches(path: str | os.PathLike, key: dict) -> bool:
    """Whether the cache key file `path` holds `key` (as JSON would write it back)."""
    try:
        return json.loads(Path(path).read_text()) == json.loads(json.dumps(key))
    except (OSError, ValueError):
        return False


def cached_value(path: str | os.PathLike, key: dict, compute: Callable[[], Any]) -> tuple[Any, bool]:
    """`compute()`'s value (tensors, or lists and dicts of them), kept at `path` with its key beside it
    (``path`` + ``.key.json``) and read back while the key matches; returns it and whether it was
    reused.  As for inversions, the key is written last, so an interrupted write is never reused."""
    path = Path(path)
    key_file = path.with_name(path.name + ".key.json")
    if key_matches(key_file, key):
        try:
            value = torch.load(path, map_location="cpu", weights_only=True)
            USE["reused"] += 1
            return value, True
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError):  # the value is gone or broken: computed again
            pass
    key_file.unlink(missing_ok=True)
    value = compute()
    torch_save(value, path)
    write_json(key_file, key)
    USE["computed"] += 1
    return value, False


def file_sha256(path: str | os.PathLike) -> str:
    return _sha256(Path(path).read_bytes())


def tensor_sha256(values: torch.Tensor) -> str:
    return _sha256(values.detach().cpu().contiguous().numpy().tobytes())

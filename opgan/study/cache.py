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
import time
import warnings
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
from opgan.study import progress

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


class DamagedCache(UserWarning):
    """A cached result whose files are missing or changed since it was written: computed again."""


def verifiable_files(folder: Path) -> list[Path]:
    """The files of an inversion folder its key vouches for: all but the key and the cached values
    kept beside it (each with its own key)."""
    files = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == CACHE_KEY or path.name.endswith(".key.json"):
            continue
        if path.with_name(path.name + ".key.json").exists():
            continue
        files.append(path)
    return files


def manifest(folder: Path, files: list[Path]) -> dict[str, list]:
    """{relative path: [size, sha256]} of `files` under `folder`."""
    return {str(path.relative_to(folder)): [path.stat().st_size, file_sha256(path)] for path in files}


def damage(folder: Path, files: dict[str, list] | None) -> str | None:
    """What is wrong with the files a key vouches for, in words (None when nothing is)."""
    if files is None:
        return "its key lists no files"
    for name, (size, digest) in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != size:
            return f"{name} has {path.stat().st_size:,} bytes, {size:,} when written"
        if file_sha256(path) != digest:
            return f"{name} changed since it was written"
    return None


def _without_hashes(stored: dict) -> dict:
    """A stored key without the file hashes it vouches with: what it was computed from."""
    return {name: value for name, value in stored.items() if name not in ("files", "file")}


def _stored(path: Path, key: dict) -> dict | None:
    """The key file at `path` when it holds `key` (its file hashes aside), else None."""
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return stored if _without_hashes(stored) == json.loads(json.dumps(key)) else None


def _used(name: str, computed: bool, start: float) -> None:
    """Counts a cache entry read back or computed (since `start`) and reports it to the progress line."""
    USE["computed" if computed else "reused"] += 1
    progress.done(name, computed=computed, seconds=time.perf_counter() - start if computed else 0.0)


def cached_inversion(
    G: Generator,
    targets: ImageSet,
    cfg: InversionConfig,
    out: str | os.PathLike,
    label: str,
    checkpoint: str | os.PathLike,
    batch: int = 16,
    show_progress: bool = False,
) -> tuple[Path, bool]:
    """The results folder ``out/label`` of inverting `targets`: read back when its cache key matches
    and its files are whole, else computed; returns the folder and whether it was reused.

    The key holds the settings and the hashes of the model file, of the target pixels and of the
    code that computes the result (INVERSION_SOURCES), so a retrained model (same path, new
    weights), changed images or changed inversion code are inverted again; and the size and hash
    of every file the folder holds, so a truncated or lost file is noticed (a `DamagedCache`
    warning names it) and the folder computed again.  It is written last, so an interrupted
    inversion is never mistaken for a finished one.
    """
    folder = Path(out) / label
    key = inversion_cache_key(G, targets, cfg, checkpoint)
    stored = _stored(folder / CACHE_KEY, key)
    if stored is not None:
        problem = damage(folder, stored.get("files"))
        if problem is None:
            _used(folder.name, computed=False, start=0.0)
            return folder, True
        warnings.warn(f"cached inversion {folder}: {problem}; inverting again", DamagedCache, stacklevel=2)
    start = time.perf_counter()
    (folder / CACHE_KEY).unlink(missing_ok=True)
    invert_to_folder(G, targets, cfg, folder, batch=batch, checkpoint=checkpoint, progress=show_progress)
    write_json(folder / CACHE_KEY, {**key, "files": manifest(folder, verifiable_files(folder))})
    _used(folder.name, computed=True, start=start)
    return folder, False


def inversion_cache_key(G: Generator, targets: ImageSet, cfg: InversionConfig, checkpoint: str | os.PathLike) -> dict:
    """What an inversion is computed from (`cached_inversion`'s key): the model file, the target
    pixels, the settings and the code (INVERSION_SOURCES)."""
    return {
        "checkpoint": str(checkpoint),
        "checkpoint_sha256": file_sha256(checkpoint),
        "images": targets.source,
        "images_sha256": tensor_sha256(targets.images),
        "count": len(targets),
        "inversion": cfg.to_dict(),
        "model": G.cfg.to_dict(),
        "code_sha256": source_hash(),
    }


def inversion_key(folder: str | os.PathLike) -> dict:
    """The key of a cached inversion folder, its file hashes aside (what a value derived from it keys on)."""
    return _without_hashes(json.loads((Path(folder) / CACHE_KEY).read_text()))


def cached_value(path: str | os.PathLike, key: dict, compute: Callable[[], Any]) -> tuple[Any, bool]:
    """`compute()`'s value (tensors, or lists and dicts of them), kept at `path` with its key beside it
    (``path`` + ``.key.json``, with the file's size and hash) and read back while the key matches and
    the file is whole; returns it and whether it was reused.  As for inversions, the key is written
    last, so an interrupted write is never reused, and a damaged file is computed again with a
    `DamagedCache` warning."""
    path = Path(path)
    key_file = path.with_name(path.name + ".key.json")
    stored = _stored(key_file, key)
    if stored is not None:
        problem = damage(path.parent, {path.name: stored["file"]} if "file" in stored else None)
        if problem is None:
            try:
                value = torch.load(path, map_location="cpu", weights_only=True)
                _used(f"{path.parent.name}/{path.name}", computed=False, start=0.0)
                return value, True
            except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
                problem = f"{path.name} cannot be read ({type(error).__name__})"
        warnings.warn(f"cached value {path}: {problem}; computing it again", DamagedCache, stacklevel=2)
    start = time.perf_counter()
    key_file.unlink(missing_ok=True)
    value = compute()
    torch_save(value, path)
    write_json(key_file, {**key, "file": manifest(path.parent, [path])[path.name]})
    _used(f"{path.parent.name}/{path.name}", computed=True, start=start)
    return value, False


def rehash(path: str | os.PathLike) -> None:
    """Records the present files of a cache entry as whole: an inversion folder (its key's file list)
    or a cached value (its key's file).  For a deliberate change, e.g. the flip check's swaps."""
    path = Path(path)
    if path.is_dir():
        key_file = path / CACHE_KEY
        stored = json.loads(key_file.read_text())
        stored["files"] = manifest(path, [path / name for name in stored.get("files", {})])
    else:
        key_file = path.with_name(path.name + ".key.json")
        stored = json.loads(key_file.read_text())
        stored["file"] = manifest(path.parent, [path])[path.name]
    write_json(key_file, stored)


def file_sha256(path: str | os.PathLike) -> str:
    return _sha256(Path(path).read_bytes())


def tensor_sha256(values: torch.Tensor) -> str:
    return _sha256(values.detach().cpu().contiguous().numpy().tobytes())

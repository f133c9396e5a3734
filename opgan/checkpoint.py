"""Checkpoint files: full training state (resumable) and generator-only exports (small, for inversion),
with the provenance record written beside an exported model."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from opgan.data import held_out_images, to_float
from opgan.diagnostics import distance_from_init, initial_generator
from opgan.errors import OpganError
from opgan.files import torch_save, write_json, write_text
from opgan.metrics import fd_vgg16
from opgan.networks import Generator, ModelConfig

FORMAT = "opgan-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(OpganError, ValueError):
    """A file that is not a usable opgan checkpoint; the message names it."""


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Writes `state` (which must hold "model_config" and "G_ema") atomically with the format tag."""
    torch_save({"format": FORMAT, "format_version": FORMAT_VERSION, **state}, path)


def read_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Loads and validates a checkpoint written by opgan (full or generator-only)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        # weights_only: a checkpoint is data, never code to run; our files hold only tensors and plain types.
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for foreign files
        raise CheckpointError(f"{path} is not a readable opgan checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an opgan checkpoint (no '{FORMAT}' tag)")
    if state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {state.get('format_version')}, this opgan reads {FORMAT_VERSION}"
        )
    return state


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[Generator, dict[str, Any]]:
    """The generator (its EMA weights) of a checkpoint, in eval mode, and the checkpoint's metadata."""
    state = read_checkpoint(path)
    if "G_ema" not in state:
        raise CheckpointError(f"{path} holds no generator weights ('G_ema')")
    try:
        generator = Generator(ModelConfig.from_dict(state["model_config"]))
        generator.load_state_dict(state["G_ema"])
    except (TypeError, ValueError, RuntimeError, KeyError) as error:
        raise CheckpointError(f"{path}: weights do not fit the model it describes ({error})") from None
    generator.eval().requires_grad_(False).to(device)
    meta = {key: value for key, value in state.items() if key not in ("G", "G_ema", "D", "opt_G", "opt_D")}
    return generator, meta


def export_generator(checkpoint: str | os.PathLike, path: str | os.PathLike) -> None:
    """Writes a small generator-only checkpoint (G_ema, config, provenance) from a full one."""
    state = read_checkpoint(checkpoint)
    keep = ("model_config", "train_config", "G_ema", "images_seen", "provenance", "wall_seconds")
    save_checkpoint({key: state[key] for key in keep if key in state}, path)


def export_model(checkpoint: str | os.PathLike, out: str | os.PathLike, fd_images: int = 1000) -> dict:
    """Writes the generator-only `out` and, beside it, ``out.json`` (provenance + FD-VGG16 of samples)
    and ``out.log.jsonl`` (the run's training log, when the run folder has one)."""
    export_generator(checkpoint, out)
    state = read_checkpoint(out)
    train_cfg = state.get("train_config", {})
    record = {
        "preset": train_cfg.get("preset"),
        "k": state["model_config"]["k"],
        "seed": train_cfg.get("seed"),
        "affine_lr_mul": state["model_config"].get("affine_lr_mul"),
        "images_seen": state.get("images_seen"),
        "wall_seconds": state.get("wall_seconds"),
        "source_checkpoint": str(checkpoint),
        **state.get("provenance", {}),
    }
    generator, _ = load_generator(out)
    start = initial_generator(generator.cfg, train_cfg.get("seed", 0)).state_dict()
    record["distance_from_init"] = distance_from_init(generator, start)  # of G_ema, median per module group
    if fd_images:
        real = to_float(held_out_images(state, fd_images).images)
        record["fd_vgg16_samples_vs_test"] = fd_vgg16(generator.sample(len(real), seed=123), real)
        record["fd_vgg16_images"] = len(real)
    log = Path(checkpoint).parent / "log.jsonl"
    if log.is_file():
        # An export on the way (train --export-at) keeps the log up to its own images, not the run's.
        seen = state.get("images_seen") or 0
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        kept = [line for line in lines if json.loads(line).get("images_seen", 0) <= seen]
        write_text(str(out) + ".log.jsonl", "".join(line + "\n" for line in kept))
    write_json(str(out) + ".json", record)
    return record

"""Checkpoint files: full training state (resumable) and generator-only exports (small, for inversion),
with the provenance record written beside an exported model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from opgan.errors import OpganError
from opgan.files import torch_save
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

"""The one owner of results folders: what `opgan invert` writes and how it is read back (when an
inversion is reused instead of computed again is the study's cache, `opgan.study.cache`).

A results folder holds ``results.csv`` (one row per image: image, space, k, latent sizes, steps,
PSNR, SSIM, LPIPS, MSE, seconds), ``grid.png`` (targets above their reconstructions),
``reconstructions/*.png`` and ``codes/*.pt`` (one code per image, for `opgan interpolate`), named
by a sanitized, unique file stem of the image's name (the code file and the table keep the name
itself), ``codes.pt`` (all codes), ``records.pt`` (metrics every N steps, when recorded), ``snapshots.pt``
(all codes part of the way through, when the settings ask for snapshots),
``provenance.json`` and, for cached inversions, ``cache-key.json``.

Every file is written atomically and the table is rewritten after each batch, so an interruption
leaves complete results for the batches already done; a file that cannot be written (a full disk,
a name the file system refuses) costs only that file, never the other results.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from opgan.data import ImageSet, to_float
from opgan.distributed import gather_to_writer
from opgan.environment import provenance
from opgan.errors import OpganError
from opgan.files import save_image_grid, torch_save, write_csv, write_json
from opgan.invert import InversionConfig, invert, latent_size, reconstruction_metrics, used_latent_size
from opgan.networks import Generator

CODE_FORMAT = "opgan-code"
COLUMNS = ["image", "space", "k", "latent_size", "used_latent_size", "steps", "psnr", "ssim", "lpips", "mse", "seconds"]
TEXT_COLUMNS = ("image", "space")


class ResultsError(OpganError, OSError):
    """A results folder or code file that cannot be used: some files could not be written (everything
    else was), or a code file is missing or not one that opgan wrote."""


def printable_name(name: str) -> str:
    """An image name as text that any file can hold: bytes that are not UTF-8 (file names arrive as
    surrogate escapes) are written as \\xNN escapes, so nothing is lost and the table stays UTF-8."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def file_stems(names: list[str]) -> list[str]:
    """A safe, unique file stem per image name: letters, digits, '.', '_' and '-' only; a stem
    already taken gets the image's index appended."""
    stems, taken = [], set()
    for index, name in enumerate(names):
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", printable_name(name)).strip("_.") or "image"
        if stem in taken:
            stem = f"{stem}-{index}"
        taken.add(stem)
        stems.append(stem)
    return stems


def invert_batch(
    G: Generator,
    images: ImageSet,
    start: int,
    batch: int,
    cfg: InversionConfig,
    metrics_lpips: str = "vgg",
    progress: bool = True,
) -> dict[str, Any]:
    """Inverts images[start : start + batch] and measures the reconstructions; everything on the CPU."""
    targets = to_float(images.images[start : start + batch])
    seeds = [cfg.seed + start + i for i in range(len(targets))]  # z starts depend on the image, not the batching
    result = invert(G, targets, cfg, seeds=seeds, progress=progress)
    metrics = reconstruction_metrics(result.reconstructions, targets, metrics_lpips)
    return {
        "start": start,
        "codes": result.codes.cpu(),
        "reconstructions": result.reconstructions.cpu(),
        "records": result.records,
        "snapshots": {steps: codes.cpu() for steps, codes in result.snapshots.items()},
        "seconds": result.seconds,
        "metrics": {key: value.cpu() for key, value in metrics.items()},
    }


def invert_to_folder(
    G: Generator,
    images: ImageSet,
    cfg: InversionConfig,
    out_dir: str | os.PathLike,
    batch: int = 16,
    checkpoint: str | os.PathLike | None = None,
    metrics_lpips: str = "vgg",
    progress: bool = True,
    rank: int = 0,
    world: int = 1,
) -> str:
    """Inverts every image in batches and writes the results folder; returns a one-line summary.
    Raises ResultsError, after writing everything it could, when some per-image files failed.

    Under torchrun (`world` > 1) the batches are dealt round-robin to the ranks and rank 0 writes
    the one folder, the same as a single process writes (codes equal to float rounding, the rows in
    the same order); the other ranks return an empty summary."""
    out, writer = Path(out_dir), rank == 0
    if writer:
        (out / "reconstructions").mkdir(parents=True, exist_ok=True)
        (out / "codes").mkdir(exist_ok=True)
        write_json(
            out / "provenance.json",
            provenance(
                G.mapping.w_avg.device,
                checkpoint=str(checkpoint),
                images=images.source,
                count=len(images),
                inversion=cfg.to_dict(),
                model=G.cfg.to_dict(),
                processes=world,
            ),
        )
    rows, all_codes, all_reconstructions, all_records, all_snapshots, failed = [], [], [], [], [], []
    stems, names = file_stems(images.names), [printable_name(name) for name in images.names]
    sizes = {"latent_size": latent_size(G, cfg.space), "used_latent_size": used_latent_size(G, cfg.space)}
    starts = range(0, len(images), batch)
    for round_start in range(0, len(starts), world):  # one batch per rank and round
        index = round_start + rank
        mine = (
            invert_batch(G, images, starts[index], batch, cfg, metrics_lpips, progress) if index < len(starts) else None
        )
        for done in gather_to_writer(mine):
            if done is None:
                continue
            count = len(done["codes"])
            for i in range(count):
                image = done["start"] + i
                try:
                    save_image_grid(
                        done["reconstructions"][i : i + 1],
                        out / "reconstructions" / f"{stems[image]}.png",
                        columns=1,
                        padding=0,
                    )
                    torch_save(
                        {
                            "format": CODE_FORMAT,
                            "space": cfg.space,
                            "code": done["codes"][i],
                            "image": names[image],
                            "checkpoint": str(checkpoint),
                            "k": G.cfg.k,
                        },
                        out / "codes" / f"{stems[image]}.pt",
                    )
                except OSError as error:
                    failed.append(f"{names[image]} ({error})")
                rows.append(
                    {
                        "image": names[image],
                        "space": cfg.space,
                        "k": G.cfg.k,
                        **sizes,
                        "steps": cfg.steps,
                        **{key: f"{done['metrics'][key][i].item():.6g}" for key in ("psnr", "ssim", "lpips", "mse")},
                        "seconds": f"{done['seconds'] / count:.3f}",
                    }
                )
            all_codes.append(done["codes"])
            all_reconstructions.append(done["reconstructions"])
            all_records.append(done["records"])
            all_snapshots.append(done["snapshots"])
        if writer:
            write_csv(out / "results.csv", rows, COLUMNS)
    if not writer:
        return ""
    torch_save(
        {
            "format": CODE_FORMAT,
            "space": cfg.space,
            "codes": torch.cat(all_codes),
            "images": names,
            "checkpoint": str(checkpoint),
            "k": G.cfg.k,
        },
        out / "codes.pt",
    )
    if cfg.record_every:  # convergence: "step" -> [R], metric -> [R, N] over all batches
        records = {key: torch.cat([r[key] for r in all_records], dim=1) for key in all_records[0] if key != "step"}
        torch_save({"step": all_records[0]["step"], **records}, out / "records.pt")
    if cfg.snapshots:  # "steps" -> [S], "codes" -> [S, N, ...] over all batches
        steps = sorted(all_snapshots[0])
        codes = torch.stack([torch.cat([batch[s] for batch in all_snapshots]) for s in steps])
        torch_save({"format": CODE_FORMAT, "space": cfg.space, "steps": steps, "codes": codes}, out / "snapshots.pt")
    # the batches were written in image order, so the targets are the images themselves
    save_image_grid(
        paired_rows(to_float(images.images), torch.cat(all_reconstructions)),
        out / "grid.png",
        columns=min(16, len(images)),
        scale=2,
    )
    if failed:
        raise ResultsError(
            f"{len(failed)} of {len(rows)} images' files could not be written to {out} "
            f"(their metrics and codes are in results.csv and codes.pt): {'; '.join(failed[:5])}"
        )
    mean = {key: sum(float(r[key]) for r in rows) / len(rows) for key in ("psnr", "ssim", "lpips")}
    return (
        f"inverted {len(rows)} images in {cfg.space} (k={G.cfg.k}, latent size {sizes['latent_size']}): "
        f"PSNR {mean['psnr']:.2f} dB, SSIM {mean['ssim']:.3f}, LPIPS {mean['lpips']:.3f}; results in {out}"
    )


def paired_rows(targets: torch.Tensor, reconstructions: torch.Tensor, columns: int = 16) -> torch.Tensor:
    """Interleaves rows of `columns` targets with the rows of their reconstructions, for a grid."""
    chunks = []
    for start in range(0, len(targets), columns):
        t, r = targets[start : start + columns], reconstructions[start : start + columns]
        pad = columns - len(t)
        if pad and len(targets) > columns:
            blank = torch.full((pad, *t.shape[1:]), -1.0)
            t, r = torch.cat([t, blank]), torch.cat([r, blank])
        chunks += [t, r]
    return torch.cat(chunks)


# --------------------------------------------------------------------------- reading back


def read_table(path: str | os.PathLike, text: tuple[str, ...] = ()) -> list[dict]:
    """The rows of a CSV table written by `files.write_csv`, numbers parsed exactly (except in the
    `text` columns, and in columns that hold text anyway); empty cells of text columns stay ''."""
    table = pd.read_csv(path, dtype={column: str for column in text})  # pandas 3 parses floats exactly
    for column in table.columns:
        if not pd.api.types.is_numeric_dtype(table[column]):
            table[column] = table[column].astype(object).fillna("")
    return table.to_dict("records")


def read_results(folder: str | os.PathLike, **extra: Any) -> list[dict]:
    """The rows of a results folder's results.csv, numbers parsed, with `extra` columns added."""
    return [{**row, **extra} for row in read_table(Path(folder) / "results.csv", text=TEXT_COLUMNS)]


def read_records(folder: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Per-step metric records of a results folder: "step" -> [R], metric -> [R, N]."""
    return torch.load(Path(folder) / "records.pt", map_location="cpu", weights_only=True)


def read_snapshots(folder: str | os.PathLike) -> dict[int, torch.Tensor]:
    """The codes of a results folder part of the way through its inversion: steps done -> [N, ...]
    (empty when its settings asked for no snapshots)."""
    path = Path(folder) / "snapshots.pt"
    if not path.is_file():
        return {}
    saved = torch.load(path, map_location="cpu", weights_only=True)
    return dict(zip(saved["steps"], saved["codes"]))


def read_codes(folder: str | os.PathLike) -> torch.Tensor:
    """All codes of a results folder, [N, ...]."""
    return torch.load(Path(folder) / "codes.pt", map_location="cpu", weights_only=True)["codes"]


@torch.no_grad()
def reconstructions(G: Generator, folder: str | os.PathLike) -> torch.Tensor:
    """The reconstructions of a results folder, regenerated from its codes."""
    saved = torch.load(Path(folder) / "codes.pt", map_location="cpu", weights_only=True)
    return G.synthesize(saved["codes"].to(G.mapping.w_avg.device), saved["space"]).clamp(-1, 1).cpu()


def read_code(path: str | os.PathLike) -> dict:
    """One image's code file (codes/NAME.pt), checked."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"code file {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ResultsError(f"{path} is not a readable code file ({type(error).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CODE_FORMAT or "code" not in state:
        raise ResultsError(f"{path} is not a single-image code written by opgan invert")
    return state

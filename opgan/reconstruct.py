"""Inverting a set of images into a results folder, and interpolation strips: what `opgan invert`
and `opgan interpolate` do, usable from notebooks too.

A results folder holds ``results.csv`` (one row per image: image, space, k, latent sizes, steps,
PSNR, SSIM, LPIPS, MSE, seconds), ``grid.png`` (targets above their reconstructions),
``reconstructions/*.png``, ``codes/*.pt`` (one code per image, for `opgan interpolate`),
``codes.pt`` (all codes), ``records.pt`` (metrics every N steps, when recorded) and
``provenance.json``.  Every file is written atomically and the table is rewritten after each
batch, so an interruption leaves complete results for the batches already done.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from opgan.data import ImageSet, load_images, to_float
from opgan.files import provenance, save_image_grid, torch_save, write_csv, write_json
from opgan.invert import (
    InversionConfig, config_dict, invert, latent_size, reconstruction_metrics, used_latent_size,
)
from opgan.interpolate import frames as path_frames
from opgan.networks import Generator

CODE_FORMAT = "opgan-code"
COLUMNS = ["image", "space", "k", "latent_size", "used_latent_size", "steps", "psnr", "ssim", "lpips", "mse", "seconds"]


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "image"


def invert_to_folder(
    G: Generator,
    images: ImageSet,
    cfg: InversionConfig,
    out_dir: str | os.PathLike,
    batch: int = 16,
    checkpoint: str | os.PathLike | None = None,
    metrics_lpips: str = "vgg",
    progress: bool = True,
) -> str:
    """Inverts every image in batches and writes the results folder; returns a one-line summary."""
    out = Path(out_dir)
    (out / "reconstructions").mkdir(parents=True, exist_ok=True)
    (out / "codes").mkdir(exist_ok=True)
    write_json(out / "provenance.json", provenance(
        G.mapping.w_avg.device, checkpoint=str(checkpoint), images=images.source, count=len(images),
        inversion=config_dict(cfg), model=G.cfg.to_dict(),
    ))
    rows, all_codes, targets_all, recon_all, all_records = [], [], [], [], []
    names = [safe_name(n) for n in images.names]
    for start in range(0, len(images), batch):
        targets = to_float(images.images[start : start + batch])
        seeds = [cfg.seed + start + i for i in range(len(targets))]
        result = invert(G, targets, cfg, seeds=seeds, progress=progress)
        metrics = reconstruction_metrics(result.reconstructions, targets, metrics_lpips)
        per_image_seconds = result.seconds / len(targets)
        for i in range(len(targets)):
            name = names[start + i]
            save_image_grid(result.reconstructions[i : i + 1], out / "reconstructions" / f"{name}.png", columns=1, padding=0)
            torch_save({"format": CODE_FORMAT, "space": cfg.space, "code": result.codes[i].cpu(), "image": images.names[start + i],
                        "checkpoint": str(checkpoint), "k": G.cfg.k}, out / "codes" / f"{name}.pt")
            rows.append({
                "image": images.names[start + i], "space": cfg.space, "k": G.cfg.k,
                "latent_size": latent_size(G, cfg.space), "used_latent_size": used_latent_size(G, cfg.space),
                "steps": cfg.steps, **{key: f"{metrics[key][i].item():.6g}" for key in ("psnr", "ssim", "lpips", "mse")},
                "seconds": f"{per_image_seconds:.3f}",
            })
        write_csv(out / "results.csv", rows, COLUMNS)
        all_codes.append(result.codes.cpu())
        targets_all.append(targets.cpu())
        recon_all.append(result.reconstructions.cpu())
        all_records.append(result.records)
    torch_save({"format": CODE_FORMAT, "space": cfg.space, "codes": torch.cat(all_codes), "images": images.names,
                "checkpoint": str(checkpoint), "k": G.cfg.k}, out / "codes.pt")
    if cfg.record_every:  # convergence: "step" -> [R], metric -> [R, N] over all batches
        records = {key: torch.cat([r[key] for r in all_records], dim=1) for key in all_records[0] if key != "step"}
        torch_save({"step": all_records[0]["step"], **records}, out / "records.pt")
    targets_all, recon_all = torch.cat(targets_all), torch.cat(recon_all)
    save_image_grid(paired_rows(targets_all, recon_all), out / "grid.png", columns=min(16, len(targets_all)), scale=2)
    mean = {key: sum(float(r[key]) for r in rows) / len(rows) for key in ("psnr", "ssim", "lpips")}
    return (f"inverted {len(rows)} images in {cfg.space} (k={G.cfg.k}, latent size {latent_size(G, cfg.space)}): "
            f"PSNR {mean['psnr']:.2f} dB, SSIM {mean['ssim']:.3f}, LPIPS {mean['lpips']:.3f}; results in {out}")


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


def read_code(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"code file {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path} is not a readable code file ({type(error).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != CODE_FORMAT or "code" not in state:
        raise ValueError(f"{path} is not a single-image code written by opgan invert")
    return state


def interpolation_strip(
    G: Generator,
    out: str | os.PathLike,
    frames: int = 8,
    codes: list[str] | None = None,
    images: list[str] | None = None,
    cfg: InversionConfig | None = None,
) -> torch.Tensor:
    """Saves a strip from A to B (targets at both ends when inverting images) and returns its images."""
    if frames < 2:
        raise ValueError(f"--frames must be at least 2 (the two endpoints), got {frames}")
    device = G.mapping.w_avg.device
    ends = []
    if codes is not None:
        states = [read_code(path) for path in codes]
        if states[0]["space"] != states[1]["space"]:
            raise ValueError(f"codes are from different spaces: {states[0]['space']} and {states[1]['space']}")
        expected = G.cfg.k
        for path, state in zip(codes, states):
            if state["k"] != expected:
                raise ValueError(f"{path} is a code for k={state['k']}, the checkpoint's model has k={expected}")
        space = states[0]["space"]
        a, b = (state["code"].unsqueeze(0).to(device) for state in states)
    else:
        cfg = cfg or InversionConfig()
        targets = torch.cat([
            to_float(load_images(path, G.cfg.resolution, G.cfg.img_channels, split="all").images[:1]) for path in images
        ])
        result = invert(G, targets, cfg)
        space = cfg.space
        a, b = result.codes[:1], result.codes[1:2]
        ends = [targets[:1].to(device), targets[1:2].to(device)]
    alphas = [i / (frames - 1) for i in range(frames)]
    strip = path_frames(G, a, b, space, alphas)[:, 0]
    if ends:
        strip = torch.cat([ends[0], strip, ends[1]])
    save_image_grid(strip, out, columns=len(strip), scale=2)
    return strip

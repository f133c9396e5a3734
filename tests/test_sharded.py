"""`torchrun -m opgan invert` splits the images across processes and writes the folder that one
process writes: the same rows in the same order, codes equal up to float rounding."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import tiny_generator

from opgan.checkpoint import save_checkpoint
from opgan.files import save_image_grid
from opgan.results import read_codes, read_results

NUMBERS = ("psnr", "ssim", "lpips", "mse")


def invert_command(checkpoint: Path, images: Path, out: Path, device: str) -> list[str]:
    return [
        "-m",
        "opgan",
        "invert",
        "--checkpoint",
        str(checkpoint),
        "--images",
        str(images),
        "--out",
        str(out),
        "--batch",
        "2",
        "--steps",
        "6",
        "--space",
        "z",
        "--lpips",
        "none",
        "--mse-weight",
        "1",
        "--device",
        device,
    ]


def run(args: list[str], cwd: Path, threads: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]


def compare_folders(single: Path, sharded: Path) -> None:
    rows, sharded_rows = read_results(single), read_results(sharded)
    assert [r["image"] for r in sharded_rows] == [r["image"] for r in rows]
    for row, other in zip(rows, sharded_rows):
        assert {k: v for k, v in other.items() if k not in NUMBERS + ("seconds",)} == {
            k: v for k, v in row.items() if k not in NUMBERS + ("seconds",)
        }
        for key in NUMBERS:
            assert other[key] == pytest.approx(row[key], rel=1e-3, abs=1e-5), (row["image"], key)
    torch.testing.assert_close(read_codes(sharded), read_codes(single), atol=1e-4, rtol=1e-4)
    assert sorted(p.name for p in (sharded / "codes").iterdir()) == sorted(p.name for p in (single / "codes").iterdir())


def make_inputs(tmp_path: Path) -> tuple[Path, Path]:
    G = tiny_generator(k=2)
    checkpoint = tmp_path / "generator.pt"
    save_checkpoint({"model_config": G.cfg.to_dict(), "G_ema": G.state_dict()}, checkpoint)
    folder = tmp_path / "images"
    folder.mkdir()
    with torch.no_grad():
        images = G.sample(7, seed=3)  # 7 images in batches of 2: the last batch is short and one rank idles
    for i, image in enumerate(images):
        save_image_grid(image[None], folder / f"img{i}.png", columns=1, padding=0)
    return checkpoint, folder


NEEDS_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (runs where one is present)")


@pytest.mark.slow
@pytest.mark.parametrize(
    "device, processes", [("cpu", 2), pytest.param("cuda", 1, marks=NEEDS_CUDA)], ids=["gloo-2", "nccl-1"]
)
def test_torchrun_writes_the_single_process_folder(tmp_path, device, processes):
    """gloo with 2 processes on the CPU; NCCL with one process per GPU where CUDA is present."""
    checkpoint, folder = make_inputs(tmp_path)
    root = Path(__file__).resolve().parents[1]
    run([sys.executable, *invert_command(checkpoint, folder, tmp_path / "single", device)], root, threads=2)
    run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            str(processes),
            *invert_command(checkpoint, folder, tmp_path / "sharded", device),
        ],
        root,
        threads=2 // processes,
    )
    compare_folders(tmp_path / "single", tmp_path / "sharded")

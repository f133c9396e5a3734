"""What a result was made with: the device, the code and package versions, and the provenance
record that every result file carries."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from opgan.errors import ConfigError

PACKAGE_ROOT = Path(__file__).resolve().parent
RECORDED_PACKAGES = ("torch", "numpy", "lpips", "torchmetrics", "matplotlib", "papermill", "jupyter-book")


def pick_device(device: str | None = "auto") -> str:
    """ "auto" (or None) -> cuda when available, else cpu; a CUDA device asked for must exist."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for, but no CUDA device is available")
    return device


def code_version() -> str:
    """`git describe` of the checkout the package runs from (``-dirty`` when tracked files other than
    the outputs in book/ and checkpoints/ changed), else the installed package version."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=10)

    try:
        described = git("describe", "--always", "--abbrev=12")
        if described.returncode == 0 and described.stdout.strip():
            # a book build rewrites the executed notebooks it is recording the provenance of
            changed = git(
                "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)book", ":(exclude)checkpoints"
            )
            return described.stdout.strip() + ("-dirty" if changed.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    from opgan import __version__

    return f"opgan-{__version__}"


def processor() -> tuple[str, bool]:
    """The processor's model name and whether it has AVX-512 (Linux; elsewhere what platform says)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        text = cpuinfo.read_text()
        name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "")
        return name or platform.processor(), " avx512f" in text
    return platform.processor(), False


def device_description(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({processor()[0] or platform.machine()}, {torch.get_num_threads()} threads)"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance(device: torch.device | str = "cpu", **extra: Any) -> dict:
    """What produced a result: code and package versions, device, time, plus the caller's fields."""
    return {
        "code_version": code_version(),
        "python": platform.python_version(),
        **package_versions(),
        "device": device_description(device),
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }

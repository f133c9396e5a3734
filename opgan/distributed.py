"""Several processes under ``torchrun``: the process group, gradient averaging for training and
gathering results for inversion (gloo on CPU, NCCL on CUDA).  Without torchrun every function
here is the single-process case: rank 0 of a world of 1."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist

from opgan.environment import pick_device


def process_placement(device: str | None = None) -> tuple[int, int, torch.device]:
    """(rank, world size, device) of this process, starting nothing: rank 0 of 1 unless a process
    group is running.  The device is `device` ("auto" or None: CUDA when available); under torchrun
    a CUDA device is the rank's local GPU, made the current one."""
    world = dist.get_world_size() if dist.is_initialized() else int(os.environ.get("WORLD_SIZE", "1"))
    rank = dist.get_rank() if dist.is_initialized() else int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    picked = torch.device(pick_device(device))
    if picked.type == "cuda":
        if world > 1 or picked.index is None:  # under torchrun each rank takes its local GPU
            picked = torch.device("cuda", local_rank)
        torch.cuda.set_device(picked)
    return rank, world, picked


def setup_distributed(device: str | None = None) -> tuple[int, int, torch.device]:
    """`process_placement`, after starting the process group when launched by torchrun (gloo on
    CPU, NCCL on CUDA).  Whoever calls this owns the group and ends it with `close_distributed`."""
    launched = "RANK" in os.environ and "MASTER_ADDR" in os.environ  # by torchrun, even with one process
    if launched and not dist.is_initialized():
        picked = torch.device(pick_device(device))
        dist.init_process_group(backend="nccl" if picked.type == "cuda" else "gloo")
    return process_placement(device)


def average_gradients(module: torch.nn.Module) -> None:
    """All-reduce every gradient as one flat buffer (every parameter gets one, so ranks agree on the layout)."""
    if not dist.is_initialized():
        return
    params = list(module.parameters())
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.flatten() for p in params])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for p in params:
        p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
        offset += p.numel()


def gather_to_writer(item: Any) -> list[Any]:
    """Every rank's `item` (any picklable object), in rank order, on rank 0; an empty list elsewhere."""
    if not dist.is_initialized():
        return [item]
    gathered: list[Any] | None = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(item, gathered, dst=0)
    return gathered or []


def close_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()

"""Shared by the benchmarks (run as this folder's scripts): FLOPs, the machine's matmul peak, a
training configuration that never stops or writes, and the held-out images settings are tuned on."""

from __future__ import annotations

import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from opgan.data import load_images, to_float
from opgan.presets import make_config
from opgan.train import TrainConfig

TUNING_START = 1000  # Fashion-MNIST test images from here on: apart from the book's (see data.held_out_images)


def timing_config(preset: str, model_overrides: dict, **train_overrides) -> TrainConfig:
    """A preset's training configuration for timing steps: no end, no checkpoints, no samples."""
    return make_config(
        preset, model_overrides, total_images=10**12, checkpoint_every=0, sample_every=0, **train_overrides
    )


def tuning_images(count: int) -> torch.Tensor:
    """`count` held-out Fashion-MNIST test images in [-1, 1], from TUNING_START on."""
    return to_float(load_images(f"fashion-mnist:test:{TUNING_START + count}").images[TUNING_START:])


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def convolution_backward_flops(grad_output: torch.Tensor, weight: torch.Tensor, output_mask: list[bool]) -> int:
    """Each of grad-input and grad-weight costs one forward convolution: 2 x outputs x (in/groups x kh x kw)."""
    forward = 2 * grad_output.numel() * weight[0].numel()  # weight is [out, in/groups, kh, kw]
    return forward * (int(output_mask[0]) + int(output_mask[1]))


class FlopCount(TorchDispatchMode):
    """Counts FLOPs of every op PyTorch's flop registry knows (matmuls, convolutions, forward and backward).

    FlopCounterMode itself cannot be used: its module tracker breaks on the R1 penalty's
    autograd.grad(create_graph=True), and its convolution_backward count ignores groups
    (torch 2.14: it counts a convolution grouped by sample N times too much).
    """

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func._overloadpacket is torch.ops.aten.convolution_backward:
            self.flops += convolution_backward_flops(args[0], args[2], args[-1])
        elif (counter := flop_registry.get(func._overloadpacket)) is not None:
            self.flops += counter(*args, **kwargs, out_val=out)
        return out

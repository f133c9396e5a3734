"""The training objective, as in StyleGAN2-ADA's ``loss.py``: non-saturating logistic losses, lazy
R1 on reals, and the paper's two training changes to StyleGAN2's regularizers, both over the whole
k-row style matrix of a slot:

- style mixing swaps whole slot matrices (all k rows of a slot come from the second latent);
- path-length regularization measures the gradient with respect to every slot's k x w_dim matrix.

Statistics are returned as detached tensors on the training device: the trainer sums them there
and reads them once per log interval, so no step waits for the device.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch
import torch.distributed as dist
import torch.nn.functional as F

from opgan.networks import Discriminator, Generator


def mix_styles(
    G: Generator, z: torch.Tensor, mix_z: torch.Tensor | None, cutoff: torch.Tensor | None, update_w_avg: bool = False
) -> torch.Tensor:
    """W+ codes [N, num_ws, k, w_dim] of z; with `mix_z`, slots >= cutoff[n] take image n's whole
    slot matrices from mix_z (style mixing; cutoff = num_ws keeps all of z)."""
    ws = G.broadcast_ws(G.mapping(z, update_w_avg=update_w_avg))
    if mix_z is None:
        return ws.contiguous()
    mix_ws = G.broadcast_ws(G.mapping(mix_z))
    slot = torch.arange(G.num_ws, device=z.device).view(1, -1, 1, 1)
    return torch.where(slot >= cutoff.view(-1, 1, 1, 1), mix_ws, ws)


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Squared norm of the discriminator's gradient at each real image (real must require grad)."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3))


def path_lengths(images: torch.Tensor, ws: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """StyleGAN2's path length, over the whole k-row matrix of every slot: ws is [N, num_ws, k, dim].

    The authors' code averages the squared gradient norm over all num_ws x k row vectors, takes the
    root and multiplies by sqrt(k) (their ``ppl_power`` 0.5); that is the root of the mean over
    slots of each slot matrix's squared Frobenius norm.  For k = 1 this is StyleGAN2's.
    """
    (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    return grad.square().sum(dim=(2, 3)).mean(dim=1).sqrt()


class StyleGAN2Loss:
    """The three phases of an iteration; the caller owns the latents, optimizers and backward calls."""

    def __init__(
        self,
        G: Generator,
        D: Discriminator,
        r1_gamma: float,
        r1_interval: int,
        pl_weight: float,
        pl_interval: int,
        pl_decay: float,
        autocast: AbstractContextManager | None = None,
        world: int = 1,
    ) -> None:
        self.G, self.D = G, D
        self.r1_gamma, self.r1_interval = r1_gamma, r1_interval
        self.pl_weight, self.pl_interval, self.pl_decay = pl_weight, pl_interval, pl_decay
        self.autocast = autocast or nullcontext()
        self.world = world
        self.pl_mean = torch.zeros([], device=G.mapping.w_avg.device)

    def generate(
        self, z: torch.Tensor, mix_z: torch.Tensor | None, cutoff: torch.Tensor | None, update_w_avg: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images and the W+ codes that made them (see `mix_styles`)."""
        with self.autocast:
            ws = mix_styles(self.G, z, mix_z, cutoff, update_w_avg)
            return self.G.synthesis(ws), ws

    def discriminator(self, fake: torch.Tensor, real: torch.Tensor, with_r1: bool) -> tuple[torch.Tensor, dict]:
        """Logistic loss on detached fakes and reals, plus the lazy R1 term (scaled by its interval)
        when `with_r1` (then `real` must require grad)."""
        with self.autocast:
            fake_logits = self.D(fake.detach())
            real_logits = self.D(real)
        loss = F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()
        stats = {
            "loss_D": loss.detach(),
            "real_score": real_logits.detach().float().mean(),
            "fake_score": fake_logits.detach().float().mean(),
        }
        total = loss
        if with_r1:
            penalty = r1_penalty(real_logits.float(), real).mean()
            total = total + penalty * (self.r1_gamma / 2) * self.r1_interval
            stats["r1_penalty"] = penalty.detach()
        return total, stats

    def generator(self, fake: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Non-saturating loss of the fakes through the current discriminator."""
        with self.autocast:
            loss = F.softplus(-self.D(fake)).mean()
        return loss, {"loss_G": loss.detach()}

    def path_length(self, fake: torch.Tensor, ws: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Lazy path-length term (scaled by weight and interval); updates the running mean length,
        averaged over ranks so every rank keeps the same one."""
        lengths = path_lengths(fake.float(), ws, noise).float()  # ws and its gradient are bf16 under autocast
        pl_mean = self.pl_mean.lerp(lengths.detach().mean(), self.pl_decay)
        if self.world > 1:
            dist.all_reduce(pl_mean)
            pl_mean /= self.world
        self.pl_mean.copy_(pl_mean)
        penalty = (lengths - pl_mean).square().mean()
        return penalty * self.pl_weight * self.pl_interval, {"pl_penalty": penalty.detach()}
